// Exit latency under the hypervisor (bench_guest.cc); bench_native_test runs
// the same code without it. The figures are in docs/performance.md.
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/bench_guest_embed.h>

namespace hv::image {

const ImageVm kVms[] = {{.config = configs::VirtGuest("bench", guests::BenchGuest())}};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
