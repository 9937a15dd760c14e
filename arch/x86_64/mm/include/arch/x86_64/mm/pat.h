// IA32_PAT, the memory types that the PWT/PCD/PAT bits of x86_64 PTEs
// select. The PTE format's cache policies (pte.h) assume kPatMsrValue.
#ifndef ARCH_X86_64_MM_PAT_H_
#define ARCH_X86_64_MM_PAT_H_

#include <hv/base/std.h>

namespace hv::arch::x86_64 {

// Programs IA32_PAT with kPatMsrValue. Boot code calls it on each CPU
// before anything maps with PWT set (index 1: WT at reset, WC here). The
// entries the boot page tables use (0: WB, 3: UC, PWT|PCD) mean the same
// before and after, so no TLB or cache flush is needed.
void WritePat();

// The current CPU's IA32_PAT.
uint64_t ReadPat();

}  // namespace hv::arch::x86_64

#endif  // ARCH_X86_64_MM_PAT_H_
