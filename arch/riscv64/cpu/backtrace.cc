#include <arch/riscv64/backtrace.h>
#include <hv/base/format.h>

namespace hv::arch::riscv64 {

void PrintFramePointerBacktrace(uintptr_t lo, uintptr_t hi) {
  uintptr_t fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  Printf("backtrace:\n");
  for (int depth = 0; depth < 32; ++depth) {
    if (fp < lo + 16 || fp > hi || fp % 8 != 0) break;
    // SAFETY: fp lies within [lo, hi) (checked above), memory the caller
    // says is mapped for the kernel's whole life.
    const uintptr_t ra = reinterpret_cast<const uintptr_t*>(fp)[-1];
    const uintptr_t next = reinterpret_cast<const uintptr_t*>(fp)[-2];
    if (ra == 0) break;
    Printf("  #%d %#lx\n", depth, ra);
    if (next <= fp) break;
    fp = next;
  }
}

}  // namespace hv::arch::riscv64
