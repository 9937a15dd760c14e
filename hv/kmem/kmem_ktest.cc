// KernelMemory on the real boards: RAM found from the firmware's own tables
// (read again here, independently), the allocator over the largest usable
// range, host spaces that share the boot page table's kernel half.
#include <arch/layout.h>
#include <hv/base/format.h>
#include <hv/kmem/kmem.h>
#include <ktest/ktest.h>
#include <mm/paging.h>

#if defined(__riscv)
#include <arch/riscv64/mm/mmu.h>
#include <hv/fdt/fdt.h>
#elif defined(__x86_64__)
#include <arch/x86_64/mm/mmu.h>
#include <arch/x86_64/mm/pat.h>
#include <arch/x86_64/mm/pte.h>
#endif

extern "C" {
// Linker-script symbols (platforms/<board>/kernel.ld) and the boot page
// table (arch/<arch>/boot/entry.S).
extern char __kernel_start[];
extern char __kernel_end[];
#if defined(__riscv)
extern char boot_root_table[];
#elif defined(__x86_64__)
extern char boot_pml4[];
#endif
}

namespace {

using hv::HostPhysAddr;
using hv::kmem::KernelMemory;
using hv::kmem::PhysRange;

constexpr uint64_t kMiB = uint64_t{1} << 20;

KernelMemory* Kmem() {
  const hv::Result<KernelMemory*> kmem = KernelMemory::Init(ktest::Boot());
  if (!kmem.ok()) {
    hv::Printf("KernelMemory::Init: %s\n", hv::ErrorName(kmem.error()));
    return nullptr;
  }
  return *kmem;
}

PhysRange Range(uint64_t start, uint64_t size) {
  return *PhysRange::Create(HostPhysAddr(start), size);
}

PhysRange KernelImage() {
  const HostPhysAddr start = hv::arch::KernelVirtToPhys(hv::HostVirtFromPtr(__kernel_start));
  const HostPhysAddr end = hv::arch::KernelVirtToPhys(hv::HostVirtFromPtr(__kernel_end));
  return Range(start.value(), end.value() - start.value());
}

HostPhysAddr BootRootTable() {
#if defined(__riscv)
  return hv::arch::KernelVirtToPhys(hv::HostVirtFromPtr(boot_root_table));
#elif defined(__x86_64__)
  return hv::arch::KernelVirtToPhys(hv::HostVirtFromPtr(boot_pml4));
#endif
}

HostPhysAddr CurrentRoot() {
#if defined(__riscv)
  return hv::arch::riscv64::SatpRoot(hv::arch::riscv64::ReadSatp());
#elif defined(__x86_64__)
  return hv::arch::x86_64::ReadCr3Root();
#endif
}

// Root entry `i` of the table at `root`, read through the direct map.
uint64_t RootEntry(HostPhysAddr root, uint64_t i) {
  // SAFETY: `root` is a page-table page in RAM, inside the direct map;
  // i < 512. Page tables are read only.
  return hv::PtrFromHostVirt<const volatile uint64_t>(hv::arch::PhysToVirt(root))[i];
}

}  // namespace

TEST(KernelMemory, InitOnceThenTheSameObject) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  EXPECT_EQ(Kmem(), kmem);
  hv::Printf("usable RAM:\n");
  for (const PhysRange& r : kmem->usable_ram().ranges()) {
    hv::Printf("  [%#lx, %#lx)\n", r.start().value(), r.end().value());
  }
  hv::Printf("frame allocator: [%#lx, %#lx), %lu free frames\n", kmem->frames().base().value(),
             kmem->frames().base().value() + kmem->frames().size(), kmem->frames().free_frames());
}

TEST(KernelMemory, TheAllocatorHasTheLargestUsableRange) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  const PhysRange managed = Range(kmem->frames().base().value(), kmem->frames().size());
  EXPECT_EQ(kmem->usable_ram().Largest(hv::mm::kPageSize), managed);
  // The boards have 256 MiB; the image and the firmware take a few.
  EXPECT_GE(managed.size(), 200 * kMiB);
  EXPECT_GE(kmem->frames().free_frames(), 190 * kMiB / hv::mm::kPageSize);
  EXPECT_LE(managed.end().value(), hv::arch::kDirectMapSize);
}

TEST(KernelMemory, TheImageIsNotUsable) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  EXPECT_FALSE(kmem->usable_ram().Overlaps(KernelImage()));
}

#if defined(__riscv)
// The device tree, and everything it reserves, is left alone.
TEST(KernelMemory, TheDeviceTreeAndItsReservationsAreNotUsable) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  const HostPhysAddr blob_pa(ktest::Boot().firmware_table);
  // SAFETY: OpenSBI's device tree lies in RAM, in the direct map; the
  // header is read first, the rest up to its totalsize.
  const auto* blob = hv::PtrFromHostVirt<const std::byte>(hv::arch::PhysToVirt(blob_pa));
  uint32_t total = 0;
  for (size_t i = 4; i < 8; ++i) total = (total << 8) | static_cast<uint32_t>(blob[i]);
  const auto tree = hv::fdt::Fdt::Create(std::span(blob, total));
  ASSERT_TRUE(tree.ok());
  EXPECT_FALSE(kmem->usable_ram().Overlaps(Range(blob_pa.value(), total)));
  size_t reserved = 0;
  for (const hv::fdt::RegEntry r : tree->reservations()) {
    hv::Printf("memreserve [%#lx, %#lx)\n", r.address, r.address + r.size);
    EXPECT_FALSE(kmem->usable_ram().Overlaps(Range(r.address, r.size)));
    ++reserved;
  }
  const auto reserved_memory = tree->root().FindChild("reserved-memory");
  if (reserved_memory.ok()) {
    for (const hv::fdt::Node child : reserved_memory->children()) {
      const auto reg = child.Reg();
      if (!reg.ok()) continue;
      for (const hv::fdt::RegEntry r : *reg) {
        hv::Printf("reserved-memory %.*s [%#lx, %#lx)\n", static_cast<int>(child.name().size()),
                   child.name().data(), r.address, r.address + r.size);
        EXPECT_FALSE(kmem->usable_ram().Overlaps(Range(r.address, r.size)));
        ++reserved;
      }
    }
  }
  EXPECT_GT(reserved, 0u) << "OpenSBI reserves its own memory";
}
#elif defined(__x86_64__)
TEST(KernelMemory, LowMemoryAndTheMultibootTablesAreNotUsable) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  EXPECT_FALSE(kmem->usable_ram().Overlaps(Range(0, kMiB)));
  const HostPhysAddr info_pa(ktest::Boot().firmware_table);
  // SAFETY: the multiboot information lies in RAM, in the direct map; the
  // fields up to boot_loader_name (68 bytes) are read.
  const auto* info = hv::PtrFromHostVirt<const uint32_t>(hv::arch::PhysToVirt(info_pa));
  hv::Printf(
      "multiboot info at %#lx (flags %#x, cmdline %#x, loader name %#x), memory map "
      "[%#x, +%#x)\n",
      info_pa.value(), info[0], info[4], info[16], info[12], info[11]);
  EXPECT_FALSE(kmem->usable_ram().Overlaps(Range(info_pa.value(), 116)));
  EXPECT_FALSE(kmem->usable_ram().Overlaps(Range(info[12], info[11])));
  // QEMU passes both strings, right after the image.
  ASSERT_EQ(info[0] & 0x204u, 0x204u);
  for (const uint32_t string : {info[4], info[16]}) {
    // SAFETY: a NUL-terminated string in RAM, in the direct map.
    const auto* chars = hv::PtrFromHostVirt<const char>(hv::arch::PhysToVirt(HostPhysAddr(string)));
    uint64_t len = 0;
    while (chars[len] != '\0') ++len;
    hv::Printf("  string at %#x: \"%s\"\n", string, chars);
    EXPECT_FALSE(kmem->usable_ram().Overlaps(Range(string, len + 1))) << "string at " << string;
  }
  // Every usable byte is in an available entry of the map. SAFETY: the
  // memory map lies in RAM, in the direct map, mmap_length bytes long.
  const auto* map =
      hv::PtrFromHostVirt<const uint8_t>(hv::arch::PhysToVirt(HostPhysAddr(info[12])));
  hv::kmem::PhysRangeSet available(HostPhysAddr(~uint64_t{0}));
  for (uint32_t off = 0; off + 24 <= info[11];) {
    uint32_t size;
    uint64_t base;
    uint64_t len;
    uint32_t type;
    __builtin_memcpy(&size, map + off, 4);
    __builtin_memcpy(&base, map + off + 4, 8);
    __builtin_memcpy(&len, map + off + 12, 8);
    __builtin_memcpy(&type, map + off + 20, 4);
    hv::Printf("  [%#lx, %#lx) type %u\n", base, base + len, type);
    if (type == 1) {
      ASSERT_TRUE(available.Add(HostPhysAddr(base), len).ok());
    }
    off += 4 + size;
  }
  for (const PhysRange& r : kmem->usable_ram().ranges()) {
    hv::kmem::PhysRangeSet outside = available;
    ASSERT_TRUE(outside.Remove(HostPhysAddr(0), r.start().value()).ok());
    ASSERT_TRUE(outside.Remove(r.end(), ~uint64_t{0}).ok());
    EXPECT_EQ(outside.TotalSize(), r.size()) << "usable range at " << r.start().value();
  }
}

TEST(KernelMemory, BootProgrammedThePatTheFormatAssumes) {
  EXPECT_EQ(hv::arch::x86_64::ReadPat(), hv::arch::x86_64::kPatMsrValue);
}
#endif

TEST(KernelMemory, KernelRootIsTheBootPageTable) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  EXPECT_EQ(kmem->kernel_root(), BootRootTable());
  EXPECT_EQ(CurrentRoot(), BootRootTable());
}

// A new host space has an empty lower half and the boot table's upper
// half; running on it, the kernel (code, stack, globals, direct map) keeps
// working, and deactivating it returns to the boot table.
TEST(KernelMemory, HostSpacesShareTheKernelHalf) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  const uint64_t free_before = kmem->frames().free_frames();
  {
    auto space = kmem->CreateHostSpace();
    ASSERT_TRUE(space.ok());
    const HostPhysAddr root = space->root_paddr();
    EXPECT_TRUE(kmem->frames().Contains(root));
    size_t kernel_entries = 0;
    for (uint64_t i = 0; i < 512; ++i) {
      if (i < 256) {
        EXPECT_EQ(RootEntry(root, i), 0u) << "lower-half entry " << i;
      } else {
        EXPECT_EQ(RootEntry(root, i), RootEntry(kmem->kernel_root(), i)) << "entry " << i;
        kernel_entries += RootEntry(root, i) != 0;
      }
    }
    EXPECT_GT(kernel_entries, 0u);
    space->Activate();
    EXPECT_EQ(CurrentRoot(), root);
    EXPECT_TRUE(space->IsActiveOnCurrentCpu());
    // A frame's contents through the direct map, on the new root.
    auto frame = kmem->frames().Alloc();
    ASSERT_TRUE(frame.ok());
    auto* bytes = hv::PtrFromHostVirt<volatile uint8_t>(hv::arch::PhysToVirt(frame->paddr()));
    for (size_t i = 0; i < hv::mm::kPageSize; ++i) {
      // SAFETY: the frame is ours, in the direct map.
      bytes[i] = static_cast<uint8_t>(i * 13);
    }
    bool same = true;
    for (size_t i = 0; i < hv::mm::kPageSize; ++i) {
      // SAFETY: as above.
      same = same && bytes[i] == static_cast<uint8_t>(i * 13);
    }
    EXPECT_TRUE(same);
    space->Deactivate();
    EXPECT_EQ(CurrentRoot(), kmem->kernel_root());
  }
  EXPECT_EQ(kmem->frames().free_frames(), free_before);
}
