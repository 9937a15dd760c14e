// The VMs of the virtio test images, on the hypervisor's side: the virtio
// guest's VM (two vCPUs, a 256 KiB RAM disk starting with the embedded
// virtio_disk_image.txt, a virtio-console fed a line of input) and the
// check of what its devices hold after the run (virtio_guest_spec.h), and
// the hostile guest's VM.
#ifndef TESTING_GUESTS_RISCV64_VIRTIO_VM_H_
#define TESTING_GUESTS_RISCV64_VIRTIO_VM_H_

#include <hv/base/std.h>
#include <hv/riscv64/virtio_devices.h>
#include <hv/riscv64/vm_config.h>

namespace hv::guests {

// As on QEMU virt, devices take the last virtio-mmio slots.
inline constexpr int kVirtioBlkSlot = 7;
inline constexpr int kVirtioConsoleSlot = 6;

// The virtio guest (virtio_guest.cc) named `name` (static text).
riscv64::VmConfig VirtioGuestVm(std::string_view name);
// nullptr if the disk holds exactly the image overwritten by the guest's
// pattern, the console carried exactly the guest's lines and its input,
// the request errors are the guest's three bad requests and neither device
// needed a reset; else what is wrong.
const char* CheckVirtioGuestDevices(const riscv64::VirtioReport& report);

// The hostile guest (virtio_hostile_guest.cc): 16 MiB, a 64 KiB disk.
riscv64::VmConfig VirtioHostileVm(std::string_view name);
// nullptr if virtio-blk needed a reset exactly 4 times and answered one
// IOERR, virtio-console needed one, and both work again at the end.
const char* CheckVirtioHostileDevices(const riscv64::VirtioReport& report);

}  // namespace hv::guests

#endif  // TESTING_GUESTS_RISCV64_VIRTIO_VM_H_
