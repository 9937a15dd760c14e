// The demo image: the hypervisor with the demo guest.
#include <hv/configs/virt_guest.h>
#include <hv/demo/demo_guest_embed.h>
#include <hv/image/image.h>

namespace hv::image {

const ImageVm kVms[] = {{.config = configs::VirtGuest("demo", guests::DemoGuest())}};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
