// The fallible primitives in kernel images under QEMU: faults on addresses
// the kernel really cannot access are recovered by the trap handler through
// the exception table, with the exact count, and the kernel carries on.
#include <arch/fallible.h>
#include <arch/layout.h>
#include <board/config.h>
#include <ktest/ktest.h>

#if defined(__riscv)
#include <arch/riscv64/csr.h>
#endif

namespace {

// SAFETY (both): addresses that only the fallible primitives access.
// The lower half is unmapped in kernel images (arch/layout.h).
const auto kUnmapped = reinterpret_cast<void*>(uintptr_t{0x1000'0000});
// Non-canonical on x86_64 (a general protection fault, not a page fault);
// outside Sv39 on riscv64 (a page fault).
const auto kNonCanonical = reinterpret_cast<void*>(uintptr_t{0x0000'8000'0000'0000});

// The end of a readable region followed, at the very next byte, by one that
// faults.
uintptr_t ReadableEnd() {
#if defined(__x86_64__)
  // The direct map ends at physical 4 GiB, right after the BIOS ROM.
  return hv::arch::kDirectMapBase + hv::arch::kDirectMapSize;
#elif defined(__riscv)
  // The mask ROM; the hole after it is an access fault, not a page fault.
  return hv::arch::PhysToVirt(hv::HostPhysAddr(hv::board::kMaskRomBase + hv::board::kMaskRomSize))
      .value();
#endif
}

constexpr uint8_t kCanary = 0xa5;

bool AllEqual(const uint8_t* p, size_t n, uint8_t value) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != value) return false;
  }
  return true;
}

void Fill(uint8_t* p, size_t n, uint8_t value) {
  for (size_t i = 0; i < n; ++i) p[i] = value;
}

}  // namespace

TEST(Fallible, InstallFaultHandlerIsANoOp) { hv::arch::InstallFaultHandler(); }

TEST(Fallible, CopyFromAnUnmappedPageCopiesNothing) {
  uint8_t dst[1500];
  // Lengths that take every path: bytes, words, blocks, rep movsb (x86_64).
  for (size_t len : {size_t{1}, size_t{7}, size_t{8}, size_t{64}, size_t{100}, size_t{1500}}) {
    Fill(dst, sizeof(dst), kCanary);
    EXPECT_EQ(hv_memcpy_fallible(dst, kUnmapped, len), len);
    EXPECT_TRUE(AllEqual(dst, sizeof(dst), kCanary)) << "len " << len;
  }
}

TEST(Fallible, CopyToAnUnmappedPageCopiesNothing) {
  uint8_t src[1500];
  Fill(src, sizeof(src), 1);
  for (size_t len : {size_t{1}, size_t{7}, size_t{8}, size_t{64}, size_t{100}, size_t{1500}}) {
    EXPECT_EQ(hv_memcpy_fallible(kUnmapped, src, len), len);
  }
}

TEST(Fallible, SetOnAnUnmappedPageSetsNothing) {
  for (size_t len : {size_t{1}, size_t{8}, size_t{64}, size_t{1500}}) {
    EXPECT_EQ(hv_memset_fallible(kUnmapped, 0, len), len);
  }
}

TEST(Fallible, NonCanonicalAddressFaultsToo) {
  uint8_t buf[64];
  Fill(buf, sizeof(buf), kCanary);
  EXPECT_EQ(hv_memcpy_fallible(buf, kNonCanonical, sizeof(buf)), sizeof(buf));
  EXPECT_EQ(hv_memcpy_fallible(kNonCanonical, buf, sizeof(buf)), sizeof(buf));
  EXPECT_EQ(hv_memset_fallible(kNonCanonical, 0, sizeof(buf)), sizeof(buf));
  EXPECT_TRUE(AllEqual(buf, sizeof(buf), kCanary));
}

// A copy that starts in readable memory stops exactly at the first byte that
// faults: the count is exact, the bytes before it are copied and nothing
// after it is written.
TEST(Fallible, CopyStopsExactlyAtTheFirstFaultingByte) {
  const uintptr_t end = ReadableEnd();
  uint8_t reference[64];
  // The readable bytes, read without a fault. SAFETY (here and below): only
  // the fallible primitives access these addresses.
  ASSERT_EQ(hv_memcpy_fallible(reference, reinterpret_cast<const void*>(end - sizeof(reference)),
                               sizeof(reference)),
            0u);
  uint8_t dst[80];
  for (size_t readable = 0; readable <= 40; ++readable) {
    for (size_t len = 1; len <= 64; ++len) {
      Fill(dst, sizeof(dst), kCanary);
      const size_t done = readable < len ? readable : len;
      const size_t r = hv_memcpy_fallible(dst, reinterpret_cast<const void*>(end - readable), len);
      ASSERT_EQ(r, len - done) << "len " << len << ", readable " << readable;
      for (size_t i = 0; i < done; ++i) {
        ASSERT_EQ(dst[i], reference[sizeof(reference) - readable + i]) << "byte " << i;
      }
      ASSERT_TRUE(AllEqual(dst + done, sizeof(dst) - done, kCanary))
          << "len " << len << ", readable " << readable;
    }
  }
}

// The same for copies long enough for the large-copy path (x86_64: rep movsb).
TEST(Fallible, LongCopyStopsExactlyAtTheFirstFaultingByte) {
  const uintptr_t end = ReadableEnd();
  uint8_t reference[64];
  // SAFETY (here and below): only the fallible primitives access these
  // addresses.
  ASSERT_EQ(hv_memcpy_fallible(reference, reinterpret_cast<const void*>(end - sizeof(reference)),
                               sizeof(reference)),
            0u);
  uint8_t dst[2100];
  for (size_t readable : {size_t{0}, size_t{1}, size_t{13}, size_t{40}, size_t{64}}) {
    for (size_t len : {size_t{1023}, size_t{1024}, size_t{2048}}) {
      Fill(dst, sizeof(dst), kCanary);
      const size_t r = hv_memcpy_fallible(dst, reinterpret_cast<const void*>(end - readable), len);
      ASSERT_EQ(r, len - readable) << "len " << len << ", readable " << readable;
      for (size_t i = 0; i < readable; ++i) {
        ASSERT_EQ(dst[i], reference[sizeof(reference) - readable + i]) << "byte " << i;
      }
      ASSERT_TRUE(AllEqual(dst + readable, sizeof(dst) - readable, kCanary))
          << "len " << len << ", readable " << readable;
    }
  }
}

// Writes stop at the same byte. The region before it is ROM, which ignores
// writes, so only the count can be checked.
TEST(Fallible, WritesStopExactlyAtTheFirstFaultingByte) {
  const uintptr_t end = ReadableEnd();
  uint8_t src[1100] = {};
  for (size_t accessible : {size_t{0}, size_t{1}, size_t{13}, size_t{40}}) {
    for (size_t len : {size_t{1}, size_t{8}, size_t{41}, size_t{64}, size_t{1100}}) {
      const size_t done = accessible < len ? accessible : len;
      // SAFETY (both): only the fallible primitives access these addresses.
      EXPECT_EQ(hv_memcpy_fallible(reinterpret_cast<void*>(end - accessible), src, len), len - done)
          << "copy: len " << len << ", accessible " << accessible;
      EXPECT_EQ(hv_memset_fallible(reinterpret_cast<void*>(end - accessible), 0, len), len - done)
          << "fill: len " << len << ", accessible " << accessible;
    }
  }
}

// After all those faults, ordinary copies and fills still work.
TEST(Fallible, KernelCarriesOnAfterFaults) {
  uint8_t src[300];
  uint8_t dst[300];
  for (size_t i = 0; i < sizeof(src); ++i) src[i] = static_cast<uint8_t>(i * 7);
  EXPECT_EQ(hv_memcpy_fallible(kUnmapped, src, sizeof(src)), sizeof(src));
  EXPECT_EQ(hv_memcpy_fallible(dst + 1, src + 3, 290), 0u);
  for (size_t i = 0; i < 290; ++i) ASSERT_EQ(dst[i + 1], src[i + 3]) << "byte " << i;
  EXPECT_EQ(hv_memset_fallible(dst, 0x3c, sizeof(dst)), 0u);
  EXPECT_TRUE(AllEqual(dst, sizeof(dst), 0x3c));
}

#if defined(__riscv)
// sstatus.SUM is set only while the primitives access memory: it is clear
// again after a normal exit and after a fault.
TEST(Fallible, SumIsClearOnBothExits) {
  using hv::arch::riscv64::kSstatusSum;
  uint8_t buf[32] = {};
  EXPECT_EQ(hv_memcpy_fallible(buf, buf + 16, 16), 0u);
  EXPECT_EQ(HV_CSR_READ(sstatus) & kSstatusSum, 0u);
  EXPECT_EQ(hv_memcpy_fallible(buf, kUnmapped, 16), 16u);
  EXPECT_EQ(HV_CSR_READ(sstatus) & kSstatusSum, 0u);
  EXPECT_EQ(hv_memset_fallible(buf, 0, sizeof(buf)), 0u);
  EXPECT_EQ(HV_CSR_READ(sstatus) & kSstatusSum, 0u);
  EXPECT_EQ(hv_memset_fallible(kUnmapped, 0, sizeof(buf)), sizeof(buf));
  EXPECT_EQ(HV_CSR_READ(sstatus) & kSstatusSum, 0u);
}
#endif
