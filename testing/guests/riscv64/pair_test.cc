// Two VMs time-sliced on one hart, the same image at the same guest-physical
// addresses: each prints its own rounds (prefixed [a] / [b]) and checks that
// its memory never shows the other's marker; both must pass.
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/dt_pair_a.h>
#include <testing/guests/riscv64/dt_pair_b.h>
#include <testing/guests/riscv64/pair_guest_embed.h>

namespace hv::image {

const ImageVm kVms[] = {
    {.config = configs::VirtGuestWith("a", guests::PairGuest(), guests::DtPairA(), 16 << 20)},
    {.config = configs::VirtGuestWith("b", guests::PairGuest(), guests::DtPairB(), 16 << 20)},
};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
