// Boot and machine services for guest images in the hypervisor's virtual
// machine: the console and the exit go through the SBI, which the
// hypervisor implements (or OpenSBI, when the same image is built for the
// QEMU board to measure SBI calls without a hypervisor).
#include <arch/boot.h>
#include <arch/machine.h>
#include <arch/riscv64/sbi.h>
#include <arch/riscv64/trap.h>
#include <hv/base/format.h>

extern "C" {
extern char __kernel_start[];
extern char __kernel_end[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
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
  uintptr_t fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const auto lo = reinterpret_cast<uintptr_t>(__kernel_start);
  const auto hi = reinterpret_cast<uintptr_t>(__kernel_end);
  Printf("backtrace:\n");
  for (int depth = 0; depth < 32; ++depth) {
    if (fp < lo + 16 || fp > hi || fp % 8 != 0) break;
    // SAFETY: fp lies within the image (checked above), which is guest RAM.
    const uintptr_t ra = reinterpret_cast<const uintptr_t*>(fp)[-1];
    const uintptr_t next = reinterpret_cast<const uintptr_t*>(fp)[-2];
    if (ra == 0) break;
    Printf("  #%d %#lx\n", depth, ra);
    if (next <= fp) break;
    fp = next;
  }
}

}  // namespace hv::arch

extern "C" [[noreturn]] void riscv64_guest_main(uint64_t hart_id, uintptr_t device_tree) {
  hv::arch::riscv64::InstallTrapVector();
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) {
    (*ctor)();
  }
  hv::KernelMain(hv::BootInfo{.boot_cpu = hart_id, .firmware_table = device_tree});
}
