// Which instructions the x86_64 fallible copy and fill use in Linux
// processes (arch/x86_64/fallible/fallible.S). Kernel images always use
// general-purpose registers (they save no vector state) and have none of
// this.
//
// At startup the best ISA the CPU and the OS support is selected, once
// (BestFallibleIsa()); until then, and if nothing selects, SSE2 is used,
// which every x86_64 CPU has. Every ISA gives the same results: the contract
// of <arch/fallible.h>, exact to the byte. Tests and benchmarks may switch
// between the supported ones.
#ifndef ARCH_X86_64_FALLIBLE_ISA_H_
#define ARCH_X86_64_FALLIBLE_ISA_H_

#include <hv/base/std.h>

namespace hv::arch::x86_64 {

// Values shared with fallible.S (ISA_*).
enum class FallibleIsa : uint8_t {
  // The kernel's path: 8-byte words, 32-byte blocks, rep movsb/stosb from
  // 1 KiB.
  kGeneralRegs = 0,
  // 16-, 32- or 64-byte vectors from 64 bytes on; rep movsb for long
  // co-aligned copies and rep stosb for long fills.
  kSse2 = 1,
  kAvx2 = 2,
  kAvx512 = 3,
};

inline constexpr FallibleIsa kAllFallibleIsas[] = {
    FallibleIsa::kGeneralRegs,
    FallibleIsa::kSse2,
    FallibleIsa::kAvx2,
    FallibleIsa::kAvx512,
};

// "general_regs", "sse2", "avx2", "avx512".
const char* FallibleIsaName(FallibleIsa isa);

// Whether this CPU and OS support `isa` (cpuid, and xgetbv for the OS saving
// the AVX/AVX-512 state).
bool FallibleIsaSupported(FallibleIsa isa);

// What startup selects: AVX-512 where the CPU also has AVX-VNNI (CPUs that
// do not lower their clock for 512-bit loads and stores, glibc's rule too),
// else AVX2, else SSE2.
FallibleIsa BestFallibleIsa();

// The ISA the fallible copy and fill use now.
FallibleIsa CurrentFallibleIsa();

// Makes the fallible copy and fill use `isa` from their next call on (for
// tests and benchmarks). Calls already running finish with the ISA they
// started with. REQUIRES: FallibleIsaSupported(isa).
void SetFallibleIsa(FallibleIsa isa);

}  // namespace hv::arch::x86_64

#endif  // ARCH_X86_64_FALLIBLE_ISA_H_
