// The virtual address layout: where user/guest windows end and, in kernel
// images, where the kernel and its direct map of physical memory live.
//
// Kernel images run in the upper half: all physical memory the board has is
// mapped at kDirectMapBase + pa, and the image itself is linked high. The
// lower half belongs to user/guest windows (fallible access) and is unmapped
// unless a VmSpace maps something there. A pointer at or above
// kUserSpaceEnd is therefore never a valid window, which is how fallible
// readers and writers tell a kernel pointer passed as a window apart.
//
// Guest images of the hypervisor's virtual machine (//platforms/hv_virt_guest,
// HV_GUEST_IMAGE) are the exception: they run with the MMU off, so their
// image, stack and RAM are at their (low) physical addresses. All of it is
// the image's own memory and there are no user windows (kUserSpaceEnd = 0);
// a guest driver reaches its RAM for device code through guestmem's
// validated windows, which this does not restrict.
#ifndef ARCH_LAYOUT_H_
#define ARCH_LAYOUT_H_

#include <hv/base/addr.h>
#include <hv/base/check.h>
#include <hv/base/std.h>

namespace hv::arch {

#if defined(HV_KERNEL) && defined(__riscv) && defined(HV_GUEST_IMAGE)
// Identity: physical addresses are addresses.
inline constexpr uint64_t kUserSpaceEnd = 0;
inline constexpr uint64_t kDirectMapBase = 0;
inline constexpr uint64_t kDirectMapSize = uint64_t{1} << 38;
inline constexpr uint64_t kImageBase = 0;
#elif defined(HV_KERNEL) && defined(__riscv)
// Sv39: the lower half is [0, 2^38).
inline constexpr uint64_t kUserSpaceEnd = uint64_t{1} << 38;
// Root entries 256.. map physical memory in 1 GiB pages; the image (loaded
// at 0x8020_0000) runs inside the direct map.
inline constexpr uint64_t kDirectMapBase = 0xffff'ffc0'0000'0000;
inline constexpr uint64_t kDirectMapSize = uint64_t{64} << 30;
inline constexpr uint64_t kImageBase = kDirectMapBase;  // image VA = kImageBase + PA
#elif defined(HV_KERNEL) && defined(__x86_64__)
// 4-level paging: the lower half is [0, 2^47).
inline constexpr uint64_t kUserSpaceEnd = uint64_t{1} << 47;
// PML4 entry 256 maps the first 4 GiB of physical memory (2 MiB pages); the
// image is linked in the top 2 GiB (-mcmodel=kernel), PML4 entry 511.
inline constexpr uint64_t kDirectMapBase = 0xffff'8000'0000'0000;
inline constexpr uint64_t kDirectMapSize = uint64_t{4} << 30;
inline constexpr uint64_t kImageBase = 0xffff'ffff'8000'0000;  // image VA = kImageBase + PA
#else
// Linux processes (host and qemu-riscv64): user space is the lower half of a
// 48-bit address space on both architectures.
inline constexpr uint64_t kUserSpaceEnd = uint64_t{1} << 47;
#endif

#if defined(HV_KERNEL)
// The direct-map address of physical address `pa`.
// REQUIRES: pa < kDirectMapSize.
inline HostVirtAddr PhysToVirt(HostPhysAddr pa) {
  HV_CHECK(pa.value() < kDirectMapSize, "physical address %#lx outside the direct map", pa.value());
  return HostVirtAddr(kDirectMapBase + pa.value());
}

// The physical address behind a direct-map or kernel-image address.
// REQUIRES: `va` is in the direct map or the kernel image.
inline HostPhysAddr KernelVirtToPhys(HostVirtAddr va) {
  if (va.value() >= kImageBase) return HostPhysAddr(va.value() - kImageBase);
  HV_CHECK(va.value() >= kDirectMapBase && va.value() - kDirectMapBase < kDirectMapSize,
           "%#lx is not a kernel address", va.value());
  return HostPhysAddr(va.value() - kDirectMapBase);
}
#endif

}  // namespace hv::arch

#endif  // ARCH_LAYOUT_H_
