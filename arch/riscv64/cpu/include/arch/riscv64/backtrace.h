// The riscv64 frame-pointer walk behind arch::PrintBacktrace.
#ifndef ARCH_RISCV64_BACKTRACE_H_
#define ARCH_RISCV64_BACKTRACE_H_

#include <hv/base/std.h>

namespace hv::arch::riscv64 {

// Prints the return addresses of the current call chain, innermost first,
// following frame pointers (built with -fno-omit-frame-pointer: the saved ra
// at fp-8, the caller's fp at fp-16) while they stay inside [lo, hi), the
// memory that holds every stack.
void PrintFramePointerBacktrace(uintptr_t lo, uintptr_t hi);

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_BACKTRACE_H_
