// A hostile guest: tries one access the hypervisor must not allow, named by
// bootargs "isolation=<what>", and fails its test if it survives it. Each
// must stop the VM with a report while the hypervisor and the other VMs go
// on (isolation_test.cc says how each must end).
//
//   load-beyond-ram     ld just past the end of its 16 MiB of RAM
//   store-low           sd into the low guest-physical range (0x1000)
//   store-host-ram      sd at 0x8800_0000: host RAM (the hypervisor's frames
//                       live around there), but not the guest's
//   load-gpa-top        ld at the last doubleword of the 41-bit G-stage space
//   load-past-gpa-space ld at 2^41: beyond what Sv39x4 translates
//   fetch-outside-ram   jump to 0x4000_0000
//   amo-uart            amoadd.w on the UART: not an emulated instruction
//   fld-uart            fld from the UART: FP access to a device
#include <board/config.h>
#include <hv/base/format.h>
#include <ktest/ktest.h>
#include "testing/guests/riscv64/guest_args.h"

extern "C" {
void isolation_amoadd_w(uint64_t addr);
void isolation_fld(uint64_t addr);
}

namespace {

uint64_t Load(uint64_t addr) {
  // SAFETY: deliberately wild: the hypervisor must stop this guest here.
  return *reinterpret_cast<volatile uint64_t*>(addr);
}

void Store(uint64_t addr, uint64_t value) {
  // SAFETY: as Load.
  *reinterpret_cast<volatile uint64_t*>(addr) = value;
}

TEST(Isolation, TheWildAccessStopsThisVm) {
  const std::string_view what = hv::guests::BootArg("isolation");
  hv::Printf("trying: %.*s\n", static_cast<int>(what.size()), what.data());
  if (what == "load-beyond-ram") {
    Load(0x8100'0000);
  } else if (what == "store-low") {
    Store(0x1000, 1);
  } else if (what == "store-host-ram") {
    Store(0x8800'0000, 0xbad);
  } else if (what == "load-gpa-top") {
    Load((uint64_t{1} << 41) - 8);
  } else if (what == "load-past-gpa-space") {
    Load(uint64_t{1} << 41);
  } else if (what == "fetch-outside-ram") {
    // SAFETY: as Load: the fetch must stop the guest.
    reinterpret_cast<void (*)()>(uint64_t{0x4000'0000})();
  } else if (what == "amo-uart") {
    isolation_amoadd_w(hv::board::kUart0Base);
  } else if (what == "fld-uart") {
    isolation_fld(hv::board::kUart0Base);
  } else {
    ADD_FAILURE() << "unknown isolation case";
    return;
  }
  ADD_FAILURE() << "the guest survived";
}

}  // namespace
