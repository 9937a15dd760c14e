// A VM as data: what the hypervisor builds a virtual machine from. Configs
// live in hv/configs (C++ descriptions next to the device trees guests see)
// or in a test image.
//
// The device tree is the guest's view of the machine and the source of the
// device addresses: the VM builder places the emulated NS16550A and PLIC
// where the tree's `ns16550a` and `riscv,plic0` nodes say, an empty slot at
// every `virtio,mmio` node, and checks that the tree's /memory and /cpus
// agree with ram_base/ram_size/vcpus (a mismatch is a config error, not a
// guest surprise).
#ifndef HV_RISCV64_VM_CONFIG_H_
#define HV_RISCV64_VM_CONFIG_H_

#include <hv/base/addr.h>
#include <hv/base/std.h>

namespace hv::riscv64 {

struct VmConfig {
  // Prefix of the guest's console lines and name in reports (static
  // text: the VM keeps the view).
  std::string_view name;
  // Guest RAM [ram_base, ram_base + ram_size): page-aligned.
  GuestPhysAddr ram_base{0x8000'0000};
  uint64_t ram_size = 64 << 20;
  // The flat image, copied to image_gpa (inside RAM), and where vCPU 0
  // starts (the other vCPUs start through SBI HSM).
  std::span<const std::byte> image;
  GuestPhysAddr image_gpa{0x8000'0000};
  GuestPhysAddr entry{0x8000'0000};
  // The device tree blob, copied to the top of RAM (2 MiB-aligned, as QEMU
  // places it) and passed in a1.
  std::span<const std::byte> dtb;
  uint32_t vcpus = 1;
};

}  // namespace hv::riscv64

#endif  // HV_RISCV64_VM_CONFIG_H_
