// The smallest hypervisor test: one VM running hello_guest, which must shut
// down with reason "none" (its in-guest tests passed).
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/hello_guest_embed.h>

namespace hv::image {

const ImageVm kVms[] = {{.config = configs::VirtGuest("hello", guests::HelloGuest())}};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
