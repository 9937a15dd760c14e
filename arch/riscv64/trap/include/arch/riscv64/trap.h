// Traps taken while the hart runs the kernel (HS-mode): the saved state and
// the entry point that trap_entry.S calls.
#ifndef ARCH_RISCV64_TRAP_H_
#define ARCH_RISCV64_TRAP_H_

#include <hv/base/std.h>

namespace hv::arch::riscv64 {

// Registers saved by trap_entry.S; layout shared with the assembly.
struct TrapFrame {
  uint64_t x[32];  // x[0] is unused; x[2] is the interrupted sp.
  uint64_t sepc;
  uint64_t sstatus;
  uint64_t scause;
  uint64_t stval;
};
static_assert(sizeof(TrapFrame) == 36 * 8);
static_assert(offsetof(TrapFrame, sepc) == 256);

// Installs trap_entry as stvec. Called once by the boot code.
void InstallTrapVector();

// Prints `frame` (cause, pc, faulting address, every register).
void PrintTrapFrame(const TrapFrame& frame);

// Handles supervisor interrupts taken while this hart runs S-mode code with
// sstatus.SIE set. `scause` has the interrupt bit; the handler must clear
// the source. Without a handler an interrupt is unexpected and panics.
using InterruptHandler = void (*)(uint64_t scause, TrapFrame& frame);
void SetInterruptHandler(InterruptHandler handler);

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_TRAP_H_
