// A guest that never stops making trouble: it floods the hypervisor with
// ecalls, sends itself IPIs and keeps its timer firing with every interrupt
// enabled in sie but sstatus.SIE off (so they stay pending), and reads the
// UART in between. Its test never ends; the VM must still be running when
// the others have finished, which they can only do if it cannot starve them.
#include <arch/riscv64/csr.h>
#include <arch/riscv64/sbi.h>
#include <board/config.h>
#include <hv/base/format.h>
#include <ktest/ktest.h>

namespace {

namespace sbi = hv::arch::riscv64::sbi;

TEST(Storm, Forever) {
  HV_CSR_SET(sie, (1 << 1) | (1 << 5) | (1 << 9));
  hv::Printf("storming\n");
  for (uint64_t i = 0;; ++i) {
    sbi::Call(sbi::kExtIpi, 0, 1, 0);
    sbi::Call(sbi::kExtTime, 0, 0);
    sbi::Call(sbi::kExtBase, 3, i);
    sbi::Call(sbi::kExtRfence, 1, 1, 0, 0, ~uint64_t{0});
    // SAFETY: the UART's LSR, a device register of the virtual machine.
    (void)*reinterpret_cast<volatile uint8_t*>(hv::board::kUart0Base + 5);
  }
}

}  // namespace
