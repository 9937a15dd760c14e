// The fallible primitives in Linux processes (host and qemu-riscv64), with
// real faults: PROT_NONE guard pages (SIGSEGV) and pages beyond the end of a
// truncated file (SIGBUS), recovered by the fault handler through the
// exception table.
//
// Every copy and fill test runs once per implementation: on x86_64 for each
// ISA of <arch/x86_64/fallible_isa.h> (general registers, the kernel's path;
// SSE2, AVX2, AVX-512; those the CPU lacks are skipped), forced with
// SetFallibleIsa(); on riscv64 for its one implementation.
//
// Short lengths (0..256) are exhaustive: the first unreadable (or
// unwritable) byte at every position of every length. The faulting side's
// buffer ends at a guard page, so its alignment is set by the fault position
// (all residues occur); the other side's misalignment runs over 0..15 for
// every position of kEveryMisalignmentLens and cycles through 0..15
// elsewhere. Long lengths (kLongLens, 257 B..12 KiB, around every threshold
// and vector block size) put the fault at the first and last 80 bytes, at
// every 64-byte block boundary (+-1), around page boundaries, and at random
// positions inside blocks; the other side's misalignment cycles over 0..63
// and every third position is co-aligned with the faulting side (same
// address mod 64: x86_64's rep movsb path). Copies and fills that do not
// fault run over all 16 x 16 misalignments.
#include <arch/extable.h>
#include <arch/fallible.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hv/base/check.h>
#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <arch/x86_64/fallible_isa.h>
#include <cpuid.h>

namespace hv::arch::x86_64 {
// How GoogleTest prints a test's parameter.
void PrintTo(FallibleIsa isa, std::ostream* os) { *os << FallibleIsaName(isa); }
}  // namespace hv::arch::x86_64
#endif

namespace hv::arch {
namespace {

constexpr size_t kMaxLen = 256;
constexpr size_t kMisalignments = 16;
// Bytes checked on each side of a destination for stray writes.
constexpr size_t kMargin = 32;
constexpr uint8_t kCanary = 0xff;
constexpr uint8_t kFill = 0x5a;

// Short lengths whose every fault position runs with all 16 misalignments of
// the other side: around the 8-, 16-, 32- and 64-byte steps.
constexpr size_t kEveryMisalignmentLens[] = {7,  8,  9,  15,  16,  17,  31,  32, 33,
                                             63, 64, 65, 127, 128, 129, 255, 256};

// Long lengths: around 2, 4 and 8 vectors of 16, 32 and 64 bytes, the
// x86_64 general path's 1 KiB rep threshold, the vector paths' 4 KiB rep
// threshold, and multi-page copies.
constexpr size_t kLongLens[] = {257,  258,  300,  383,  384,  385,  447,  448,  449,  511,
                                512,  513,  520,  575,  576,  577,  639,  640,  641,  767,
                                768,  1000, 1023, 1024, 1025, 1536, 2047, 2048, 2049, 3000,
                                4095, 4096, 4097, 4160, 5000, 6143, 8191, 8192, 12285};
constexpr size_t kMaxLongLen = 12285;

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

// `before` read-write pages, one PROT_NONE page (the hole), `after`
// read-write pages: a copy across the hole must stop at it and write nothing
// beyond, although the memory after the hole is writable.
class HoleMapping {
 public:
  HoleMapping(size_t before, size_t after)
      : before_(before), size_((before + 1 + after) * PageSize()) {
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HV_CHECK(p != MAP_FAILED, "mmap failed");
    base_ = static_cast<uint8_t*>(p);
    HV_CHECK(mprotect(hole(), PageSize(), PROT_NONE) == 0, "mprotect failed");
  }
  ~HoleMapping() { munmap(base_, size_); }
  HoleMapping(const HoleMapping&) = delete;
  HoleMapping& operator=(const HoleMapping&) = delete;

  // The first byte of the hole.
  uint8_t* hole() const { return base_ + before_ * PageSize(); }

 private:
  size_t before_;
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

// The other side's misalignments for a fault after `done` of `len` bytes.
std::vector<size_t> ShortMisalignments(size_t len, size_t done) {
  if (std::find(std::begin(kEveryMisalignmentLens), std::end(kEveryMisalignmentLens), len) !=
      std::end(kEveryMisalignmentLens)) {
    std::vector<size_t> all(kMisalignments);
    for (size_t i = 0; i < kMisalignments; ++i) all[i] = i;
    return all;
  }
  return {(len * 5 + done) % kMisalignments};
}

// Fault positions for a long copy: see the file comment.
std::vector<size_t> LongFaultPositions(size_t len) {
  std::vector<size_t> positions;
  for (size_t done = 0; done <= len; ++done) {
    const size_t in_page = done % PageSize();
    const size_t in_block = done % 64;
    if (done < 80 || len - done < 80 || in_block <= 1 || in_block == 63 || in_page < 40 ||
        PageSize() - in_page < 40) {
      positions.push_back(done);
    }
  }
  // One random position inside every block.
  std::mt19937 random(static_cast<uint32_t>(len));
  for (size_t block = 0; block + 64 <= len; block += 64) {
    positions.push_back(block + 2 + random() % 61);
  }
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  return positions;
}

// The misalignment (0..63) of the side that does not fault, for the i-th
// fault position `done`, when the faulting side starts `done` bytes before a
// page boundary: every third one co-aligned with it.
size_t LongMisalignment(size_t i, size_t done) {
  return i % 3 == 0 ? (64 - done % 64) % 64 : (i * 13) % 64;
}

// The implementations under test.
#if defined(__x86_64__)
using Variant = x86_64::FallibleIsa;
std::vector<Variant> AllVariants() {
  return {std::begin(x86_64::kAllFallibleIsas), std::end(x86_64::kAllFallibleIsas)};
}
std::string VariantName(Variant variant) { return x86_64::FallibleIsaName(variant); }
bool VariantSupported(Variant variant) { return x86_64::FallibleIsaSupported(variant); }
void SelectVariant(Variant variant) { x86_64::SetFallibleIsa(variant); }
void SelectDefaultVariant() { x86_64::SetFallibleIsa(x86_64::BestFallibleIsa()); }
#else
enum class Variant { kOnly };
void PrintTo(Variant, std::ostream* os) { *os << "only"; }
std::vector<Variant> AllVariants() { return {Variant::kOnly}; }
std::string VariantName(Variant) { return "only"; }
bool VariantSupported(Variant) { return true; }
void SelectVariant(Variant) {}
void SelectDefaultVariant() {}
#endif

std::string VariantParamName(const ::testing::TestParamInfo<Variant>& info) {
  return VariantName(info.param);
}

class FallibleTest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    InstallFaultHandler();
    if (!VariantSupported(GetParam())) {
      GTEST_SKIP() << VariantName(GetParam()) << " is not supported on this CPU";
    }
    SelectVariant(GetParam());
  }
  void TearDown() override { SelectDefaultVariant(); }
};

using FallibleCopyTest = FallibleTest;
using FallibleSetTest = FallibleTest;

INSTANTIATE_TEST_SUITE_P(Implementations, FallibleCopyTest, ::testing::ValuesIn(AllVariants()),
                         VariantParamName);
INSTANTIATE_TEST_SUITE_P(Implementations, FallibleSetTest, ::testing::ValuesIn(AllVariants()),
                         VariantParamName);

// Non-faulting copies of the given lengths over all 16 x 16 misalignments.
void CheckCopiesAtEveryMisalignment(std::span<const size_t> lens) {
  const size_t max_len = *std::max_element(lens.begin(), lens.end());
  AlignedBuffer src_buf(kMisalignments + max_len);
  AlignedBuffer dst_buf(kMargin + kMisalignments + max_len + kMargin);
  for (size_t i = 0; i < kMisalignments + max_len; ++i) *src_buf.at(i) = Pattern(i);
  for (size_t len : lens) {
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

TEST_P(FallibleCopyTest, CopiesEveryLengthAndAlignment) {
  std::vector<size_t> lens(kMaxLen + 1);
  for (size_t len = 0; len <= kMaxLen; ++len) lens[len] = len;
  CheckCopiesAtEveryMisalignment(lens);
}

TEST_P(FallibleCopyTest, CopiesLongLengthsAtEveryAlignment) {
  CheckCopiesAtEveryMisalignment(kLongLens);
  // The destination's alignment within a 64-byte vector decides where the
  // vector loops start: every residue, for a source aligned and not.
  AlignedBuffer src_buf(64 + kMaxLongLen);
  AlignedBuffer dst_buf(kMargin + 64 + kMaxLongLen + kMargin);
  for (size_t i = 0; i < 64 + kMaxLongLen; ++i) *src_buf.at(i) = Pattern(i);
  for (size_t len : kLongLens) {
    for (size_t s : {size_t{0}, size_t{5}}) {
      for (size_t d = 0; d < 64; ++d) {
        uint8_t* dst = dst_buf.at(kMargin + d);
        memset(dst - kMargin, kCanary, len + 2 * kMargin);
        const size_t r = hv_memcpy_fallible(dst, src_buf.at(s), len);
        ASSERT_TRUE(CheckDone(dst, len, len, r, src_buf.at(s), 0, kMargin))
            << "len " << len << ", src misalignment " << s << ", dst misalignment " << d;
      }
    }
  }
}

TEST_P(FallibleCopyTest, SourceFaultAtEveryPosition) {
  GuardedMapping src_map(1);
  uint8_t* const guard = src_map.guard();
  // SAFETY: the page before the guard page is the mapping's read-write page.
  for (size_t i = 1; i <= PageSize(); ++i) guard[-static_cast<ptrdiff_t>(i)] = Pattern(i);
  AlignedBuffer dst_buf(kMargin + kMisalignments + kMaxLen + kMargin);
  for (size_t len = 0; len <= kMaxLen; ++len) {
    // done == len: the source ends right at the guard page.
    for (size_t done = 0; done <= len; ++done) {
      const uint8_t* src = guard - done;
      for (size_t d : ShortMisalignments(len, done)) {
        uint8_t* dst = dst_buf.at(kMargin + d);
        memset(dst - kMargin, kCanary, len + 2 * kMargin);
        const size_t r = hv_memcpy_fallible(dst, src, len);
        ASSERT_TRUE(CheckDone(dst, len, done, r, src, 0, len - done + kMargin))
            << "len " << len << ", source fault at byte " << done << ", dst misalignment " << d;
      }
    }
  }
}

TEST_P(FallibleCopyTest, DestinationFaultAtEveryPosition) {
  GuardedMapping dst_map(1);
  uint8_t* const guard = dst_map.guard();
  AlignedBuffer src_buf(kMisalignments + kMaxLen);
  for (size_t i = 0; i < kMisalignments + kMaxLen; ++i) *src_buf.at(i) = Pattern(i);
  for (size_t len = 0; len <= kMaxLen; ++len) {
    for (size_t done = 0; done <= len; ++done) {
      uint8_t* dst = guard - done;
      for (size_t s : ShortMisalignments(len, done)) {
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

TEST_P(FallibleCopyTest, LongCopiesStopAtTheFault) {
  constexpr size_t kPages = 4;
  const size_t span = kPages * PageSize();
  ASSERT_LE(kMaxLongLen + 64, span);
  GuardedMapping src_map(kPages);
  GuardedMapping dst_map(kPages);
  uint8_t* const src_guard = src_map.guard();
  uint8_t* const dst_guard = dst_map.guard();
  // SAFETY: the span bytes before each guard page are the mapping's
  // read-write pages.
  for (size_t i = 1; i <= span; ++i) src_guard[-static_cast<ptrdiff_t>(i)] = Pattern(i);
  AlignedBuffer src_buf(64 + span);
  for (size_t i = 0; i < 64 + span; ++i) *src_buf.at(i) = Pattern(i);
  AlignedBuffer dst_buf(kMargin + 64 + span + kMargin);
  for (size_t len : kLongLens) {
    const std::vector<size_t> positions = LongFaultPositions(len);
    for (size_t i = 0; i < positions.size(); ++i) {
      const size_t done = positions[i];
      const size_t mis = LongMisalignment(i, done);
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

// Long copies across a one-page hole: they stop at its first byte and write
// nothing after it, not even to the writable memory beyond it (stores go in
// address order).
TEST_P(FallibleCopyTest, LongCopiesStopAtAHole) {
  constexpr size_t kPages = 4;
  const size_t span = kPages * PageSize();
  HoleMapping src_map(kPages, kPages);
  HoleMapping dst_map(kPages, kPages);
  // SAFETY: the span bytes on either side of each hole are read-write.
  for (size_t i = 0; i < span; ++i) {
    src_map.hole()[i - span] = Pattern(i);
    src_map.hole()[PageSize() + i] = Pattern(i + 7);
  }
  AlignedBuffer src_buf(64 + 2 * span);
  for (size_t i = 0; i < 64 + 2 * span; ++i) *src_buf.at(i) = Pattern(i);
  AlignedBuffer dst_buf(kMargin + 64 + 2 * span + kMargin);
  for (size_t len : kLongLens) {
    const std::vector<size_t> positions = LongFaultPositions(len);
    for (size_t i = 0; i < positions.size(); ++i) {
      const size_t done = positions[i];
      // Only copies that reach the memory after the hole.
      if (len - done <= PageSize() || done > span) continue;
      const size_t mis = LongMisalignment(i, done);
      const uint8_t* src = src_map.hole() - done;
      uint8_t* dst = dst_buf.at(kMargin + mis);
      memset(dst - kMargin, kCanary, len + 2 * kMargin);
      size_t r = hv_memcpy_fallible(dst, src, len);
      ASSERT_TRUE(CheckDone(dst, len, done, r, src, 0, len - done + kMargin))
          << "len " << len << ", source hole at byte " << done << ", dst misalignment " << mis;

      dst = dst_map.hole() - done;
      uint8_t* const beyond = dst_map.hole() + PageSize();
      const size_t beyond_len = len - done - PageSize();
      memset(dst - kMargin, kCanary, kMargin + done);
      memset(beyond, kCanary, beyond_len + kMargin);
      r = hv_memcpy_fallible(dst, src_buf.at(mis), len);
      ASSERT_TRUE(CheckDone(dst, len, done, r, src_buf.at(mis), 0, 0))
          << "len " << len << ", destination hole at byte " << done << ", src misalignment " << mis;
      ASSERT_TRUE(AllEqual(beyond, beyond_len + kMargin, kCanary))
          << "len " << len << ", destination hole at byte " << done << ", src misalignment " << mis
          << ": wrote beyond the hole";
    }
  }
}

// Non-faulting fills of the given lengths at 16 misalignments.
void CheckFillsAtEveryMisalignment(std::span<const size_t> lens) {
  const size_t max_len = *std::max_element(lens.begin(), lens.end());
  AlignedBuffer dst_buf(kMargin + 64 + max_len + kMargin);
  for (size_t len : lens) {
    for (size_t d = 0; d < 64; ++d) {
      uint8_t* dst = dst_buf.at(kMargin + d);
      memset(dst - kMargin, kCanary, len + 2 * kMargin);
      // Only the low byte of the value counts, as for memset.
      const size_t r = hv_memset_fallible(dst, 0x100 | kFill, len);
      ASSERT_TRUE(CheckDone(dst, len, len, r, nullptr, kFill, kMargin))
          << "len " << len << ", dst misalignment " << d;
    }
  }
}

TEST_P(FallibleSetTest, SetsEveryLengthAndAlignment) {
  std::vector<size_t> lens(kMaxLen + 1);
  for (size_t len = 0; len <= kMaxLen; ++len) lens[len] = len;
  CheckFillsAtEveryMisalignment(lens);
}

TEST_P(FallibleSetTest, SetsLongLengthsAtEveryAlignment) {
  CheckFillsAtEveryMisalignment(kLongLens);
}

TEST_P(FallibleSetTest, FaultAtEveryPosition) {
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

TEST_P(FallibleSetTest, LongFillsStopAtTheFault) {
  constexpr size_t kPages = 4;
  GuardedMapping map(kPages);
  uint8_t* const guard = map.guard();
  for (size_t len : kLongLens) {
    for (size_t done : LongFaultPositions(len)) {
      uint8_t* dst = guard - done;
      memset(dst - kMargin, kCanary, kMargin + done);
      const size_t r = hv_memset_fallible(dst, kFill, len);
      ASSERT_TRUE(CheckDone(dst, len, done, r, nullptr, kFill, 0))
          << "len " << len << ", fault at byte " << done;
    }
  }
}

TEST_P(FallibleSetTest, LongFillsStopAtAHole) {
  constexpr size_t kPages = 4;
  const size_t span = kPages * PageSize();
  HoleMapping map(kPages, kPages);
  for (size_t len : kLongLens) {
    for (size_t done : LongFaultPositions(len)) {
      if (len - done <= PageSize() || done > span) continue;
      uint8_t* dst = map.hole() - done;
      uint8_t* const beyond = map.hole() + PageSize();
      const size_t beyond_len = len - done - PageSize();
      memset(dst - kMargin, kCanary, kMargin + done);
      memset(beyond, kCanary, beyond_len + kMargin);
      const size_t r = hv_memset_fallible(dst, kFill, len);
      ASSERT_TRUE(CheckDone(dst, len, done, r, nullptr, kFill, 0))
          << "len " << len << ", hole at byte " << done;
      ASSERT_TRUE(AllEqual(beyond, beyond_len + kMargin, kCanary))
          << "len " << len << ", hole at byte " << done << ": wrote beyond the hole";
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

TEST_P(FallibleCopyTest, RecoversFromSigbusBeyondTheEndOfAFile) {
  TruncatedFileMapping file;
  AlignedBuffer buf(kMargin + 3000 + kMargin);
  for (size_t len : {size_t{1}, size_t{40}, size_t{600}, size_t{3000}}) {
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

#if defined(__x86_64__)
// XINUSE (xgetbv with ecx = 1): which state components are not in their
// initial state. Bits 2 (upper halves of ymm0-15) and 6 (upper halves of
// zmm0-15) are what vzeroupper clears.
constexpr uint64_t kDirtyUpperState = (1 << 2) | (1 << 6);

bool CanReadXinuse() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || (ecx & bit_OSXSAVE) == 0 || (ecx & bit_AVX) == 0) {
    return false;
  }
  // CPUID.(EAX=0DH, ECX=1):EAX[2]: xgetbv with ecx = 1 is supported.
  return __get_cpuid_count(0xd, 1, &eax, &ebx, &ecx, &edx) && (eax & (1 << 2)) != 0;
}

uint64_t Xinuse() {
  uint32_t low, high;
  // SAFETY: xgetbv with ecx = 1 reads XINUSE (CanReadXinuse() checked it is
  // supported); it only writes eax and edx.
  asm volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(1));
  return (uint64_t{high} << 32) | low;
}

// Runs `call` with clean upper vector state and returns XINUSE right after.
template <typename Call>
uint64_t XinuseAfter(Call call) {
  // SAFETY: vzeroupper only zeroes the upper halves of the vector
  // registers, which no live value of this code holds (it is built without
  // AVX); CanReadXinuse() checked that AVX is enabled.
  asm volatile("vzeroupper" ::
                   : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                     "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  call();
  return Xinuse();
}

// Every exit of the AVX paths, the fault exits included, leaves the upper
// halves of the vector registers clean (vzeroupper): SSE code after them
// would otherwise pay for the transition.
TEST_P(FallibleCopyTest, LeavesTheUpperVectorStateClean) {
  if (!CanReadXinuse()) GTEST_SKIP() << "xgetbv(1) is not supported";
  constexpr size_t kLongest = 16384;
  GuardedMapping map(kLongest / PageSize() + 1);
  uint8_t* const guard = map.guard();
  AlignedBuffer src_buf(64 + kLongest);
  AlignedBuffer dst_buf(64 + kLongest);
  auto clean = [](uint64_t xinuse) { return (xinuse & kDirtyUpperState) == 0; };
  // Lengths that take every path of every ISA, without a fault, and with a
  // fault at the start and in the middle, co-aligned and not.
  for (size_t len : {size_t{1}, size_t{63}, size_t{64}, size_t{100}, size_t{200}, size_t{300},
                     size_t{600}, size_t{1000}, size_t{3000}, size_t{5000}, kLongest}) {
    for (size_t mis : {size_t{0}, size_t{16}}) {
      EXPECT_TRUE(clean(XinuseAfter([&] {
        (void)hv_memcpy_fallible(dst_buf.at(0), src_buf.at(mis), len);
      }))) << "copy, len "
           << len << ", src misalignment " << mis;
      EXPECT_TRUE(clean(XinuseAfter([&] { (void)hv_memset_fallible(dst_buf.at(mis), 0, len); })))
          << "fill, len " << len << ", dst misalignment " << mis;
      for (size_t done : {size_t{0}, len / 2 + mis}) {
        if (done >= len) continue;
        EXPECT_TRUE(clean(XinuseAfter([&] {
          (void)hv_memcpy_fallible(dst_buf.at(mis), guard - done, len);
        }))) << "copy, len "
             << len << ", source fault at " << done;
        EXPECT_TRUE(clean(XinuseAfter([&] {
          (void)hv_memcpy_fallible(guard - done, src_buf.at(mis), len);
        }))) << "copy, len "
             << len << ", destination fault at " << done;
        EXPECT_TRUE(clean(XinuseAfter([&] { (void)hv_memset_fallible(guard - done, 0, len); })))
            << "fill, len " << len << ", fault at " << done;
      }
    }
  }
}

TEST(FallibleIsa, StartupSelectsTheBestSupported) {
  // No test has changed the selection yet or every test restored it.
  EXPECT_EQ(x86_64::CurrentFallibleIsa(), x86_64::BestFallibleIsa());
  EXPECT_TRUE(x86_64::FallibleIsaSupported(x86_64::BestFallibleIsa()));
  EXPECT_TRUE(x86_64::FallibleIsaSupported(x86_64::FallibleIsa::kGeneralRegs));
  EXPECT_TRUE(x86_64::FallibleIsaSupported(x86_64::FallibleIsa::kSse2));
  EXPECT_NE(x86_64::BestFallibleIsa(), x86_64::FallibleIsa::kGeneralRegs);
}
#endif  // __x86_64__

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
  // All the primitives come from one assembly file: every faulting
  // instruction and fixup lies within a few KiB of its start.
  const auto first = std::min(reinterpret_cast<uintptr_t>(&hv_memcpy_fallible),
                              reinterpret_cast<uintptr_t>(&hv_memset_fallible));
  constexpr uintptr_t kMaxCodeSize = 8192;
  for (const ExTableEntry& entry : table) {
    EXPECT_GE(entry.from_address(), first);
    EXPECT_LT(entry.from_address(), first + kMaxCodeSize);
    EXPECT_GE(entry.to_address(), first);
    EXPECT_LT(entry.to_address(), first + kMaxCodeSize);
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
