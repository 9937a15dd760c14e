#include <arch/x86_64/mm/pat.h>
#include <arch/x86_64/mm/pte.h>

namespace hv::arch::x86_64 {

void WritePat() {
  // SAFETY: wrmsr IA32_PAT with a valid layout (every entry a defined memory
  // type). CPL 0. The entries in use keep their types (see pat.h).
  asm volatile("wrmsr" ::"c"(kPatMsr), "a"(static_cast<uint32_t>(kPatMsrValue)),
               "d"(static_cast<uint32_t>(kPatMsrValue >> 32))
               : "memory");
}

uint64_t ReadPat() {
  uint32_t lo;
  uint32_t hi;
  // SAFETY: rdmsr of IA32_PAT (present on every x86_64 CPU) only writes the
  // two registers named. CPL 0.
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(kPatMsr));
  return (uint64_t{hi} << 32) | lo;
}

}  // namespace hv::arch::x86_64
