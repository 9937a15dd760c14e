// The timer guest: 20 timer interrupts while waiting in WFI; it must shut
// down with reason "none".
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/timer_guest_embed.h>

namespace hv::image {

const ImageVm kVms[] = {{.config = configs::VirtGuest("timer", guests::TimerGuest())}};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
