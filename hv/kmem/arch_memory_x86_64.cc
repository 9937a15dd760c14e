// x86_64: RAM from the multiboot memory map (BootInfo's firmware_table is
// the physical address of the multiboot information), host spaces on CR3.
#include <arch/x86_64/mm/mmu.h>

#include "hv/kmem/internal/arch_memory.h"

namespace hv::kmem::internal {
namespace {

// Real-mode data and the BIOS: the interrupt vector table, BDA, EBDA, VGA
// memory and option ROMs. Available entries there are not for us.
constexpr uint64_t kLowMemory = 1 << 20;
// Longer strings from the loader are refused.
constexpr uint64_t kMaxMultibootString = 64 << 10;

// Removes the NUL-terminated string at `pa` (if any) from `ram`. Errors:
// kOutOfRange if it leaves the direct map or has no NUL within
// kMaxMultibootString bytes.
Result<void> RemoveString(uint32_t pa, PhysRangeSet& ram) {
  if (pa == 0) return Ok();
  for (uint64_t len = 0; len < kMaxMultibootString; ++len) {
    const std::span<const std::byte> byte = HV_TRY(PhysBytes(HostPhysAddr(pa + len), 1));
    if (byte[0] == std::byte{0}) return ram.Remove(HostPhysAddr(pa), len + 1);
  }
  return Error::kOutOfRange;
}

}  // namespace

Result<void> AddFirmwareRam(const BootInfo& boot, PhysRangeSet& ram) {
  const HostPhysAddr info_pa(boot.firmware_table);
  const std::span<const std::byte> info_bytes = HV_TRY(PhysBytes(info_pa, MultibootInfo::kSize));
  const MultibootInfo info = HV_TRY(ReadMultibootInfo(info_bytes));
  const HostPhysAddr mmap_pa(info.mmap_addr);
  const std::span<const std::byte> mmap = HV_TRY(PhysBytes(mmap_pa, info.mmap_length));
  HV_TRY(AddMultibootRam(mmap, ram));
  HV_TRY(ram.Remove(HostPhysAddr(0), kLowMemory));
  HV_TRY(ram.Remove(info_pa, MultibootInfo::kFullSize));
  HV_TRY(ram.Remove(mmap_pa, info.mmap_length));
  // QEMU puts these right after the image.
  HV_TRY(RemoveString(info.cmdline, ram));
  return RemoveString(info.boot_loader_name, ram);
}

HostPhysAddr CurrentRoot() { return arch::x86_64::ReadCr3Root(); }

ArchMmu MakeMmu() { return ArchMmu(arch::x86_64::ReadCr3Root()); }

}  // namespace hv::kmem::internal
