// Running a guest hart in VS-mode: the register context the world switch
// saves and restores, the guest's VS-level CSRs, and the hypervisor
// extension's configuration.
//
// RunGuest() enters the guest with sret and returns when the guest traps to
// HS-mode (an ecall, a guest-page fault, a virtual instruction, or an HS
// interrupt such as the preemption timer), with the exit's cause registers
// in the context. The guest's general registers live in the context while it
// is not running; its VS CSRs live in the CPU while its vCPU is loaded and
// are saved/restored with VsCsrs when another vCPU takes the hart.
#ifndef ARCH_RISCV64_VCPU_H_
#define ARCH_RISCV64_VCPU_H_

#include <arch/riscv64/vcpu_regs.h>
#include <hv/base/std.h>

namespace hv::arch::riscv64 {

// The guest's VS-level CSRs and the per-vCPU hypervisor CSRs.
struct VsCsrs {
  uint64_t vsstatus = 0;
  uint64_t vsie = 0;
  uint64_t vstvec = 0;
  uint64_t vsscratch = 0;
  uint64_t vsepc = 0;
  uint64_t vscause = 0;
  uint64_t vstval = 0;
  uint64_t vsatp = 0;
  uint64_t hvip = 0;
  uint64_t vstimecmp = ~uint64_t{0};

  // Loads these values into the CPU / stores the CPU's into them.
  void Restore() const;
  void Save();
};

// The guest's floating-point registers (f0..f31 and fcsr).
struct FpRegs {
  uint64_t f[32] = {};
  uint64_t fcsr = 0;

  void Restore() const;
  void Save();
};

// Configures the hypervisor extension on this hart: which exceptions and
// interrupts go straight to the guest (hedeleg/hideleg), counter access,
// Sstc for guests (henvcfg.STCE), no time offset, no injected interrupts.
// REQUIRES: the hart implements the H extension (its riscv,isa has 'h').
void EnableHypervisorExtension();

// Enters the guest described by `regs` and returns on the next trap to
// HS-mode, with regs updated (guest registers, sepc, cause registers).
// REQUIRES: the vCPU's VS CSRs and hgatp are loaded; interrupts disabled.
void RunGuest(VcpuRegs& regs);

// Delivers exception `cause` with `tval` to the guest, as the hardware would
// on a trap into VS-mode: vsepc/vscause/vstval, vsstatus.SPP/SPIE/SIE, and
// the guest resumes at its vstvec. Used for exits that are the guest's own
// fault (e.g. an illegal instruction the hardware reported as virtual).
void InjectGuestException(VcpuRegs& regs, uint64_t cause, uint64_t tval);

// The current time (the `time` CSR), and this hart's HS timer (stimecmp).
uint64_t ReadTime();
void SetHostTimer(uint64_t deadline);
// Sets this hart's HS timer (stimecmp) as the preemption timer and lets it
// interrupt: sie.STIE. The hypervisor keeps sstatus.SIE off, so the
// interrupt is taken only as a guest exit (HS interrupts are always enabled
// while V = 1) or ends a WaitForInterrupt.
void EnableHostTimerInterrupt();
// Stalls the hart until an interrupt enabled in sie is pending (wfi in
// HS-mode; with sstatus.SIE off nothing is taken, the caller looks).
void WaitForInterrupt();
// The loaded vCPU's Sstc timer (vstimecmp).
void SetGuestTimer(uint64_t deadline);
// hvip bits the hypervisor injects (VSSIP, VSTIP, VSEIP).
void SetInjectedInterrupts(uint64_t mask, bool pending);
// hip: interrupts pending for the guest right now.
uint64_t ReadPendingGuestInterrupts();

// Fences for the loaded guest: all of its VS-stage translations (hfence.vvma
// for the current hgatp.VMID), and instruction fetch (fence.i).
void FlushGuestTlb();
void FenceGuestInstructions();

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_VCPU_H_
