// The virtio guest (virtio_guest.cc) with a virtio-blk and a virtio-console:
// it must shut down with reason "none", and afterwards the disk must hold
// exactly what the guest wrote over the embedded image and the console must
// have carried exactly its lines (virtio_vm.h).
#include <hv/image/image.h>

#include "testing/guests/riscv64/virtio_vm.h"

namespace hv::image {

const ImageVm kVms[] = {
    {.config = guests::VirtioGuestVm("virtio"), .check_devices = guests::CheckVirtioGuestDevices},
};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
