#include <arch/layout.h>
#include <hv/kmem/kmem.h>

#include "hv/kmem/internal/arch_memory.h"

extern "C" {
// Linker-script symbols (see platforms/<board>/kernel.ld).
extern char __kernel_start[];
extern char __kernel_end[];
}

namespace hv::kmem {
namespace {

// Constant-initialized and trivially destructible: no constructor or
// destructor runs for it.
constinit std::optional<KernelMemory> g_memory;

PhysRange KernelImage() {
  const HostPhysAddr start = arch::KernelVirtToPhys(HostVirtFromPtr(__kernel_start));
  const HostPhysAddr end = arch::KernelVirtToPhys(HostVirtFromPtr(__kernel_end));
  return *PhysRange::Create(start, end.value() - start.value());
}

}  // namespace

namespace internal {

Result<std::span<const std::byte>> PhysBytes(HostPhysAddr pa, uint64_t len) {
  if (pa.value() >= arch::kDirectMapSize || len > arch::kDirectMapSize - pa.value()) {
    return Error::kOutOfRange;
  }
  // SAFETY: the direct map covers [pa, pa + len) (checked above); the
  // caller reads only memory there (REQUIRES), which the firmware leaves in
  // place for the kernel's whole life.
  return std::span(PtrFromHostVirt<const std::byte>(arch::PhysToVirt(pa)), len);
}

}  // namespace internal

KernelMemory::KernelMemory(Key, mm::FrameAllocator& frames, const PhysRangeSet& usable_ram)
    : frames_(&frames),
      phys_(arch::kDirectMapBase),
      mmu_(internal::MakeMmu()),
      kernel_root_(internal::CurrentRoot()),
      usable_ram_(usable_ram) {}

Result<KernelMemory*> KernelMemory::Init(const BootInfo& boot) {
  if (g_memory) return &*g_memory;
  PhysRangeSet ram(HostPhysAddr(arch::kDirectMapSize));
  HV_TRY(internal::AddFirmwareRam(boot, ram));
  const PhysRange image = KernelImage();
  HV_TRY(ram.Remove(image.start(), image.size()));
  const std::optional<PhysRange> region = ram.Largest(mm::kPageSize);
  if (!region) return Error::kNoMemory;
  const mm::DirectMapPhysMem phys(arch::kDirectMapBase);
  mm::FrameAllocator* frames =
      HV_TRY(mm::FrameAllocator::Create(phys, region->start(), region->size()));
  g_memory.emplace(Key(), *frames, ram);
  return &*g_memory;
}

}  // namespace hv::kmem
