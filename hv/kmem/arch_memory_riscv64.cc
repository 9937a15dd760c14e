// riscv64: RAM from the device tree OpenSBI passes on (BootInfo's
// firmware_table, physical), host spaces on satp.
#include <arch/riscv64/mm/mmu.h>
#include <hv/fdt/fdt.h>

#include "hv/kmem/internal/arch_memory.h"

namespace hv::kmem::internal {
namespace {

// Linux's bound on riscv64 (one 2 MiB page); QEMU's blob is a few KiB.
constexpr uint32_t kMaxDeviceTreeSize = 2 << 20;

}  // namespace

Result<void> AddFirmwareRam(const BootInfo& boot, PhysRangeSet& ram) {
  const HostPhysAddr blob_pa(boot.firmware_table);
  const std::span<const std::byte> header = HV_TRY(PhysBytes(blob_pa, fdt::kHeaderSize));
  // totalsize: the second big-endian word of the header.
  uint32_t total = 0;
  for (size_t i = 4; i < 8; ++i) total = (total << 8) | static_cast<uint32_t>(header[i]);
  if (total > kMaxDeviceTreeSize) return Error::kOutOfRange;
  const std::span<const std::byte> blob = HV_TRY(PhysBytes(blob_pa, total));
  const fdt::Fdt fdt = HV_TRY(fdt::Fdt::Create(blob));
  return AddDeviceTreeRam(fdt, blob_pa, ram);
}

HostPhysAddr CurrentRoot() { return arch::riscv64::SatpRoot(arch::riscv64::ReadSatp()); }

ArchMmu MakeMmu() {
  const uint64_t satp = arch::riscv64::ReadSatp();
  HV_CHECK(arch::riscv64::SatpMode(satp) == ArchFormat::kTranslationMode,
           "the kernel runs with satp %#lx, not Sv39", static_cast<unsigned long>(satp));
  return ArchMmu(ArchFormat::kTranslationMode, satp);
}

}  // namespace hv::kmem::internal
