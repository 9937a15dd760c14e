// A VM that storms the hypervisor with ecalls, IPIs and a timer that is
// always pending, next to one that has work to do: the worker must finish
// (so the storm cannot starve it), and the storm must still be running then.
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/dt_pair_worker.h>
#include <testing/guests/riscv64/dt_small.h>
#include <testing/guests/riscv64/pair_guest_embed.h>
#include <testing/guests/riscv64/storm_guest_embed.h>

namespace hv::image {

const ImageVm kVms[] = {
    {.config = configs::VirtGuestWith("storm", guests::StormGuest(), guests::DtSmall(), 16 << 20),
     .expect = riscv64::Expectation::StillRunning()},
    {.config =
         configs::VirtGuestWith("worker", guests::PairGuest(), guests::DtPairWorker(), 16 << 20)},
};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
