// VM reboots: one VM allowed two reboots (reboot_guest.cc reboots twice and
// must pass on its third boot: exactly two reboots, then a clean shutdown),
// and the same guest allowed none, whose first reboot ends it.
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/reboot_guest_embed.h>

namespace hv::image {
namespace {

riscv64::VmConfig Rebooting(std::string_view name, uint32_t max_reboots) {
  riscv64::VmConfig config = configs::VirtGuestSmp2(name, guests::RebootGuest());
  config.max_reboots = max_reboots;
  return config;
}

const ImageVm kVms[] = {
    {.config = Rebooting("reboot", 2),
     .expect = riscv64::Expectation::CleanShutdown().AfterReboots(2)},
    {.config = Rebooting("noreboot", 0),
     .expect = riscv64::Expectation{.end = riscv64::VmEnd::kReboot, .reboots = 0}},
};

}  // namespace

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
