#include <arch/riscv64/sbi.h>

namespace hv::arch::riscv64::sbi {

SbiRet Call(uint64_t eid, uint64_t fid, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
            uint64_t a4, uint64_t a5) {
  register uint64_t r_a0 asm("a0") = a0;
  register uint64_t r_a1 asm("a1") = a1;
  register uint64_t r_a2 asm("a2") = a2;
  register uint64_t r_a3 asm("a3") = a3;
  register uint64_t r_a4 asm("a4") = a4;
  register uint64_t r_a5 asm("a5") = a5;
  register uint64_t r_a6 asm("a6") = fid;
  register uint64_t r_a7 asm("a7") = eid;
  // SAFETY: the SBI calling convention preserves every register but a0/a1;
  // "memory" because some calls (DBCN, RFENCE) read or write memory we own.
  asm volatile("ecall"
               : "+r"(r_a0), "+r"(r_a1)
               : "r"(r_a2), "r"(r_a3), "r"(r_a4), "r"(r_a5), "r"(r_a6), "r"(r_a7)
               : "memory");
  return SbiRet{static_cast<int64_t>(r_a0), r_a1};
}

void ConsolePutChar(char c) { Call(kLegacyConsolePutchar, 0, static_cast<unsigned char>(c)); }

}  // namespace hv::arch::riscv64::sbi
