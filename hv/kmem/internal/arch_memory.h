// What KernelMemory needs from each architecture (arch_memory_<arch>.cc).
#ifndef HV_KMEM_INTERNAL_ARCH_MEMORY_H_
#define HV_KMEM_INTERNAL_ARCH_MEMORY_H_

#include <arch/boot.h>
#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <hv/kmem/kmem.h>
#include <hv/kmem/usable_ram.h>

namespace hv::kmem::internal {

// Adds the RAM the firmware reports to `ram`, minus what the firmware's own
// tables occupy and what it reserves. Errors: see KernelMemory::Init.
Result<void> AddFirmwareRam(const BootInfo& boot, PhysRangeSet& ram);

// The root the current CPU translates with.
HostPhysAddr CurrentRoot();

// The MMU of host spaces, falling back to the current root.
ArchMmu MakeMmu();

// The bytes [pa, pa + len) of physical memory, through the direct map.
// Errors: kOutOfRange if they are not all inside the direct map.
// REQUIRES: the range is memory (RAM or firmware tables), not a hole or a
// device, if the caller reads it.
Result<std::span<const std::byte>> PhysBytes(HostPhysAddr pa, uint64_t len);

}  // namespace hv::kmem::internal

#endif  // HV_KMEM_INTERNAL_ARCH_MEMORY_H_
