// Hostile guests, one wild access each (isolation_guest.cc), next to a
// well-behaved one: every hostile VM must be stopped for exactly its
// access, and the hypervisor and the bystander must carry on.
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/dt_isolation_amo_uart.h>
#include <testing/guests/riscv64/dt_isolation_fetch_outside_ram.h>
#include <testing/guests/riscv64/dt_isolation_fld_uart.h>
#include <testing/guests/riscv64/dt_isolation_load_beyond_ram.h>
#include <testing/guests/riscv64/dt_isolation_load_gpa_top.h>
#include <testing/guests/riscv64/dt_isolation_load_past_gpa_space.h>
#include <testing/guests/riscv64/dt_isolation_store_host_ram.h>
#include <testing/guests/riscv64/dt_isolation_store_low.h>
#include <testing/guests/riscv64/dt_small.h>
#include <testing/guests/riscv64/hello_guest_embed.h>
#include <testing/guests/riscv64/isolation_guest_embed.h>

namespace hv::image {
namespace {

using riscv64::Expectation;
using riscv64::StopReason;

constexpr uint64_t kSmallRam = 16 << 20;

riscv64::VmConfig Hostile(std::string_view name, std::span<const std::byte> dtb) {
  return configs::VirtGuestWith(name, guests::IsolationGuest(), dtb, kSmallRam);
}

}  // namespace

const ImageVm kVms[] = {
    {.config = Hostile("beyond-ram", guests::DtIsolationLoadBeyondRam()),
     .expect = Expectation::Stopped(StopReason::kOutsideRamAndDevices, 0x8100'0000)},
    {.config = Hostile("store-low", guests::DtIsolationStoreLow()),
     .expect = Expectation::Stopped(StopReason::kOutsideRamAndDevices, 0x1000)},
    {.config = Hostile("host-ram", guests::DtIsolationStoreHostRam()),
     .expect = Expectation::Stopped(StopReason::kOutsideRamAndDevices, 0x8800'0000)},
    {.config = Hostile("gpa-top", guests::DtIsolationLoadGpaTop()),
     .expect = Expectation::Stopped(StopReason::kOutsideRamAndDevices, (uint64_t{1} << 41) - 8)},
    {.config = Hostile("past-gpa", guests::DtIsolationLoadPastGpaSpace()),
     .expect = Expectation::Stopped(StopReason::kOutsideRamAndDevices, uint64_t{1} << 41)},
    {.config = Hostile("fetch", guests::DtIsolationFetchOutsideRam()),
     .expect = Expectation::Stopped(StopReason::kFetchOutsideRam, 0x4000'0000)},
    {.config = Hostile("amo", guests::DtIsolationAmoUart()),
     .expect = Expectation::Stopped(StopReason::kBadMmioInstruction, 0x1000'0000)},
    {.config = Hostile("fld", guests::DtIsolationFldUart()),
     .expect = Expectation::Stopped(StopReason::kBadMmioInstruction, 0x1000'0000)},
    {.config =
         configs::VirtGuestWith("bystander", guests::HelloGuest(), guests::DtSmall(), kSmallRam)},
};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
