// Boot and machine services for guest images in the hypervisor's virtual
// machine: the console and the exit go through the SBI, which the
// hypervisor implements (or OpenSBI, when the same image is built for the
// QEMU board to measure SBI calls without a hypervisor).
#include <arch/boot.h>
#include <arch/constructors.h>
#include <arch/machine.h>
#include <arch/riscv64/backtrace.h>
#include <arch/riscv64/sbi.h>
#include <arch/riscv64/trap.h>
#include <hv/base/format.h>

extern "C" {
extern char __kernel_start[];
extern char __kernel_end[];
}

namespace hv::arch {

void EarlyPutChar(char c) { riscv64::sbi::ConsolePutChar(c); }

void ExitMachine(bool success) {
  // SRST system reset: shutdown, with "system failure" as the reason on
  // failure, which the hypervisor reports.
  riscv64::sbi::Call(riscv64::sbi::kExtSrst, 0, 0, success ? 0 : 1);
  // An SBI without SRST: the legacy shutdown.
  riscv64::sbi::Call(0x08, 0);
  for (;;) {
    asm volatile("wfi");
  }
}

void PrintBacktrace() {
  riscv64::PrintFramePointerBacktrace(reinterpret_cast<uintptr_t>(__kernel_start),
                                      reinterpret_cast<uintptr_t>(__kernel_end));
}

}  // namespace hv::arch

extern "C" [[noreturn]] void riscv64_guest_main(uint64_t hart_id, uintptr_t device_tree) {
  hv::arch::riscv64::InstallTrapVector();
  hv::arch::RunStaticConstructors();
  hv::KernelMain(hv::BootInfo{.boot_cpu = hart_id, .firmware_table = device_tree});
}
