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

#include <hv/base/std.h>

namespace hv::arch::riscv64 {

// Shared with vcpu_switch.S: keep the offsets in sync (static_asserts below).
struct VcpuRegs {
  uint64_t x[32];     // guest x1..x31 (x[0] is unused)
  uint64_t sepc;      // guest pc
  uint64_t sstatus;   // HS sstatus to sret with (SPP = 1: VS-mode; FS)
  uint64_t hstatus;   // hstatus to sret with (SPV = 1, SPVP, VTW)
  uint64_t scause;    // exit: cause
  uint64_t stval;     // exit: faulting address / instruction bits
  uint64_t htval;     // exit: guest-physical address >> 2 (guest-page faults)
  uint64_t htinst;    // exit: transformed instruction (0 on QEMU 7.2)
  uint64_t host[16];  // host ra, sp, gp, tp, s0..s11
  uint64_t host_stvec;
};
static_assert(offsetof(VcpuRegs, sepc) == 256);
static_assert(offsetof(VcpuRegs, scause) == 280);
static_assert(offsetof(VcpuRegs, host) == 312);
static_assert(offsetof(VcpuRegs, host_stvec) == 440);

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

// hstatus bits.
inline constexpr uint64_t kHstatusVsxlRv64 = uint64_t{2} << 32;
inline constexpr uint64_t kHstatusVtw = uint64_t{1} << 21;
inline constexpr uint64_t kHstatusSpvp = uint64_t{1} << 8;
inline constexpr uint64_t kHstatusSpv = uint64_t{1} << 7;
inline constexpr uint64_t kHstatusGva = uint64_t{1} << 6;

// Interrupt bits in hvip/hip/hie/hideleg.
inline constexpr uint64_t kVssip = uint64_t{1} << 2;
inline constexpr uint64_t kVstip = uint64_t{1} << 6;
inline constexpr uint64_t kVseip = uint64_t{1} << 10;

// Configures the hypervisor extension on this hart: which exceptions and
// interrupts go straight to the guest (hedeleg/hideleg), counter access,
// Sstc for guests (henvcfg.STCE), no time offset, no injected interrupts.
// REQUIRES: the hart implements the H extension (its riscv,isa has 'h').
void EnableHypervisorExtension();

// sstatus/hstatus for entering a guest hart in VS-mode with FP available.
inline constexpr uint64_t kGuestEntrySstatus = (uint64_t{1} << 8) | (uint64_t{1} << 13);
inline constexpr uint64_t kGuestEntryHstatus =
    kHstatusVsxlRv64 | kHstatusVtw | kHstatusSpvp | kHstatusSpv;

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
// hvip bits the hypervisor injects (VSSIP, VSTIP, VSEIP).
void SetInjectedInterrupts(uint64_t mask, bool pending);
// hip: interrupts pending for the guest right now.
uint64_t ReadPendingGuestInterrupts();

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_VCPU_H_
