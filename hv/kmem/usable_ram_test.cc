// Usable RAM: the range set against a reference model (a bitmap of pages),
// and the device-tree and multiboot readers on real and hand-made tables,
// malformed ones included.
#include <gtest/gtest.h>

#include <hv/fdt/fdt.h>
#include <hv/fdt/testdata/qemu_virt_riscv64_smp2.h>
#include <hv/kmem/testdata/bad_reservation.h>
#include <hv/kmem/testdata/firmware_ram.h>
#include <hv/kmem/usable_ram.h>

#include <random>
#include <vector>

namespace hv::kmem {
namespace {

constexpr uint64_t kPage = 0x1000;
constexpr HostPhysAddr kNoLimit(~uint64_t{0});

PhysRange R(uint64_t start, uint64_t size) { return *PhysRange::Create(HostPhysAddr(start), size); }

std::vector<PhysRange> Ranges(const PhysRangeSet& set) {
  return std::vector<PhysRange>(set.ranges().begin(), set.ranges().end());
}

TEST(PhysRangeSet, AddMergesOverlappingAndAdjacentRanges) {
  PhysRangeSet set(kNoLimit);
  ASSERT_TRUE(set.Add(HostPhysAddr(0x5000), 0x1000).ok());
  ASSERT_TRUE(set.Add(HostPhysAddr(0x1000), 0x1000).ok());
  ASSERT_TRUE(set.Add(HostPhysAddr(0x9000), 0x1000).ok());
  EXPECT_EQ(Ranges(set), (std::vector{R(0x1000, 0x1000), R(0x5000, 0x1000), R(0x9000, 0x1000)}));
  ASSERT_TRUE(set.Add(HostPhysAddr(0x2000), 0x3000).ok()) << "touches both neighbours";
  EXPECT_EQ(Ranges(set), (std::vector{R(0x1000, 0x5000), R(0x9000, 0x1000)}));
  ASSERT_TRUE(set.Add(HostPhysAddr(0x0), 0x20000).ok()) << "swallows everything";
  EXPECT_EQ(Ranges(set), (std::vector{R(0, 0x20000)}));
  ASSERT_TRUE(set.Add(HostPhysAddr(0x30000), 0).ok());
  EXPECT_EQ(set.ranges().size(), 1u) << "an empty range adds nothing";
  EXPECT_EQ(set.TotalSize(), 0x20000u);
}

TEST(PhysRangeSet, RemoveSplitsAndTrims) {
  PhysRangeSet set(kNoLimit);
  ASSERT_TRUE(set.Add(HostPhysAddr(0x10000), 0x10000).ok());
  ASSERT_TRUE(set.Remove(HostPhysAddr(0x14000), 0x1000).ok());
  EXPECT_EQ(Ranges(set), (std::vector{R(0x10000, 0x4000), R(0x15000, 0xb000)}));
  ASSERT_TRUE(set.Remove(HostPhysAddr(0x8000), 0x9000).ok()) << "trims the front";
  EXPECT_EQ(Ranges(set), (std::vector{R(0x11000, 0x3000), R(0x15000, 0xb000)}));
  ASSERT_TRUE(set.Remove(HostPhysAddr(0x1f000), 0x100000).ok()) << "trims the back";
  EXPECT_EQ(Ranges(set), (std::vector{R(0x11000, 0x3000), R(0x15000, 0xa000)}));
  ASSERT_TRUE(set.Remove(HostPhysAddr(0x16000), ~uint64_t{0}).ok()) << "past 2^64: to the top";
  EXPECT_EQ(Ranges(set), (std::vector{R(0x11000, 0x3000), R(0x15000, 0x1000)}));
  ASSERT_TRUE(set.Remove(HostPhysAddr(0), 0x100000).ok());
  EXPECT_TRUE(set.ranges().empty());
}

TEST(PhysRangeSet, TheLimitCutsWhatIsAdded) {
  PhysRangeSet set(HostPhysAddr(0x10000));
  ASSERT_TRUE(set.Add(HostPhysAddr(0xe000), 0x8000).ok());
  ASSERT_TRUE(set.Add(HostPhysAddr(0x10000), 0x1000).ok());
  ASSERT_TRUE(set.Add(HostPhysAddr(0x20000), 0x1000).ok());
  EXPECT_EQ(Ranges(set), (std::vector{R(0xe000, 0x2000)}));
}

TEST(PhysRangeSet, RangesPastTwoToTheSixtyFourAreRefused) {
  PhysRangeSet set(kNoLimit);
  EXPECT_EQ(set.Add(HostPhysAddr(~uint64_t{0} - 0xfff), 0x2000).error(), Error::kInvalidArgs);
  EXPECT_EQ(set.Add(HostPhysAddr(0x1000), ~uint64_t{0}).error(), Error::kInvalidArgs);
  EXPECT_TRUE(set.ranges().empty());
}

TEST(PhysRangeSet, OverflowIsAnErrorAndChangesNothing) {
  PhysRangeSet set(kNoLimit);
  for (uint64_t i = 0; i < PhysRangeSet::kMaxRanges; ++i) {
    ASSERT_TRUE(set.Add(HostPhysAddr(i * 4 * kPage), kPage).ok());
  }
  const std::vector<PhysRange> before = Ranges(set);
  EXPECT_EQ(set.Add(HostPhysAddr(0x1000'0000), kPage).error(), Error::kOutOfRange);
  EXPECT_EQ(Ranges(set), before);
  // Growing a range needs no new slot.
  ASSERT_TRUE(set.Add(HostPhysAddr(kPage), 2 * kPage).ok());
  const std::vector<PhysRange> full = Ranges(set);
  ASSERT_EQ(full.size(), PhysRangeSet::kMaxRanges);
  EXPECT_EQ(full[0], R(0, 3 * kPage));
  // Punching a hole into a range needs a slot; trimming one does not.
  EXPECT_EQ(set.Remove(HostPhysAddr(kPage), kPage).error(), Error::kOutOfRange);
  EXPECT_EQ(Ranges(set), full);
  EXPECT_TRUE(set.Remove(HostPhysAddr(2 * kPage), kPage).ok());
  EXPECT_EQ(Ranges(set)[0], R(0, 2 * kPage));
}

TEST(PhysRangeSet, LargestAlignedRange) {
  PhysRangeSet set(kNoLimit);
  EXPECT_FALSE(set.Largest(kPage).has_value());
  ASSERT_TRUE(set.Add(HostPhysAddr(0x800), 0x3000).ok());    // pages 0x1000..0x3000
  ASSERT_TRUE(set.Add(HostPhysAddr(0x10001), 0x2ffe).ok());  // no whole page
  ASSERT_TRUE(set.Add(HostPhysAddr(0x20000), 0x2000).ok());  // pages 0x20000..0x22000
  EXPECT_EQ(set.Largest(kPage), R(0x1000, 0x2000)) << "the lowest of equals";
  ASSERT_TRUE(set.Add(HostPhysAddr(0x30000), 0x3800).ok());
  EXPECT_EQ(set.Largest(kPage), R(0x30000, 0x3000));
  EXPECT_EQ(set.Largest(0x10000), std::nullopt);
  ASSERT_TRUE(set.Add(HostPhysAddr(0x4ffff), 0x20002).ok());
  EXPECT_EQ(set.Largest(0x10000), R(0x50000, 0x20000));
}

// Random adds and removes against a bitmap of pages: the set always holds
// exactly the marked pages, as sorted, disjoint, non-adjacent ranges.
TEST(PhysRangeSet, MatchesABitmapModel) {
  constexpr uint64_t kPages = 96;
  constexpr uint64_t kLimitPage = 80;
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    PhysRangeSet set(HostPhysAddr(kLimitPage * kPage));
    std::vector<bool> model(kPages, false);
    for (int step = 0; step < 100; ++step) {
      const uint64_t first = rng() % kPages;
      const uint64_t count = rng() % 12;
      const bool add = rng() % 3 != 0;
      const std::vector<bool> before = model;
      const Result<void> result = add ? set.Add(HostPhysAddr(first * kPage), count * kPage)
                                      : set.Remove(HostPhysAddr(first * kPage), count * kPage);
      for (uint64_t p = first; p < first + count && p < kPages; ++p) {
        if (!add) model[p] = false;
        if (add && p < kLimitPage) model[p] = true;
      }
      if (!result.ok()) {
        ASSERT_EQ(result.error(), Error::kOutOfRange);
        model = before;
      }
      std::vector<bool> from_set(kPages, false);
      uint64_t previous_end = 0;
      bool first_range = true;
      for (const PhysRange& r : set.ranges()) {
        ASSERT_FALSE(r.empty());
        ASSERT_TRUE(first_range || r.start().value() > previous_end)
            << "ranges must be sorted, disjoint and not adjacent";
        first_range = false;
        previous_end = r.end().value();
        for (uint64_t a = r.start().value(); a < r.end().value(); a += kPage) {
          from_set[a / kPage] = true;
        }
      }
      ASSERT_EQ(from_set, model) << "round " << round << " step " << step;
      // The largest run of marked pages, the lowest first.
      uint64_t best_start = 0, best_len = 0, run = 0;
      for (uint64_t p = 0; p <= kPages; ++p) {
        if (p < kPages && model[p]) {
          ++run;
        } else {
          if (run > best_len) {
            best_len = run;
            best_start = p - run;
          }
          run = 0;
        }
      }
      const std::optional<PhysRange> largest = set.Largest(kPage);
      if (best_len == 0) {
        ASSERT_FALSE(largest.has_value());
      } else {
        ASSERT_EQ(largest, R(best_start * kPage, best_len * kPage));
      }
    }
  }
}

fdt::Fdt Parse(std::span<const std::byte> blob) { return fdt::Fdt::Create(blob).value(); }

TEST(DeviceTreeRam, MemoryMinusReservationsAndTheBlob) {
  const fdt::Fdt fdt = Parse(testdata::FirmwareRam());
  const uint64_t blob = 0x8fe0'0000;
  const uint64_t blob_size = fdt.blob().size();
  PhysRangeSet ram(kNoLimit);
  ASSERT_TRUE(AddDeviceTreeRam(fdt, HostPhysAddr(blob), ram).ok());
  EXPECT_EQ(
      Ranges(ram),
      (std::vector{
          // /memreserve/ and mmode_resv0 cut the front.
          R(0x8006'0000, blob - 0x8006'0000), R(blob + blob_size, 0x9000'0000 - blob - blob_size),
          // The disabled framebuffer reservation still counts.
          R(0x1'0000'0000, 0x400'0000), R(0x1'0410'0000, 0x3f0'0000), R(0x1'1000'0000, 0x100'0000),
          // memory@200000000 is disabled.
      }));
}

TEST(DeviceTreeRam, QemuVirtMachine) {
  const fdt::Fdt fdt = Parse(hv::fdt::testdata::QemuVirtSmp2());
  PhysRangeSet ram(kNoLimit);
  ASSERT_TRUE(AddDeviceTreeRam(fdt, HostPhysAddr(0x1000), ram).ok());
  EXPECT_EQ(Ranges(ram), (std::vector{R(0x8000'0000, 0x1000'0000)})) << "256 MiB, nothing reserved";
}

TEST(DeviceTreeRam, AMalformedReservationIsAnError) {
  const fdt::Fdt fdt = Parse(testdata::BadReservation());
  PhysRangeSet ram(kNoLimit);
  EXPECT_EQ(AddDeviceTreeRam(fdt, HostPhysAddr(0x1000), ram).error(), Error::kInvalidArgs);
}

TEST(DeviceTreeRam, TheLimitApplies) {
  const fdt::Fdt fdt = Parse(testdata::FirmwareRam());
  PhysRangeSet ram(HostPhysAddr(0x1'0000'0000));
  ASSERT_TRUE(AddDeviceTreeRam(fdt, HostPhysAddr(0x8fe0'0000), ram).ok());
  for (const PhysRange& r : ram.ranges()) EXPECT_LE(r.end().value(), 0x1'0000'0000u);
}

// A multiboot memory map entry: size of the rest, base, length, type, and
// `extra` bytes a newer loader may append.
void AppendEntry(std::vector<std::byte>& out, uint64_t base, uint64_t length, uint32_t type,
                 uint32_t extra = 0) {
  auto put = [&](uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
  };
  put(20 + extra, 4);
  put(base, 8);
  put(length, 8);
  put(type, 4);
  for (uint32_t i = 0; i < extra; ++i) out.push_back(std::byte{0xee});
}

// What QEMU 7.2's multiboot loader reports on the q35 board with -m 256M
// (printed by hv/kmem/kmem_ktest.cc).
std::vector<std::byte> QemuMap() {
  std::vector<std::byte> map;
  AppendEntry(map, 0, 0x9fc00, 1);
  AppendEntry(map, 0x9fc00, 0x400, 2);
  AppendEntry(map, 0xf0000, 0x10000, 2);
  AppendEntry(map, 0x100000, 0xfedf000, 1);
  AppendEntry(map, 0xffdf000, 0x21000, 2);
  AppendEntry(map, 0xb0000000, 0x10000000, 2);
  AppendEntry(map, 0xfed1c000, 0x4000, 2);
  AppendEntry(map, 0xfffc0000, 0x40000, 2);
  AppendEntry(map, 0xfd'0000'0000, 0x3'0000'0000, 2);
  return map;
}

TEST(MultibootRam, AvailableEntriesOnly) {
  PhysRangeSet ram(kNoLimit);
  ASSERT_TRUE(AddMultibootRam(QemuMap(), ram).ok());
  EXPECT_EQ(Ranges(ram), (std::vector{R(0, 0x9fc00), R(0x100000, 0xfedf000)}));
}

TEST(MultibootRam, EntriesLongerThanTheirFieldsAreSkippedOverCorrectly) {
  std::vector<std::byte> map;
  AppendEntry(map, 0x100000, 0x1000, 1, /*extra=*/4);
  AppendEntry(map, 0x200000, 0x1000, 1);
  PhysRangeSet ram(kNoLimit);
  ASSERT_TRUE(AddMultibootRam(map, ram).ok());
  EXPECT_EQ(Ranges(ram), (std::vector{R(0x100000, 0x1000), R(0x200000, 0x1000)}));
}

TEST(MultibootRam, MalformedMapsAreErrors) {
  PhysRangeSet ram(kNoLimit);
  std::vector<std::byte> map = QemuMap();
  map.pop_back();
  EXPECT_EQ(AddMultibootRam(map, ram).error(), Error::kInvalidArgs) << "truncated entry";
  map = QemuMap();
  map.push_back(std::byte{0});
  map.push_back(std::byte{0});
  EXPECT_EQ(AddMultibootRam(map, ram).error(), Error::kInvalidArgs) << "bytes after the last entry";
  map.clear();
  AppendEntry(map, 0x100000, 0x1000, 1);
  map[0] = std::byte{16};
  EXPECT_EQ(AddMultibootRam(map, ram).error(), Error::kInvalidArgs) << "size below the fields";
  map.clear();
  AppendEntry(map, 0xffff'ffff'ffff'f000, 0x2000, 1);
  EXPECT_EQ(AddMultibootRam(map, ram).error(), Error::kInvalidArgs) << "runs past 2^64";
  map.clear();
  AppendEntry(map, 0xffff'ffff'ffff'f000, 0x2000, 2);
  EXPECT_TRUE(AddMultibootRam(map, ram).ok()) << "only available entries are read as ranges";
  EXPECT_TRUE(AddMultibootRam({}, ram).ok()) << "an empty map";
}

void Put32(std::vector<std::byte>& bytes, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<std::byte>(value >> (8 * i));
}

// The structure QEMU 7.2's loader passes (flags 0x24f: memory sizes, boot
// device, command line, modules (none), memory map, loader name).
std::vector<std::byte> QemuInfo() {
  std::vector<std::byte> info(MultibootInfo::kSize, std::byte{0xcc});
  Put32(info, 0, 0x24f);
  Put32(info, 16, 0x222000);  // cmdline
  Put32(info, 20, 0);         // mods_count
  Put32(info, 44, 0xd8);      // mmap_length
  Put32(info, 48, 0x9000);    // mmap_addr
  Put32(info, 64, 0x22202b);  // boot_loader_name
  return info;
}

TEST(MultibootInfo, ReadsTheFieldsTheKernelUses) {
  const Result<MultibootInfo> read = ReadMultibootInfo(QemuInfo());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->flags, 0x24fu);
  EXPECT_EQ(read->mmap_length, 0xd8u);
  EXPECT_EQ(read->mmap_addr, 0x9000u);
  EXPECT_EQ(read->cmdline, 0x222000u);
  EXPECT_EQ(read->boot_loader_name, 0x22202bu);
}

TEST(MultibootInfo, FieldsTheFlagsDoNotCoverReadAsZero) {
  std::vector<std::byte> info = QemuInfo();
  Put32(info, 0, MultibootInfo::kFlagMemoryMap);
  const Result<MultibootInfo> read = ReadMultibootInfo(info);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->cmdline, 0u);
  EXPECT_EQ(read->boot_loader_name, 0u);
}

TEST(MultibootInfo, RefusedStructures) {
  std::vector<std::byte> info = QemuInfo();
  Put32(info, 0, 0x20f);
  EXPECT_EQ(ReadMultibootInfo(info).error(), Error::kNotFound) << "no memory map";
  info = QemuInfo();
  Put32(info, 20, 1);
  EXPECT_EQ(ReadMultibootInfo(info).error(), Error::kUnsupported) << "a module";
  info = QemuInfo();
  info.pop_back();
  EXPECT_EQ(ReadMultibootInfo(info).error(), Error::kInvalidArgs) << "too short";
}

}  // namespace
}  // namespace hv::kmem
