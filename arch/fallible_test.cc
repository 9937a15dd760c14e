// The fallible primitives in Linux processes (host and qemu-riscv64), with
// real faults: PROT_NONE guard pages (SIGSEGV) and pages beyond the end of a
// truncated file (SIGBUS), recovered by the fault handler through the
// exception table.
//
// The exhaustive tests put the first unreadable (or unwritable) byte at every
// position of every copy of 0..256 bytes. The faulting side's buffer ends at
// a guard page, so its alignment is set by the fault position (all residues
// mod 16 occur); the other side's misalignment runs over 0..15 for each
// position. Non-faulting copies run over all 16 x 16 pairs.
#include <arch/extable.h>
#include <arch/fallible.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hv/base/check.h>
#include <algorithm>
#include <cstring>
#include <vector>

namespace hv::arch {
namespace {

constexpr size_t kMaxLen = 256;
constexpr size_t kMisalignments = 16;
// Bytes checked on each side of a destination for stray writes.
constexpr size_t kMargin = 32;
constexpr uint8_t kCanary = 0xff;
constexpr uint8_t kFill = 0x5a;

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// Source bytes: never kCanary or kFill, with no short period.
uint8_t Pattern(size_t i) { return static_cast<uint8_t>(i % 89); }

// `pages` read-write pages followed by one PROT_NONE guard page.
class GuardedMapping {
 public:
  explicit GuardedMapping(size_t pages) : size_((pages + 1) * PageSize()) {
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HV_CHECK(p != MAP_FAILED, "mmap failed");
    base_ = static_cast<uint8_t*>(p);
    HV_CHECK(mprotect(guard(), PageSize(), PROT_NONE) == 0, "mprotect failed");
  }
  ~GuardedMapping() { munmap(base_, size_); }
  GuardedMapping(const GuardedMapping&) = delete;
  GuardedMapping& operator=(const GuardedMapping&) = delete;

  // The first byte of the guard page: the end of the accessible pages.
  uint8_t* guard() const { return base_ + size_ - PageSize(); }

 private:
  size_t size_;
  uint8_t* base_;
};

// A heap buffer with a 64-byte-aligned start, for choosing misalignments.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t size) : storage_(size + 64) {}
  uint8_t* at(size_t offset) {
    // SAFETY: rounding up to 64 stays within the 64 extra bytes of storage_.
    const auto start = reinterpret_cast<uintptr_t>(storage_.data());
    return reinterpret_cast<uint8_t*>((start + 63) & ~uintptr_t{63}) + offset;
  }

 private:
  std::vector<uint8_t> storage_;
};

bool AllEqual(const uint8_t* p, size_t n, uint8_t value) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != value) return false;
  }
  return true;
}

// A copy or fill of `len` bytes to `dst` that returned `returned` and had to
// stop after `done` bytes. `expected` holds the bytes [dst, dst + done) must
// hold (nullptr: all `fill`). The kMargin bytes before dst, and `after` bytes
// from dst + done, must still hold kCanary.
::testing::AssertionResult CheckDone(const uint8_t* dst, size_t len, size_t done, size_t returned,
                                     const uint8_t* expected, uint8_t fill, size_t after) {
  if (returned != len - done) {
    return ::testing::AssertionFailure()
           << "returned " << returned << ", expected " << len - done << " bytes not done";
  }
  for (size_t i = 0; i < done; ++i) {
    const uint8_t want = expected != nullptr ? expected[i] : fill;
    if (dst[i] != want) {
      return ::testing::AssertionFailure()
             << "byte " << i << " is " << int{dst[i]} << ", expected " << int{want};
    }
  }
  if (!AllEqual(dst - kMargin, kMargin, kCanary)) {
    return ::testing::AssertionFailure() << "wrote before the destination";
  }
  if (!AllEqual(dst + done, after, kCanary)) {
    return ::testing::AssertionFailure() << "wrote at or after byte " << done;
  }
  return ::testing::AssertionSuccess();
}

class FallibleTest : public ::testing::Test {
 protected:
  void SetUp() override { InstallFaultHandler(); }
};

using FallibleCopyTest = FallibleTest;
using FallibleSetTest = FallibleTest;

TEST_F(FallibleCopyTest, CopiesEveryLengthAndAlignment) {
  AlignedBuffer src_buf(kMisalignments + kMaxLen);
  AlignedBuffer dst_buf(kMargin + kMisalignments + kMaxLen + kMargin);
  for (size_t i = 0; i < kMisalignments + kMaxLen; ++i) *src_buf.at(i) = Pattern(i);
  for (size_t len = 0; len <= kMaxLen; ++len) {
    for (size_t s = 0; s < kMisalignments; ++s) {
      for (size_t d = 0; d < kMisalignments; ++d) {
        uint8_t* dst = dst_buf.at(kMargin + d);
        memset(dst - kMargin, kCanary, len + 2 * kMargin);
        const size_t r = hv_memcpy_fallible(dst, src_buf.at(s), len);
        ASSERT_TRUE(CheckDone(dst, len, len, r, src_buf.at(s), 0, kMargin))
            << "len " << len << ", src misalignment " << s << ", dst misalignment " << d;
      }
    }
  }
}

TEST_F(FallibleCopyTest, SourceFaultAtEveryPosition) {
  GuardedMapping src_map(1);
  uint8_t* const guard = src_map.guard();
  // SAFETY: the page before the guard page is the mapping's read-write page.
  for (size_t i = 1; i <= PageSize(); ++i) guard[-static_cast<ptrdiff_t>(i)] = Pattern(i);
  AlignedBuffer dst_buf(kMargin + kMisalignments + kMaxLen + kMargin);
  for (size_t len = 0; len <= kMaxLen; ++len) {
    // done == len: the source ends right at the guard page.
    for (size_t done = 0; done <= len; ++done) {
      const uint8_t* src = guard - done;
      for (size_t d = 0; d < kMisalignments; ++d) {
        uint8_t* dst = dst_buf.at(kMargin + d);
        memset(dst - kMargin, kCanary, len + 2 * kMargin);
        const size_t r = hv_memcpy_fallible(dst, src, len);
        ASSERT_TRUE(CheckDone(dst, len, done, r, src, 0, len - done + kMargin))
            << "len " << len << ", source fault at byte " << done << ", dst misalignment " << d;
      }
    }
  }
}

TEST_F(FallibleCopyTest, DestinationFaultAtEveryPosition) {
  GuardedMapping dst_map(1);
  uint8_t* const guard = dst_map.guard();
  AlignedBuffer src_buf(kMisalignments + kMaxLen);
  for (size_t i = 0; i < kMisalignments + kMaxLen; ++i) *src_buf.at(i) = Pattern(i);
  for (size_t len = 0; len <= kMaxLen; ++len) {
    for (size_t done = 0; done <= len; ++done) {
      uint8_t* dst = guard - done;
      for (size_t s = 0; s < kMisalignments; ++s) {
        memset(dst - kMargin, kCanary, kMargin + done);
        const size_t r = hv_memcpy_fallible(dst, src_buf.at(s), len);
        // Everything from dst + done on is the guard page.
        ASSERT_TRUE(CheckDone(dst, len, done, r, src_buf.at(s), 0, 0))
            << "len " << len << ", destination fault at byte " << done << ", src misalignment "
            << s;
      }
    }
  }
}

// Long enough for the large-copy path (x86_64: rep movsb), with the fault
// at every position near the start, the end and each page boundary the copy
// crosses, and at a stride elsewhere.
std::vector<size_t> LargeFaultPositions(size_t len) {
  std::vector<size_t> positions;
  for (size_t done = 0; done <= len; ++done) {
    const size_t in_page = done % PageSize();
    if (done < 80 || len - done < 80 || in_page < 40 || PageSize() - in_page < 40 ||
        done % 37 == 0) {
      positions.push_back(done);
    }
  }
  return positions;
}

constexpr size_t kLargeLens[] = {257, 511, 512, 513, 1023, 1024, 1025, 4096, 3 * 4096 - 3};

TEST_F(FallibleCopyTest, LargeCopiesStopAtTheFault) {
  constexpr size_t kPages = 4;
  const size_t span = kPages * PageSize();
  GuardedMapping src_map(kPages);
  GuardedMapping dst_map(kPages);
  uint8_t* const src_guard = src_map.guard();
  uint8_t* const dst_guard = dst_map.guard();
  // SAFETY: the span bytes before each guard page are the mapping's
  // read-write pages.
  for (size_t i = 1; i <= span; ++i) src_guard[-static_cast<ptrdiff_t>(i)] = Pattern(i);
  AlignedBuffer src_buf(kMisalignments + span);
  for (size_t i = 0; i < kMisalignments + span; ++i) *src_buf.at(i) = Pattern(i);
  AlignedBuffer dst_buf(kMargin + kMisalignments + span + kMargin);
  for (size_t len : kLargeLens) {
    ASSERT_LE(len + kMisalignments, span);
    for (size_t done : LargeFaultPositions(len)) {
      for (size_t mis : {size_t{0}, size_t{1}, size_t{8}, size_t{13}}) {
        uint8_t* dst = dst_buf.at(kMargin + mis);
        memset(dst - kMargin, kCanary, len + 2 * kMargin);
        size_t r = hv_memcpy_fallible(dst, src_guard - done, len);
        ASSERT_TRUE(CheckDone(dst, len, done, r, src_guard - done, 0, len - done + kMargin))
            << "len " << len << ", source fault at byte " << done << ", dst misalignment " << mis;

        dst = dst_guard - done;
        memset(dst - kMargin, kCanary, kMargin + done);
        r = hv_memcpy_fallible(dst, src_buf.at(mis), len);
        ASSERT_TRUE(CheckDone(dst, len, done, r, src_buf.at(mis), 0, 0))
            << "len " << len << ", destination fault at byte " << done << ", src misalignment "
            << mis;
      }
    }
  }
}

TEST_F(FallibleSetTest, SetsEveryLengthAndAlignment) {
  AlignedBuffer dst_buf(kMargin + kMisalignments + kMaxLen + kMargin);
  for (size_t len = 0; len <= kMaxLen; ++len) {
    for (size_t d = 0; d < kMisalignments; ++d) {
      uint8_t* dst = dst_buf.at(kMargin + d);
      memset(dst - kMargin, kCanary, len + 2 * kMargin);
      // Only the low byte of the value counts, as for memset.
      const size_t r = hv_memset_fallible(dst, 0x100 | kFill, len);
      ASSERT_TRUE(CheckDone(dst, len, len, r, nullptr, kFill, kMargin))
          << "len " << len << ", dst misalignment " << d;
    }
  }
}

TEST_F(FallibleSetTest, FaultAtEveryPosition) {
  GuardedMapping dst_map(1);
  uint8_t* const guard = dst_map.guard();
  for (size_t len = 0; len <= kMaxLen; ++len) {
    for (size_t done = 0; done <= len; ++done) {
      uint8_t* dst = guard - done;
      memset(dst - kMargin, kCanary, kMargin + done);
      const size_t r = hv_memset_fallible(dst, kFill, len);
      ASSERT_TRUE(CheckDone(dst, len, done, r, nullptr, kFill, 0))
          << "len " << len << ", fault at byte " << done;
    }
  }
}

TEST_F(FallibleSetTest, LargeFillsStopAtTheFault) {
  constexpr size_t kPages = 4;
  GuardedMapping map(kPages);
  uint8_t* const guard = map.guard();
  for (size_t len : kLargeLens) {
    for (size_t done : LargeFaultPositions(len)) {
      uint8_t* dst = guard - done;
      memset(dst - kMargin, kCanary, kMargin + done);
      const size_t r = hv_memset_fallible(dst, kFill, len);
      ASSERT_TRUE(CheckDone(dst, len, done, r, nullptr, kFill, 0))
          << "len " << len << ", fault at byte " << done;
    }
  }
}

// A shared file mapping whose second page lies beyond the end of the file:
// touching it raises SIGBUS, not SIGSEGV.
class TruncatedFileMapping {
 public:
  TruncatedFileMapping() {
    fd_ = memfd_create("fallible_test", MFD_CLOEXEC);
    HV_CHECK(fd_ >= 0, "memfd_create failed");
    HV_CHECK(ftruncate(fd_, static_cast<off_t>(2 * PageSize())) == 0, "ftruncate failed");
    void* p = mmap(nullptr, 2 * PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    HV_CHECK(p != MAP_FAILED, "mmap failed");
    base_ = static_cast<uint8_t*>(p);
    // SAFETY: the first page is still within the file.
    for (size_t i = 0; i < PageSize(); ++i) base_[i] = Pattern(i);
    HV_CHECK(ftruncate(fd_, static_cast<off_t>(PageSize())) == 0, "ftruncate failed");
  }
  ~TruncatedFileMapping() {
    munmap(base_, 2 * PageSize());
    close(fd_);
  }
  TruncatedFileMapping(const TruncatedFileMapping&) = delete;
  TruncatedFileMapping& operator=(const TruncatedFileMapping&) = delete;

  // The first byte beyond the end of the file.
  uint8_t* end() const { return base_ + PageSize(); }

 private:
  int fd_;
  uint8_t* base_;
};

TEST_F(FallibleCopyTest, RecoversFromSigbusBeyondTheEndOfAFile) {
  TruncatedFileMapping file;
  AlignedBuffer buf(kMargin + 600 + kMargin);
  for (size_t len : {size_t{1}, size_t{40}, size_t{600}}) {
    for (size_t done : {size_t{0}, size_t{1}, size_t{13}, len / 2}) {
      if (done > len) continue;
      uint8_t* dst = buf.at(kMargin + 3);
      memset(dst - kMargin, kCanary, len + 2 * kMargin);
      size_t r = hv_memcpy_fallible(dst, file.end() - done, len);
      ASSERT_TRUE(CheckDone(dst, len, done, r, file.end() - done, 0, len - done + kMargin))
          << "read: len " << len << ", fault at byte " << done;

      uint8_t* src = buf.at(kMargin + 3);
      for (size_t i = 0; i < len; ++i) src[i] = static_cast<uint8_t>(Pattern(i) + 1);
      memset(file.end() - done - kMargin, kCanary, kMargin + done);
      r = hv_memcpy_fallible(file.end() - done, src, len);
      ASSERT_TRUE(CheckDone(file.end() - done, len, done, r, src, 0, 0))
          << "write: len " << len << ", fault at byte " << done;

      memset(file.end() - done - kMargin, kCanary, kMargin + done);
      r = hv_memset_fallible(file.end() - done, kFill, len);
      ASSERT_TRUE(CheckDone(file.end() - done, len, done, r, nullptr, kFill, 0))
          << "fill: len " << len << ", fault at byte " << done;
    }
  }
}

// The single-access primitives: the value zero-extended, or a fault that
// stores nothing.
TEST(FallibleOnce, LoadsAndStoresEverySize) {
  InstallFaultHandler();
  GuardedMapping map(1);
  uint8_t* const guard = map.guard();
  // SAFETY: the 8 bytes before the guard page are read-write.
  uint8_t* const word = guard - 8;
  constexpr uint64_t kBits = 0xf1e2'd3c4'b5a6'9788;
  memcpy(word, &kBits, 8);
  const uint64_t masks[] = {0, 0xff, 0xffff, 0, 0xffff'ffff, 0, 0, 0, ~uint64_t{0}};
  for (size_t size : {size_t{1}, size_t{2}, size_t{4}, size_t{8}}) {
    const uint64_t want = kBits & masks[size];
    uint64_t value = 0;
    EXPECT_EQ(hv_load_once_fallible(word, size, &value), 0) << size;
    EXPECT_EQ(value, want) << size;
    hv_load_once_result loaded = {};
    switch (size) {
      case 1:
        loaded = hv_load_once_fallible_1(word);
        break;
      case 2:
        loaded = hv_load_once_fallible_2(word);
        break;
      case 4:
        loaded = hv_load_once_fallible_4(word);
        break;
      case 8:
        loaded = hv_load_once_fallible_8(word);
        break;
    }
    EXPECT_EQ(loaded.faulted, 0u) << size;
    EXPECT_EQ(loaded.value, want) << size;

    // Faults: the guard page.
    value = 0x1234;
    EXPECT_EQ(hv_load_once_fallible(guard, size, &value), 1) << size;
    EXPECT_EQ(value, 0x1234u) << size;
    switch (size) {
      case 1:
        loaded = hv_load_once_fallible_1(guard);
        EXPECT_EQ(hv_store_once_fallible_1(guard, 0), 1);
        EXPECT_EQ(hv_store_once_fallible_1(word, 0x77), 0);
        break;
      case 2:
        loaded = hv_load_once_fallible_2(guard);
        EXPECT_EQ(hv_store_once_fallible_2(guard, 0), 1);
        EXPECT_EQ(hv_store_once_fallible_2(word, 0x77), 0);
        break;
      case 4:
        loaded = hv_load_once_fallible_4(guard);
        EXPECT_EQ(hv_store_once_fallible_4(guard, 0), 1);
        EXPECT_EQ(hv_store_once_fallible_4(word, 0x77), 0);
        break;
      case 8:
        loaded = hv_load_once_fallible_8(guard);
        EXPECT_EQ(hv_store_once_fallible_8(guard, 0), 1);
        EXPECT_EQ(hv_store_once_fallible_8(word, 0x77), 0);
        break;
    }
    EXPECT_EQ(loaded.faulted, 1u) << size;
    EXPECT_EQ(loaded.value, 0u) << size;
    // The store wrote `size` bytes of 0x77 and nothing else.
    uint64_t after;
    memcpy(&after, word, 8);
    EXPECT_EQ(after, (kBits & ~masks[size]) | 0x77) << size;
    EXPECT_EQ(hv_store_once_fallible(guard, size, 0), 1) << size;
    EXPECT_EQ(hv_store_once_fallible(word, size, kBits), 0) << size;
    memcpy(&after, word, 8);
    EXPECT_EQ(after, kBits) << size;
  }
  uint64_t value = 0;
  EXPECT_EQ(hv_load_once_fallible(word, 3, &value), 2);
  EXPECT_EQ(hv_store_once_fallible(word, 3, 0), 2);
}

// The table the fallible primitives' assembly put in this binary.
TEST(FallibleExTable, CoversThePrimitives) {
  const std::span<const ExTableEntry> table = LinkedExTable();
  ASSERT_FALSE(table.empty());
  CheckLinkedExTable();
  // SAFETY (below): function addresses as integers, never dereferenced.
  // Both functions come from one assembly file: every faulting instruction
  // and fixup lies within a few KiB of its start.
  const auto first = std::min(reinterpret_cast<uintptr_t>(&hv_memcpy_fallible),
                              reinterpret_cast<uintptr_t>(&hv_memset_fallible));
  for (const ExTableEntry& entry : table) {
    EXPECT_GE(entry.from_address(), first);
    EXPECT_LT(entry.from_address(), first + 4096);
    EXPECT_GE(entry.to_address(), first);
    EXPECT_LT(entry.to_address(), first + 4096);
    EXPECT_EQ(FixupForFault(entry.from_address()), entry.to_address());
  }
  EXPECT_EQ(FixupForFault(reinterpret_cast<uintptr_t>(&hv_memcpy_fallible) + 0x10000),
            std::nullopt);
}

#if defined(__SANITIZE_ADDRESS__)
// ASan's own SIGSEGV/SIGBUS handler was installed first: it gets the fault,
// reports it and exits.
#define EXPECT_KILLED_BY(statement, signo, asan_report) EXPECT_DEATH(statement, asan_report)
#else
#define EXPECT_KILLED_BY(statement, signo, asan_report) \
  EXPECT_EXIT(statement, ::testing::KilledBySignal(signo), "")
#endif

TEST(FaultHandlerDeathTest, FaultOutsideTheTableTakesTheDefaultAction) {
  InstallFaultHandler();
  GuardedMapping map(1);
  volatile uint8_t* const bad = map.guard();
  // SAFETY: a deliberate fault on a PROT_NONE page, in the death-test child.
  EXPECT_KILLED_BY(*bad = 1, SIGSEGV, "SEGV");
  TruncatedFileMapping file;
  volatile uint8_t* const beyond = file.end();
  // SAFETY: a deliberate SIGBUS beyond the end of the file, in the child.
  EXPECT_KILLED_BY((void)*beyond, SIGBUS, "BUS");
}

#if !defined(__SANITIZE_ADDRESS__)
// A SIGSEGV sent by kill() is no fault: it is never fixed up and still kills.
TEST(FaultHandlerDeathTest, SentSignalTakesTheDefaultAction) {
  InstallFaultHandler();
  EXPECT_EXIT(raise(SIGSEGV), ::testing::KilledBySignal(SIGSEGV), "");
  EXPECT_EXIT(raise(SIGBUS), ::testing::KilledBySignal(SIGBUS), "");
}
#endif

}  // namespace
}  // namespace hv::arch
