#include <arch/riscv64/csr.h>
#include <arch/riscv64/vcpu.h>

extern "C" {
void riscv64_run_guest(hv::arch::riscv64::VcpuRegs* regs);
void riscv64_fp_save(hv::arch::riscv64::FpRegs* fp);
void riscv64_fp_restore(const hv::arch::riscv64::FpRegs* fp);
}

namespace hv::arch::riscv64 {
namespace {

// Exceptions the guest handles itself (hedeleg): misaligned fetch, illegal
// instruction, breakpoint, ecall from VU-mode, and its own (stage-1) page
// faults. Everything else (ecall from VS = SBI, guest-page faults, virtual
// instructions) exits to the hypervisor.
constexpr uint64_t kDelegatedExceptions =
    (1u << static_cast<int>(Exception::kInstructionMisaligned)) |
    (1u << static_cast<int>(Exception::kIllegalInstruction)) |
    (1u << static_cast<int>(Exception::kBreakpoint)) |
    (1u << static_cast<int>(Exception::kEcallFromU)) |
    (1u << static_cast<int>(Exception::kInstructionPageFault)) |
    (1u << static_cast<int>(Exception::kLoadPageFault)) |
    (1u << static_cast<int>(Exception::kStorePageFault));

// henvcfg.STCE: the guest's stimecmp is vstimecmp (Sstc).
constexpr uint64_t kHenvcfgStce = uint64_t{1} << 63;

}  // namespace

void EnableHypervisorExtension() {
  HV_CSR_WRITE(hedeleg, kDelegatedExceptions);
  HV_CSR_WRITE(hideleg, kVssip | kVstip | kVseip);
  HV_CSR_WRITE(hvip, 0);
  HV_CSR_WRITE(hie, 0);
  // cycle, time, instret readable by the guest without a trap.
  HV_CSR_WRITE(hcounteren, 0x7);
  HV_CSR_WRITE(henvcfg, kHenvcfgStce);
  HV_CSR_WRITE(htimedelta, 0);
  HV_CSR_WRITE(hgatp, 0);
}

void RunGuest(VcpuRegs& regs) { riscv64_run_guest(&regs); }

void VsCsrs::Restore() const {
  HV_CSR_WRITE(vsstatus, vsstatus);
  HV_CSR_WRITE(vsie, vsie);
  HV_CSR_WRITE(vstvec, vstvec);
  HV_CSR_WRITE(vsscratch, vsscratch);
  HV_CSR_WRITE(vsepc, vsepc);
  HV_CSR_WRITE(vscause, vscause);
  HV_CSR_WRITE(vstval, vstval);
  HV_CSR_WRITE(vsatp, vsatp);
  HV_CSR_WRITE(hvip, hvip);
  HV_CSR_WRITE(vstimecmp, vstimecmp);
}

void VsCsrs::Save() {
  vsstatus = HV_CSR_READ(vsstatus);
  vsie = HV_CSR_READ(vsie);
  vstvec = HV_CSR_READ(vstvec);
  vsscratch = HV_CSR_READ(vsscratch);
  vsepc = HV_CSR_READ(vsepc);
  vscause = HV_CSR_READ(vscause);
  vstval = HV_CSR_READ(vstval);
  vsatp = HV_CSR_READ(vsatp);
  hvip = HV_CSR_READ(hvip);
  vstimecmp = HV_CSR_READ(vstimecmp);
}

void FpRegs::Save() { riscv64_fp_save(this); }
void FpRegs::Restore() const { riscv64_fp_restore(this); }

void InjectGuestException(VcpuRegs& regs, uint64_t cause, uint64_t tval) {
  uint64_t vsstatus = HV_CSR_READ(vsstatus);
  // SPP: the privilege the guest trapped from (VS = 1, VU = 0), which the
  // HS trap recorded in sstatus.SPP.
  vsstatus = (vsstatus & ~kSstatusSpp) | (regs.sstatus & kSstatusSpp);
  // SPIE <- SIE, SIE <- 0.
  vsstatus = (vsstatus & ~kSstatusSpie) | ((vsstatus & kSstatusSie) ? kSstatusSpie : 0);
  vsstatus &= ~kSstatusSie;
  HV_CSR_WRITE(vsstatus, vsstatus);
  HV_CSR_WRITE(vsepc, regs.sepc);
  HV_CSR_WRITE(vscause, cause);
  HV_CSR_WRITE(vstval, tval);
  // The guest handler runs in VS-mode at its vstvec (exceptions always use
  // the base address, even in vectored mode).
  regs.sepc = HV_CSR_READ(vstvec) & ~uint64_t{3};
  regs.sstatus |= kSstatusSpp;
}

uint64_t ReadTime() { return HV_CSR_READ(time); }

void SetHostTimer(uint64_t deadline) { HV_CSR_WRITE(stimecmp, deadline); }

void SetInjectedInterrupts(uint64_t mask, bool pending) {
  if (pending) {
    HV_CSR_SET(hvip, mask);
  } else {
    HV_CSR_CLEAR(hvip, mask);
  }
}

uint64_t ReadPendingGuestInterrupts() { return HV_CSR_READ(hip); }

void EnableHostTimerInterrupt() {
  constexpr uint64_t kSieStie = uint64_t{1} << 5;
  HV_CSR_SET(sie, kSieStie);
}

void WaitForInterrupt() { Wfi(); }

void SetGuestTimer(uint64_t deadline) { HV_CSR_WRITE(vstimecmp, deadline); }

void FlushGuestTlb() {
  // SAFETY: hfence.vvma only invalidates VS-stage translation caches of the
  // current VMID; no memory operands. The assembler needs +h to accept it.
  asm volatile(".option push\n.option arch, +h\nhfence.vvma zero, zero\n.option pop" ::: "memory");
}

void FenceGuestInstructions() {
  // SAFETY: fence.i only orders instruction fetch after earlier stores.
  asm volatile("fence.i" ::: "memory");
}

}  // namespace hv::arch::riscv64
