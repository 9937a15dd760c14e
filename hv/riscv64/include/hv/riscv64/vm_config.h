// A VM as data: what the hypervisor builds a virtual machine from. Configs
// live in hv/configs (C++ descriptions next to the device trees guests see)
// or in a test image.
//
// The device tree is the guest's view of the machine and the source of the
// device addresses: the VM builder places the emulated NS16550A and PLIC
// where the tree's `ns16550a` and `riscv,plic0` nodes say, the configured
// virtio devices in the `virtio,mmio` nodes the config names (their
// `interrupts` is their PLIC source), an empty slot at every other one, and
// checks that the tree's /memory and /cpus agree with ram_base/ram_size/
// vcpus (a mismatch is a config error, not a guest surprise).
#ifndef HV_RISCV64_VM_CONFIG_H_
#define HV_RISCV64_VM_CONFIG_H_

#include <hv/base/addr.h>
#include <hv/base/std.h>

namespace hv::riscv64 {

// A virtio-blk device over a RAM disk the VM owns: one 2 MiB frame from the
// hypervisor's frame allocator, taken when the VM is built (zeroed, then
// `image` copied to its start) and given back when the VM is destroyed.
struct VirtioBlkConfig {
  static constexpr uint64_t kMaxCapacity = uint64_t{2} << 20;

  // The base of the device tree's virtio,mmio node the device takes.
  GuestPhysAddr slot;
  // The disk's size in bytes: a non-zero multiple of 512, at most
  // kMaxCapacity.
  uint64_t capacity = 0;
  // The disk's first bytes (an image embedded in the hypervisor with
  // embed_cc_library, say); at most `capacity`. The rest reads as zeros.
  std::span<const std::byte> image;
  bool read_only = false;
  // What GET_ID returns (static text; at most 20 bytes are used).
  std::string_view serial;
};

// A virtio-console device (one port) whose output goes to the VM's console,
// line by line with the VM's name, like the UART's.
struct VirtioConsoleConfig {
  // The base of the device tree's virtio,mmio node the device takes.
  GuestPhysAddr slot;
  static constexpr size_t kMaxInputAfter = 64;

  // Input for the guest (static data; at most 4 KiB): delivered into receive
  // buffers as the guest posts them.
  std::span<const std::byte> input;
  // If not empty (static text, at most kMaxInputAfter bytes), `input` is held
  // back until the guest's output on this console contains this text (a
  // prompt), then delivered: a scripted reply, for guests that post receive
  // buffers long before they read them (Linux's drivers post them at probe
  // and drop what arrives while the port is closed).
  std::string_view input_after;
};

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
  // SBI SRST reboots (cold or warm) that restart the VM, as a machine reset
  // would: every vCPU stopped and reset, the PLIC, UART and virtio devices
  // reset (the RAM disk keeps its bytes), the image and the device tree
  // copied in again (the rest of RAM keeps its contents), vCPU 0 started at
  // the entry. The reboot after these ends the VM (VmEnd::kReboot), as
  // does every reboot with the default 0.
  uint32_t max_reboots = 0;
  // Virtio devices (at most one of each); other virtio,mmio slots are empty.
  std::optional<VirtioBlkConfig> virtio_blk;
  std::optional<VirtioConsoleConfig> virtio_console;
};

}  // namespace hv::riscv64

#endif  // HV_RISCV64_VM_CONFIG_H_
