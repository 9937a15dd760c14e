// The accessor algorithms over the hosted backend: real mmap'ed regions with
// guard pages, a real truncated memfd, and a model of guest memory.
#include <gtest/gtest.h>
#include <guestmem/accessor.h>
#include <guestmem/hosted_memory.h>
#include <hv/base/check.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <random>
#include <vector>

namespace hv::guestmem {
namespace {

constexpr uint64_t kKiB = 1024;

// Guest memory map used by most tests: two adjacent regions, a hole, a third.
//   [0x10000, 0x20000) anonymous   [0x20000, 0x30000) anonymous
//   [0x30000, 0x40000) hole        [0x40000, 0x50000) anonymous
HostedGuestMemory ThreeRegions() {
  const HostedGuestMemory::RegionSpec specs[] = {
      {GuestPhysAddr(0x40000), 64 * kKiB},
      {GuestPhysAddr(0x10000), 64 * kKiB},
      {GuestPhysAddr(0x20000), 64 * kKiB},
  };
  return HostedGuestMemory::Create(specs).value();
}

std::vector<std::byte> Bytes(size_t n, int seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return v;
}

TEST(HostedGuestMemory, RegionsAreSortedAndSeparatedByGuardPages) {
  HostedGuestMemory memory = ThreeRegions();
  ASSERT_EQ(memory.regions().size(), 3u);
  EXPECT_EQ(memory.regions()[0].base, GuestPhysAddr(0x10000));
  EXPECT_EQ(memory.regions()[2].base, GuestPhysAddr(0x40000));
  // Even for GPA-adjacent regions, the host mappings are not adjacent.
  EXPECT_GT(memory.regions()[1].host, memory.regions()[0].host + 64 * kKiB);
}

TEST(HostedGuestMemory, BadRegionSpecsAreRefused) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  using Spec = HostedGuestMemory::RegionSpec;
  const Spec unaligned[] = {{GuestPhysAddr(0x1001), page}};
  EXPECT_EQ(HostedGuestMemory::Create(unaligned).error(), Error::kInvalidArgs);
  const Spec odd_size[] = {{GuestPhysAddr(0x1000), page + 1}};
  EXPECT_EQ(HostedGuestMemory::Create(odd_size).error(), Error::kInvalidArgs);
  const Spec empty[] = {{GuestPhysAddr(0x1000), 0}};
  EXPECT_EQ(HostedGuestMemory::Create(empty).error(), Error::kInvalidArgs);
  const Spec overlapping[] = {{GuestPhysAddr(0x0), 4 * page}, {GuestPhysAddr(page), page}};
  EXPECT_EQ(HostedGuestMemory::Create(overlapping).error(), Error::kInvalidArgs);
  const Spec wrapping[] = {{GuestPhysAddr(~uint64_t{0} - page + 1), 2 * page}};
  EXPECT_EQ(HostedGuestMemory::Create(wrapping).error(), Error::kInvalidArgs);
  EXPECT_EQ(HostedGuestMemory::Create({}).error(), Error::kInvalidArgs);
}

TEST(Translate, LimitIsTheBytesLeftInTheRegion) {
  HostedGuestMemory memory = ThreeRegions();
  Translation t = memory.TranslateAndGetLimit(GuestPhysAddr(0x1fff0)).value();
  EXPECT_EQ(t.limit, 0x10u);
  EXPECT_EQ(PtrFromHostVirt<std::byte>(t.hva), memory.regions()[0].host + 0xfff0);
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(0x4ffff))->limit, 1u);
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(0x30000)).error(), Error::kOutOfRange);
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(0x50000)).error(), Error::kOutOfRange);
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(0xffff)).error(), Error::kOutOfRange);
}

TEST(Buffer, CrossesAdjacentRegionsWhole) {
  HostedGuestMemory memory = ThreeRegions();
  const std::vector<std::byte> data = Bytes(300, 5);
  ASSERT_EQ(memory.WriteBuffer(GuestPhysAddr(0x20000 - 100), data).value(), 300u);
  std::vector<std::byte> back(300);
  ASSERT_EQ(memory.ReadBuffer(GuestPhysAddr(0x20000 - 100), back).value(), 300u);
  EXPECT_EQ(back, data);
  EXPECT_EQ(std::memcmp(memory.regions()[1].host, data.data() + 100, 200), 0);
}

TEST(Buffer, AHoleStopsTheCopyWithTheExactCount) {
  HostedGuestMemory memory = ThreeRegions();
  std::vector<std::byte> out(64, std::byte{0x77});
  CopyResult r = memory.ReadBuffer(GuestPhysAddr(0x30000 - 24), out);
  EXPECT_EQ(r.error(), (CopyError{Error::kOutOfRange, 24}));
  EXPECT_EQ(out[24], std::byte{0x77});
  r = memory.WriteBuffer(GuestPhysAddr(0x2fff0), out);
  EXPECT_EQ(r.error(), (CopyError{Error::kOutOfRange, 16}));
  // Starting in the hole: nothing done.
  EXPECT_EQ(memory.ReadBuffer(GuestPhysAddr(0x38000), out).error(),
            (CopyError{Error::kOutOfRange, 0}));
}

TEST(Buffer, ZeroLengthTouchesNothing) {
  HostedGuestMemory memory = ThreeRegions();
  EXPECT_EQ(memory.ReadBuffer(GuestPhysAddr(0x38000), {}).value(), 0u);
  EXPECT_EQ(memory.WriteBuffer(GuestPhysAddr(~uint64_t{0}), {}).value(), 0u);
}

TEST(Buffer, TheLastByteOfGuestMemory) {
  HostedGuestMemory memory = ThreeRegions();
  const std::byte one[] = {std::byte{0xab}};
  ASSERT_EQ(memory.WriteBuffer(GuestPhysAddr(0x4ffff), one).value(), 1u);
  EXPECT_EQ(memory.ReadObj<uint8_t>(GuestPhysAddr(0x4ffff)).value(), 0xab);
  const std::byte two[] = {std::byte{1}, std::byte{2}};
  EXPECT_EQ(memory.WriteBuffer(GuestPhysAddr(0x4ffff), two).error(),
            (CopyError{Error::kOutOfRange, 1}));
  EXPECT_EQ(memory.ReadObj<uint16_t>(GuestPhysAddr(0x4ffff)).error(), Error::kOutOfRange);
}

TEST(Buffer, GpaPlusLenOverflowIsRefused) {
  HostedGuestMemory memory = ThreeRegions();
  std::vector<std::byte> out(32);
  EXPECT_EQ(memory.ReadBuffer(GuestPhysAddr(~uint64_t{0} - 7), out).error(),
            (CopyError{Error::kOutOfRange, 0}));
  EXPECT_EQ(memory.WriteBuffer(GuestPhysAddr(~uint64_t{0} - 7), out).error(),
            (CopyError{Error::kOutOfRange, 0}));
  EXPECT_EQ(memory.Reader(GuestPhysAddr(~uint64_t{0}), 2).error(), Error::kOutOfRange);
}

TEST(Obj, ObjectsStraddlingRegionsAreReadAndWrittenWhole) {
  HostedGuestMemory memory = ThreeRegions();
  const GuestPhysAddr straddle(0x20000 - 3);
  ASSERT_TRUE(memory.WriteObj<uint64_t>(straddle, 0x0102030405060708).ok());
  EXPECT_EQ(memory.ReadObj<uint64_t>(straddle).value(), 0x0102030405060708u);
  struct Odd {
    uint8_t bytes[13];
  };
  Odd odd;
  for (int i = 0; i < 13; ++i) odd.bytes[i] = static_cast<uint8_t>(i + 1);
  ASSERT_TRUE(memory.WriteObj(GuestPhysAddr(0x20000 - 6), odd).ok());
  EXPECT_EQ(std::memcmp(memory.ReadObj<Odd>(GuestPhysAddr(0x20000 - 6))->bytes, odd.bytes, 13), 0);
  // Into the hole: an error, not a partial object.
  EXPECT_EQ(memory.ReadObj<uint64_t>(GuestPhysAddr(0x30000 - 4)).error(), Error::kOutOfRange);
}

TEST(Volatile, AlignedSingleAccessesAndMisalignmentIsAnError) {
  HostedGuestMemory memory = ThreeRegions();
  ASSERT_TRUE(memory.WriteVolatile<uint32_t>(GuestPhysAddr(0x10008), 0xfeedface).ok());
  EXPECT_EQ(memory.ReadVolatile<uint32_t>(GuestPhysAddr(0x10008)).value(), 0xfeedfaceu);
  EXPECT_EQ(memory.ReadVolatile<uint32_t>(GuestPhysAddr(0x10009)).error(), Error::kInvalidArgs);
  EXPECT_EQ(memory.WriteVolatile<uint64_t>(GuestPhysAddr(0x1000c), 1).error(), Error::kInvalidArgs);
  EXPECT_EQ(memory.ReadVolatile<uint64_t>(GuestPhysAddr(0x30000)).error(), Error::kOutOfRange);
}

TEST(Bridges, ReaderWriterInsideOneTranslation) {
  HostedGuestMemory memory = ThreeRegions();
  mm::VmWriter<mm::Fallible> writer = memory.Writer(GuestPhysAddr(0x40010), 16).value();
  ASSERT_TRUE(writer.WriteVal<uint64_t>(42).ok());
  mm::VmReader<mm::Fallible> reader = memory.Reader(GuestPhysAddr(0x40010), 16).value();
  EXPECT_EQ(reader.ReadVal<uint64_t>().value(), 42u);
  // Not contiguous in one translation: refused.
  EXPECT_EQ(memory.Reader(GuestPhysAddr(0x1fff8), 16).error(), Error::kOutOfRange);
}

TEST(Bridges, AnyVmIoUserWorksOnGuestMemory) {
  HostedGuestMemory memory = ThreeRegions();
  GuestVmIo io(memory);
  const uint32_t vals[] = {7, 8, 9};
  EXPECT_EQ(io.WriteVals<uint32_t>(0x1fffc, vals, 8).value(), 3u);
  EXPECT_EQ(io.ReadVal<uint32_t>(0x20000).value(), 7u);
  EXPECT_EQ(io.ReadVal<uint32_t>(0x20008).value(), 8u);
  EXPECT_EQ(io.ReadOnce<uint32_t>(0x20010).value(), 9u);
  // No short reads: a read running into the hole fails whole.
  std::vector<std::byte> out(32);
  EXPECT_EQ(io.ReadBytes(0x2fff0, out).error(), Error::kOutOfRange);
}

// A backend that claims gpa 0x1000 exists with no bytes in it.
class ZeroLimitMemory final : public GuestMemoryAccessor {
 public:
  Result<Translation> TranslateAndGetLimit(GuestPhysAddr) const override {
    return Translation{HostVirtFromPtr(&byte_), 0};
  }

 private:
  std::byte byte_{};
};

TEST(Buffer, AZeroLimitIsAnErrorNotALoop) {
  ZeroLimitMemory memory;
  std::vector<std::byte> out(8);
  EXPECT_EQ(memory.ReadBuffer(GuestPhysAddr(0x1000), out).error(),
            (CopyError{Error::kOutOfRange, 0}));
  EXPECT_EQ(memory.ReadObj<uint32_t>(GuestPhysAddr(0x1000)).error(), Error::kOutOfRange);
}

TEST(Memfd, ATruncatedBackingFileFailsCleanlyAndTheProcessLivesOn) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const int fd = memfd_create("guest-ram", 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(2 * page)), 0);
  const HostedGuestMemory::RegionSpec spec[] = {{GuestPhysAddr(0x80000000), 2 * page, fd, 0}};
  HostedGuestMemory memory = HostedGuestMemory::Create(spec).value();
  const std::vector<std::byte> data = Bytes(2 * page, 3);
  ASSERT_EQ(memory.WriteBuffer(GuestPhysAddr(0x80000000), data).value(), 2 * page);

  // The file shrinks under the mapping: its second page now raises SIGBUS.
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(page)), 0);
  std::vector<std::byte> out(2 * page);
  CopyResult r = memory.ReadBuffer(GuestPhysAddr(0x80000000), out);
  EXPECT_EQ(r.error(), (CopyError{Error::kPageFault, page}));
  EXPECT_EQ(std::memcmp(out.data(), data.data(), page), 0);
  EXPECT_EQ(memory.WriteObj<uint64_t>(GuestPhysAddr(0x80000000 + page), 1).error(),
            Error::kPageFault);
  EXPECT_EQ(memory.ReadVolatile<uint32_t>(GuestPhysAddr(0x80000000 + page)).error(),
            Error::kPageFault);
  // The first page still works.
  EXPECT_EQ(memory.ReadObj<uint8_t>(GuestPhysAddr(0x80000001)).value(),
            static_cast<uint8_t>(data[1]));
  close(fd);
}

// A first access to guest memory that is a single faulting load, then a
// faulting store: exits 0 if both are kPageFault errors.
[[noreturn]] void FirstAccessFaults() {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const int fd = memfd_create("guest-ram", 0);
  HV_CHECK(fd >= 0 && ftruncate(fd, 0) == 0, "memfd_create or ftruncate failed");
  const HostedGuestMemory::RegionSpec spec[] = {{GuestPhysAddr(0x80000000), page, fd, 0}};
  HostedGuestMemory memory = HostedGuestMemory::Create(spec).value();
  const bool load_failed =
      memory.ReadObj<uint64_t>(GuestPhysAddr(0x80000000)).error() == Error::kPageFault;
  const bool store_failed =
      memory.WriteObj<uint32_t>(GuestPhysAddr(0x80000000), 1).error() == Error::kPageFault;
  _exit(load_failed && store_failed ? 0 : 1);
}

// The first access of the process must find the fault handler installed,
// not die of SIGBUS. GoogleTest runs *DeathTest suites before all others, so
// the child (forked: the "threadsafe" style's re-exec fails under
// qemu-riscv64) starts with no other test's accesses behind it.
TEST(MemfdDeathTest, AFaultingFirstReadObjIsAnError) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(FirstAccessFaults(), ::testing::ExitedWithCode(0), "");
}

// `ops` random reads and writes over [start, end) of `memory` (holes and
// all) compared with a flat reference buffer.
void CheckAgainstFlatModel(const HostedGuestMemory& memory, uint64_t start, uint64_t end, int ops) {
  std::vector<std::byte> model(end - start, std::byte{0});
  for (const auto& region : memory.regions()) std::memset(region.host, 0, region.size);
  auto in_ram = [&memory](uint64_t gpa) {
    for (const auto& r : memory.regions()) {
      if (gpa >= r.base.value() && gpa - r.base.value() < r.size) return true;
    }
    return false;
  };
  std::mt19937_64 rng(12345);
  std::vector<std::byte> buf;
  for (int op = 0; op < ops; ++op) {
    const uint64_t gpa = start + rng() % (end - start);
    const size_t len = static_cast<size_t>(rng() % 600);
    // The model's answer: bytes until the first byte that is not RAM.
    size_t expect = 0;
    while (expect < len && gpa + expect < end && in_ram(gpa + expect)) ++expect;
    if (gpa + len > end) continue;
    buf.resize(len);
    if (rng() % 2) {
      for (auto& b : buf) b = static_cast<std::byte>(rng());
      CopyResult r = memory.WriteBuffer(GuestPhysAddr(gpa), buf);
      const size_t done = r.ok() ? r.value() : r.error().done;
      ASSERT_EQ(done, expect) << "write at " << gpa << " len " << len;
      ASSERT_EQ(r.ok(), expect == len);
      std::memcpy(model.data() + (gpa - start), buf.data(), done);
    } else {
      CopyResult r = memory.ReadBuffer(GuestPhysAddr(gpa), buf);
      const size_t done = r.ok() ? r.value() : r.error().done;
      ASSERT_EQ(done, expect) << "read at " << gpa << " len " << len;
      ASSERT_EQ(std::memcmp(buf.data(), model.data() + (gpa - start), done), 0);
    }
  }
  // Finally, every RAM byte agrees with the model.
  for (const auto& region : memory.regions()) {
    ASSERT_EQ(std::memcmp(region.host, model.data() + (region.base.value() - start), region.size),
              0);
  }
}

// 100 000 random reads and writes compared with a flat reference buffer.
TEST(Property, RandomAccessMatchesAFlatModel) {
  // From below the first region to above the last: holes at both ends.
  CheckAgainstFlatModel(ThreeRegions(), 0x8000, 0x58000, 100000);
}

// More regions than the accessor keeps inline: one page each, in runs of
// adjacent pages separated by one-page holes. Up to 8 are scanned, more are
// found by binary search.
HostedGuestMemory ManyRegions(size_t count) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  std::vector<HostedGuestMemory::RegionSpec> specs;
  uint64_t gpa = 0x100000;
  for (size_t i = 0; i < count; ++i) {
    specs.push_back({GuestPhysAddr(gpa), page});
    gpa += (i % 3 == 2) ? 2 * page : page;
  }
  return HostedGuestMemory::Create(specs).value();
}

class ManyRegionsTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ManyRegionsTest, RandomAccessMatchesAFlatModel) {
  const HostedGuestMemory memory = ManyRegions(GetParam());
  ASSERT_EQ(memory.regions().size(), GetParam());
  const auto& last = memory.regions().back();
  CheckAgainstFlatModel(memory, 0x100000 - 0x1000, last.base.value() + last.size + 0x1000, 100000);
}

TEST_P(ManyRegionsTest, TranslateFindsEveryByteAndNoHole) {
  const HostedGuestMemory memory = ManyRegions(GetParam());
  const uint64_t page = memory.regions()[0].size;
  for (const auto& r : memory.regions()) {
    for (uint64_t offset : {uint64_t{0}, page / 2, page - 1}) {
      const Translation t =
          memory.TranslateAndGetLimit(GuestPhysAddr(r.base.value() + offset)).value();
      EXPECT_EQ(PtrFromHostVirt<std::byte>(t.hva), r.host + offset);
      EXPECT_EQ(t.limit, page - offset);
    }
  }
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(0)).error(), Error::kOutOfRange);
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(0x100000 - 1)).error(), Error::kOutOfRange);
  // The hole after the third page.
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(0x100000 + 3 * page)).error(),
            Error::kOutOfRange);
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(~uint64_t{0})).error(), Error::kOutOfRange);
}

// 6: scanned in place; 20: binary search.
INSTANTIATE_TEST_SUITE_P(Counts, ManyRegionsTest, ::testing::Values(6, 20));

TEST(HostedGuestMemory, AMovedFromObjectReachesNoMemory) {
  HostedGuestMemory from = ThreeRegions();
  const std::byte* const host = from.regions()[0].host;
  HostedGuestMemory to(std::move(from));
  // The new owner translates to the same mappings...
  EXPECT_EQ(PtrFromHostVirt<std::byte>(to.TranslateAndGetLimit(GuestPhysAddr(0x10000))->hva), host);
  ASSERT_TRUE(to.WriteObj<uint32_t>(GuestPhysAddr(0x10000), 7).ok());
  // ...and the old one has none left, on every path.
  EXPECT_EQ(from.TranslateAndGetLimit(GuestPhysAddr(0x10000)).error(), Error::kOutOfRange);
  EXPECT_EQ(from.ReadObj<uint32_t>(GuestPhysAddr(0x10000)).error(), Error::kOutOfRange);
  std::byte buf[16];
  EXPECT_EQ(from.ReadBuffer(GuestPhysAddr(0x10000), buf).error(),
            (CopyError{Error::kOutOfRange, 0}));
  EXPECT_EQ(to.ReadObj<uint32_t>(GuestPhysAddr(0x10000)).value(), 7u);
}

}  // namespace
}  // namespace hv::guestmem
