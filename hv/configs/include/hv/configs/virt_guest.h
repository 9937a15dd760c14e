// VM configurations for the QEMU-virt-like machine of virt_guest.dtsi: RAM
// at 0x8000_0000, the image loaded and entered at the start of RAM, the
// device tree passed in a1.
//
//   VirtGuest(name, image)       one hart, 64 MiB (virt_guest.dts)
//   VirtGuestSmp2(name, image)   two harts, 64 MiB (virt_guest_smp2.dts)
//   VirtGuestWith(name, image, dtb, ram_size)
//                                 the same machine from another tree built on
//                                 virt_guest.dtsi (other RAM size, bootargs)
//   VirtGuestVirtioSlot(n)        the base of virtio-mmio slot n, for the
//                                 config's virtio devices
#ifndef HV_CONFIGS_VIRT_GUEST_H_
#define HV_CONFIGS_VIRT_GUEST_H_

#include <hv/base/std.h>
#include <hv/configs/virt_guest_dtb.h>
#include <hv/configs/virt_guest_smp2_dtb.h>
#include <hv/riscv64/vm_config.h>

namespace hv::configs {

inline constexpr uint64_t kVirtGuestRamBase = 0x8000'0000;
inline constexpr uint64_t kVirtGuestRamSize = uint64_t{64} << 20;

// virt_guest.dtsi has 8 virtio-mmio slots: slot n (0..7) at
// 0x1000_1000 + n * 0x1000 with PLIC source n + 1, as on QEMU virt (where
// devices fill the slots from the last one down).
inline constexpr int kVirtGuestVirtioSlots = 8;
inline constexpr GuestPhysAddr VirtGuestVirtioSlot(int n) {
  return GuestPhysAddr(0x1000'1000 + 0x1000 * static_cast<uint64_t>(n));
}

inline riscv64::VmConfig VirtGuestWith(std::string_view name, std::span<const std::byte> image,
                                       std::span<const std::byte> dtb,
                                       uint64_t ram_size = kVirtGuestRamSize, uint32_t vcpus = 1) {
  return riscv64::VmConfig{
      .name = name,
      .ram_base = GuestPhysAddr(kVirtGuestRamBase),
      .ram_size = ram_size,
      .image = image,
      .image_gpa = GuestPhysAddr(kVirtGuestRamBase),
      .entry = GuestPhysAddr(kVirtGuestRamBase),
      .dtb = dtb,
      .vcpus = vcpus,
  };
}

inline riscv64::VmConfig VirtGuest(std::string_view name, std::span<const std::byte> image) {
  return VirtGuestWith(name, image, VirtGuestDtb());
}

inline riscv64::VmConfig VirtGuestSmp2(std::string_view name, std::span<const std::byte> image) {
  return VirtGuestWith(name, image, VirtGuestSmp2Dtb(), kVirtGuestRamSize, 2);
}

}  // namespace hv::configs

#endif  // HV_CONFIGS_VIRT_GUEST_H_
