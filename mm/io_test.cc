// VmReader/VmWriter/VmIo against real memory and real faults (PROT_NONE
// guard pages), on the host and under qemu-riscv64.
#include <arch/layout.h>
#include <gtest/gtest.h>
#include <mm/io.h>
#include <mm/vm_io.h>

#include <array>
#include <atomic>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

#include "testing/memory/guarded_region.h"

namespace hv::mm {
namespace {

using ::hv::testing::GuardedRegion;

std::vector<std::byte> Pattern(size_t n, int seed = 1) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 7 + seed) & 0xff);
  return v;
}

TEST(VmReaderWriter, InfallibleCopyMovesTheMinimumAndAdvancesBoth) {
  const std::vector<std::byte> src = Pattern(100);
  std::vector<std::byte> dst(60, std::byte{0});
  VmReader<Infallible> reader = VmReader<Infallible>::FromSpan(src);
  VmWriter<Infallible> writer = VmWriter<Infallible>::FromSpan(dst);
  EXPECT_EQ(reader.Read(writer), 60u);
  EXPECT_EQ(reader.remain(), 40u);
  EXPECT_EQ(writer.avail(), 0u);
  EXPECT_EQ(reader.cursor(), src.data() + 60);
  EXPECT_TRUE(std::equal(dst.begin(), dst.end(), src.begin()));
  EXPECT_EQ(reader.Read(writer), 0u);
}

TEST(VmReaderWriter, LimitAndSkip) {
  const std::vector<std::byte> src = Pattern(32);
  VmReader<Infallible> reader = VmReader<Infallible>::FromSpan(src);
  reader.Limit(100);
  EXPECT_EQ(reader.remain(), 32u);
  reader.Skip(4).Limit(10);
  EXPECT_EQ(reader.remain(), 10u);
  EXPECT_EQ(reader.cursor(), src.data() + 4);
  EXPECT_EQ(reader.ReadVal<uint8_t>().value(), static_cast<uint8_t>(src[4]));
}

TEST(VmReaderWriterDeathTest, SkipPastTheEndIsAPreconditionFailure) {
  const std::vector<std::byte> src = Pattern(8);
  VmReader<Infallible> reader = VmReader<Infallible>::FromSpan(src);
  EXPECT_DEATH(reader.Skip(9), "Skip\\(9\\) past the end");
  std::vector<std::byte> dst(8);
  VmWriter<Infallible> writer = VmWriter<Infallible>::FromSpan(dst);
  EXPECT_DEATH(writer.Skip(9), "Skip\\(9\\) past the end");
}

TEST(VmReaderWriter, ReadersCopyWritersMove) {
  static_assert(std::is_copy_constructible_v<VmReader<Fallible>>);
  static_assert(std::is_copy_constructible_v<VmReader<Infallible>>);
  static_assert(!std::is_copy_constructible_v<VmWriter<Fallible>>);
  static_assert(!std::is_copy_constructible_v<VmWriter<Infallible>>);
  static_assert(std::is_move_constructible_v<VmWriter<Fallible>>);
  std::vector<std::byte> dst(8);
  VmWriter<Infallible> a = VmWriter<Infallible>::FromSpan(dst);
  VmWriter<Infallible> b = std::move(a);
  EXPECT_EQ(b.avail(), 8u);
  EXPECT_EQ(a.avail(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
}

TEST(UserWindow, BadWindowsAreRefusedWithAClearError) {
  std::array<std::byte, 16> buf{};
  EXPECT_EQ(VmReader<Fallible>::FromUser(nullptr, 1).error(), Error::kInvalidArgs);
  EXPECT_EQ(VmWriter<Fallible>::FromUser(nullptr, 1).error(), Error::kInvalidArgs);
  // ptr + len wraps.
  auto* near_top = reinterpret_cast<const void*>(~uintptr_t{0} - 4);
  EXPECT_EQ(VmReader<Fallible>::FromUser(near_top, 16).error(), Error::kInvalidArgs);
  // A kernel (upper-half) pointer passed as a window.
  auto* kernel = reinterpret_cast<void*>(uintptr_t{0xffff'ffff'8000'0000});
  EXPECT_EQ(VmReader<Fallible>::FromUser(kernel, 8).error(), Error::kAccessDenied);
  EXPECT_EQ(VmWriter<Fallible>::FromUser(kernel, 8).error(), Error::kAccessDenied);
  // A window that starts in user space but runs into the kernel half.
  auto* straddle = reinterpret_cast<void*>(arch::kUserSpaceEnd - 4);
  EXPECT_EQ(VmWriter<Fallible>::FromUser(straddle, 8).error(), Error::kAccessDenied);
  // Empty windows are fine anywhere, and copy nothing.
  ASSERT_TRUE(VmReader<Fallible>::FromUser(nullptr, 0).ok());
  VmReader<Fallible> empty = VmReader<Fallible>::FromUser(kernel, 0).value();
  VmWriter<Infallible> out = VmWriter<Infallible>::FromSpan(buf);
  EXPECT_EQ(empty.ReadFallible(out).value(), 0u);
  EXPECT_EQ(out.avail(), buf.size());
}

// A fallible reader whose last `tail` readable bytes end at a guard page.
struct Edge {
  GuardedRegion region{64};
  std::vector<std::byte> pattern = Pattern(64, 3);
  Edge() { std::memcpy(region.data(), pattern.data(), 64); }
  VmReader<Fallible> ReaderOver(size_t tail, size_t past) {
    return VmReader<Fallible>::FromUser(region.end() - tail, tail + past).value();
  }
  VmWriter<Fallible> WriterOver(size_t tail, size_t past) {
    return VmWriter<Fallible>::FromUser(region.end() - tail, tail + past).value();
  }
};

TEST(FallibleCopy, ReadIntoAGuardPageReportsTheExactCount) {
  Edge edge;
  VmReader<Fallible> reader = edge.ReaderOver(10, 20);
  std::array<std::byte, 64> out{};
  VmWriter<Infallible> writer = VmWriter<Infallible>::FromSpan(out);
  CopyResult result = reader.ReadFallible(writer);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), (CopyError{Error::kPageFault, 10}));
  EXPECT_EQ(reader.remain(), 20u);
  EXPECT_EQ(writer.avail(), 54u);
  EXPECT_EQ(std::memcmp(out.data(), edge.pattern.data() + 54, 10), 0);
  EXPECT_EQ(out[10], std::byte{0});
}

TEST(FallibleCopy, WriteIntoAGuardPageReportsTheExactCount) {
  Edge edge;
  VmWriter<Fallible> writer = edge.WriterOver(7, 9);
  const std::vector<std::byte> src = Pattern(16, 9);
  VmReader<Infallible> reader = VmReader<Infallible>::FromSpan(src);
  CopyResult result = writer.WriteFallible(reader);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), (CopyError{Error::kPageFault, 7}));
  EXPECT_EQ(writer.avail(), 9u);
  EXPECT_EQ(reader.remain(), 9u);
  EXPECT_EQ(std::memcmp(edge.region.end() - 7, src.data(), 7), 0);
}

TEST(FallibleCopy, ReadValRollsBackOnFault) {
  Edge edge;
  VmReader<Fallible> reader = edge.ReaderOver(4, 4);
  const std::byte* start = reader.cursor();
  EXPECT_EQ(reader.ReadVal<uint64_t>().error(), Error::kPageFault);
  EXPECT_EQ(reader.cursor(), start);
  EXPECT_EQ(reader.remain(), 8u);
  // Too short is kInvalidArgs, also without moving.
  VmReader<Fallible> short_reader = edge.ReaderOver(4, 0);
  EXPECT_EQ(short_reader.ReadVal<uint64_t>().error(), Error::kInvalidArgs);
  EXPECT_EQ(short_reader.remain(), 4u);
  EXPECT_EQ(short_reader.ReadVal<uint32_t>().value(),
            std::bit_cast<uint32_t>(std::array<std::byte, 4>{edge.pattern[60], edge.pattern[61],
                                                             edge.pattern[62], edge.pattern[63]}));
}

TEST(FallibleCopy, WriteValRollsBackOnFault) {
  Edge edge;
  VmWriter<Fallible> writer = edge.WriterOver(3, 5);
  std::byte* start = writer.cursor();
  EXPECT_EQ(writer.WriteVal<uint64_t>(0x1122334455667788).error(), Error::kPageFault);
  EXPECT_EQ(writer.cursor(), start);
  EXPECT_EQ(writer.avail(), 8u);
  VmWriter<Fallible> fits = edge.WriterOver(8, 0);
  ASSERT_TRUE(fits.WriteVal<uint64_t>(0x1122334455667788).ok());
  EXPECT_EQ(fits.avail(), 0u);
  uint64_t back;
  std::memcpy(&back, edge.region.end() - 8, 8);
  EXPECT_EQ(back, 0x1122334455667788u);
}

TEST(FallibleCopy, CollectRestoresTheCursorOnFault) {
  Edge edge;
  VmReader<Fallible> reader = edge.ReaderOver(5, 1);
  EXPECT_EQ(reader.Collect().error(), Error::kPageFault);
  EXPECT_EQ(reader.remain(), 6u);
  VmReader<Fallible> ok_reader = edge.ReaderOver(5, 0);
  Result<std::vector<std::byte>> all = ok_reader.Collect();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 5u);
  EXPECT_EQ(std::memcmp(all->data(), edge.pattern.data() + 59, 5), 0);
  EXPECT_FALSE(ok_reader.has_remain());
  // The span form refuses a buffer that is too small.
  VmReader<Fallible> again = edge.ReaderOver(5, 0);
  std::array<std::byte, 4> small{};
  EXPECT_EQ(again.Collect(small).error(), Error::kInvalidArgs);
}

TEST(FallibleCopy, FillZerosReportsThePartialCount) {
  Edge edge;
  VmWriter<Fallible> writer = edge.WriterOver(6, 10);
  CopyResult result = writer.FillZeros(100);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), (CopyError{Error::kPageFault, 6}));
  EXPECT_EQ(writer.avail(), 10u);
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(edge.region.end()[-i], std::byte{0});
  EXPECT_NE(edge.region.end()[-7], std::byte{0});
}

TEST(Fill, InfallibleFillRepeatsTheValue) {
  std::array<uint32_t, 5> words{};
  VmWriter<Infallible> writer =
      VmWriter<Infallible>::FromSpan(std::as_writable_bytes(std::span(words)));
  EXPECT_EQ(writer.Fill<uint32_t>(0xdeadbeef), 5u);
  for (uint32_t w : words) EXPECT_EQ(w, 0xdeadbeefu);
  EXPECT_FALSE(writer.has_avail());
}

TEST(Once, ReadAndWriteOnceThroughAFallibleWindow) {
  Edge edge;
  VmWriter<Fallible> writer = edge.WriterOver(8, 0);
  ASSERT_TRUE(writer.WriteOnce<uint64_t>(0xa5a5'0000'ffff'1234).ok());
  VmReader<Fallible> reader = edge.ReaderOver(8, 0);
  EXPECT_EQ(reader.ReadOnce<uint64_t>().value(), 0xa5a5'0000'ffff'1234u);
  // Past the end of the window: kInvalidArgs. Into the guard page: kPageFault.
  EXPECT_EQ(reader.ReadOnce<uint8_t>().error(), Error::kInvalidArgs);
  VmReader<Fallible> faulting = VmReader<Fallible>::FromUser(edge.region.end(), 8).value();
  EXPECT_EQ(faulting.ReadOnce<uint64_t>().error(), Error::kPageFault);
  EXPECT_EQ(faulting.remain(), 8u);
  VmWriter<Fallible> faulting_writer = VmWriter<Fallible>::FromUser(edge.region.end(), 4).value();
  EXPECT_EQ(faulting_writer.WriteOnce<uint32_t>(1).error(), Error::kPageFault);
}

TEST(OnceDeathTest, MisalignedOnceAccessIsAPreconditionFailure) {
  alignas(8) std::array<std::byte, 16> buf{};
  VmReader<Infallible> reader = VmReader<Infallible>::FromSpan(buf);
  reader.Skip(1);
  EXPECT_DEATH((void)reader.ReadOnce<uint32_t>(), "not aligned");
  VmWriter<Infallible> writer = VmWriter<Infallible>::FromSpan(buf);
  writer.Skip(2);
  EXPECT_DEATH((void)writer.WriteOnce<uint64_t>(0), "not aligned");
}

// A concurrent writer flips a word between two values whose halves differ;
// ReadOnce must only ever see one of the two.
TEST(Once, ReadOnceNeverObservesATornValue) {
  constexpr uint64_t kA = 0x0000'0000'0000'0000;
  constexpr uint64_t kB = 0xffff'ffff'ffff'ffff;
  alignas(8) static std::byte word[8];
  std::atomic<bool> stop{false};
  std::thread flipper([&] {
    for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      VmWriter<Infallible> at = VmWriter<Infallible>::FromSpan(word);
      ASSERT_TRUE(at.WriteOnce<uint64_t>(i % 2 ? kA : kB).ok());
    }
  });
  VmReader<Fallible> base = VmReader<Infallible>::FromSpan(word).ToFallible();
  int torn = 0;
  for (int i = 0; i < 200000; ++i) {
    VmReader<Fallible> r = base;
    const uint64_t v = r.ReadOnce<uint64_t>().value();
    if (v != kA && v != kB) ++torn;
  }
  stop = true;
  flipper.join();
  EXPECT_EQ(torn, 0);
}

// A test VmIo: one MemoryVmIo over a window whose last page is a guard.
TEST(VmIo, NoShortReadsOrWrites) {
  GuardedRegion region(256);
  MemoryVmIo io = MemoryVmIo::Create(region.data(), 256).value();
  const std::vector<std::byte> data = Pattern(32);
  ASSERT_TRUE(io.WriteBytes(100, data).ok());
  std::vector<std::byte> back(32);
  ASSERT_TRUE(io.ReadBytes(100, back).ok());
  EXPECT_EQ(back, data);
  // Past the end: refused whole, nothing copied.
  std::vector<std::byte> big(40, std::byte{0x5a});
  EXPECT_EQ(io.ReadBytes(230, big).error(), Error::kOutOfRange);
  EXPECT_EQ(big[0], std::byte{0x5a});
  EXPECT_EQ(io.WriteBytes(250, data).error(), Error::kOutOfRange);
  EXPECT_EQ(io.ReadVal<uint32_t>(~size_t{0} - 1).error(), Error::kOutOfRange);
  // A window that claims more than is mapped: the fault is an error.
  MemoryVmIo lying = MemoryVmIo::Create(region.data(), 512).value();
  EXPECT_EQ(lying.ReadBytes(240, big).error(), Error::kPageFault);
  EXPECT_EQ(lying.WriteVal<uint64_t>(252, 7).error(), Error::kPageFault);
}

TEST(VmIo, ValsAndSlices) {
  GuardedRegion region(64);
  MemoryVmIo io = MemoryVmIo::Create(region.data(), 64).value();
  const std::array<uint16_t, 3> in = {1, 2, 3};
  ASSERT_TRUE(io.WriteSlice<uint16_t>(10, in).ok());
  std::array<uint16_t, 3> out{};
  ASSERT_TRUE(io.ReadSlice<uint16_t>(10, out).ok());
  EXPECT_EQ(out, in);
  EXPECT_EQ(io.ReadVal<uint16_t>(12).value(), 2);
}

TEST(VmIo, WriteValsAlignment) {
  GuardedRegion region(64);
  std::memset(region.data(), 0xff, 64);
  MemoryVmIo io = MemoryVmIo::Create(region.data(), 64).value();
  const std::array<uint32_t, 3> vals = {0x11111111, 0x22222222, 0x33333333};
  // align 0 and 1: packed from the offset.
  EXPECT_EQ(io.WriteVals<uint32_t>(1, vals, 1).value(), 3u);
  EXPECT_EQ(io.ReadVal<uint32_t>(5).value(), 0x22222222u);
  // align 8: the offset rounds up to 8 and each value takes 8 bytes.
  EXPECT_EQ(io.WriteVals<uint32_t>(17, vals, 8).value(), 3u);
  EXPECT_EQ(io.ReadVal<uint32_t>(24).value(), 0x11111111u);
  EXPECT_EQ(io.ReadVal<uint32_t>(32).value(), 0x22222222u);
  EXPECT_EQ(io.ReadVal<uint32_t>(40).value(), 0x33333333u);
  EXPECT_EQ(io.ReadVal<uint32_t>(28).value(), 0xffffffffu);
  // Room for two: the count of those written.
  EXPECT_EQ(io.WriteVals<uint32_t>(56, vals, 4).value(), 2u);
  // The first one already fails: its error.
  EXPECT_EQ(io.WriteVals<uint32_t>(62, vals, 0).error(), Error::kOutOfRange);
}

TEST(VmIoOnce, LoadsAndStoresAtOffsets) {
  GuardedRegion region(64);
  MemoryVmIo io = MemoryVmIo::Create(region.data(), 64).value();
  ASSERT_TRUE(io.WriteOnce<uint32_t>(8, 0xcafef00d).ok());
  EXPECT_EQ(io.ReadOnce<uint32_t>(8).value(), 0xcafef00du);
  EXPECT_EQ(io.ReadOnce<uint16_t>(8).value(), 0xf00du);
  EXPECT_EQ(io.ReadOnce<uint64_t>(60).error(), Error::kOutOfRange);
  // GuardedRegion(64) ends on a page boundary, so offset 8 is 8-aligned and
  // offset 9 is not.
  EXPECT_EQ(io.ReadOnce<uint32_t>(9).error(), Error::kInvalidArgs);
}

}  // namespace
}  // namespace hv::mm
