// A hostile virtio driver (virtio_hostile_guest.cc) breaks its virtio-blk
// and virtio-console queues in five ways, next to the virtio guest: both
// must shut down with reason "none" (the hostile one having seen
// DEVICE_NEEDS_RESET or IOERR each time and its devices working again after
// a reset), the hypervisor must have counted the resets, and the virtio
// guest's devices must hold exactly what it wrote, as when it runs alone.
#include <hv/image/image.h>

#include "testing/guests/riscv64/virtio_vm.h"

namespace hv::image {

const ImageVm kVms[] = {
    {.config = guests::VirtioHostileVm("hostile"),
     .check_devices = guests::CheckVirtioHostileDevices},
    {.config = guests::VirtioGuestVm("virtio"), .check_devices = guests::CheckVirtioGuestDevices},
};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
