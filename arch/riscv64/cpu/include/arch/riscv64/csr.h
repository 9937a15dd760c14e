// Control and status registers of RISC-V supervisor and hypervisor modes.
#ifndef ARCH_RISCV64_CSR_H_
#define ARCH_RISCV64_CSR_H_

#include <hv/base/std.h>

// SAFETY: CSR accesses have no memory operands; the caller is in S/HS-mode,
// where every CSR named in this repository is accessible.
#define HV_CSR_READ(csr)                                  \
  ({                                                      \
    uint64_t hv_csr_value_;                               \
    asm volatile("csrr %0, " #csr : "=r"(hv_csr_value_)); \
    hv_csr_value_;                                        \
  })
#define HV_CSR_WRITE(csr, value) \
  asm volatile("csrw " #csr ", %0" ::"rK"(uint64_t{value}) : "memory")
#define HV_CSR_SET(csr, bits) asm volatile("csrs " #csr ", %0" ::"rK"(uint64_t{bits}) : "memory")
#define HV_CSR_CLEAR(csr, bits) asm volatile("csrc " #csr ", %0" ::"rK"(uint64_t{bits}) : "memory")

namespace hv::arch::riscv64 {

// sstatus bits.
inline constexpr uint64_t kSstatusSie = 1ull << 1;
inline constexpr uint64_t kSstatusSpie = 1ull << 5;
inline constexpr uint64_t kSstatusSpp = 1ull << 8;
inline constexpr uint64_t kSstatusFs = 3ull << 13;
inline constexpr uint64_t kSstatusSum = 1ull << 18;
inline constexpr uint64_t kSstatusMxr = 1ull << 19;

// scause: the interrupt bit and the exception codes of the privileged spec.
inline constexpr uint64_t kScauseInterrupt = 1ull << 63;
enum class Exception : uint64_t {
  kInstructionMisaligned = 0,
  kInstructionAccessFault = 1,
  kIllegalInstruction = 2,
  kBreakpoint = 3,
  kLoadMisaligned = 4,
  kLoadAccessFault = 5,
  kStoreMisaligned = 6,
  kStoreAccessFault = 7,
  kEcallFromU = 8,
  kEcallFromS = 9,
  kEcallFromVS = 10,
  kEcallFromM = 11,
  kInstructionPageFault = 12,
  kLoadPageFault = 13,
  kStorePageFault = 15,
  kInstructionGuestPageFault = 20,
  kLoadGuestPageFault = 21,
  kVirtualInstruction = 22,
  kStoreGuestPageFault = 23,
};

// Stalls the hart until an interrupt enabled in sie is pending (or
// spuriously); with sstatus.SIE off nothing is taken.
inline void Wfi() {
  // SAFETY: wfi has no operands; it only stalls the hart.
  asm volatile("wfi" ::: "memory");
}

// A short name for an scause value ("load page fault", "timer interrupt"...).
const char* CauseName(uint64_t scause);

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_CSR_H_
