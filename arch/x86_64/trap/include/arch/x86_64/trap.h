// Exceptions and interrupts taken by the kernel: the saved state and the IDT.
#ifndef ARCH_X86_64_TRAP_H_
#define ARCH_X86_64_TRAP_H_

#include <hv/base/std.h>

namespace hv::arch::x86_64 {

// Pushed by trap_entry.S (general registers, vector, error code) and by the
// CPU (rip..ss); layout shared with the assembly.
struct TrapFrame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector;
  uint64_t error_code;  // 0 for vectors without one
  uint64_t rip, cs, rflags, rsp, ss;
};
static_assert(sizeof(TrapFrame) == 22 * 8);

inline constexpr uint64_t kVectorGeneralProtection = 13;
inline constexpr uint64_t kVectorPageFault = 14;

// Loads an IDT whose 256 vectors all enter trap_entry.S. Called once by the
// boot code.
void InstallIdt();

// Prints `frame` (vector name, error code, rip, cr2, every register).
void PrintTrapFrame(const TrapFrame& frame);

}  // namespace hv::arch::x86_64

#endif  // ARCH_X86_64_TRAP_H_
