// The SBI guest on two vCPUs: every SBI function and error code, checked in
// the guest; it must shut down with reason "none".
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/sbi_guest_embed.h>

namespace hv::image {

const ImageVm kVms[] = {{.config = configs::VirtGuestSmp2("sbi", guests::SbiGuest())}};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
