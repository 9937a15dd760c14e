// The MMIO guest: every access width and instruction form on the emulated
// UART, checked in the guest; it must shut down with reason "none".
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/mmio_guest_embed.h>

namespace hv::image {

const ImageVm kVms[] = {{.config = configs::VirtGuest("mmio", guests::MmioGuest())}};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
