// A virtual hart: the guest's registers, its VS-level CSRs and FP state,
// and where it stands (HSM state, waiting for an interrupt).
//
// One vCPU at a time is *loaded* on the physical hart: its VS CSRs, FP
// registers and its VM's hgatp are in the CPU and the copies here are stale
// until Unload(). Methods that touch CSR state (timer, injected interrupts,
// Reset) work on either copy, so exit handlers need not care.
#ifndef HV_RISCV64_VCPU_H_
#define HV_RISCV64_VCPU_H_

#include <arch/riscv64/sbi_emulation.h>
#include <arch/riscv64/vcpu.h>
#include <hv/base/addr.h>
#include <hv/base/std.h>

namespace hv::riscv64 {

class Vm;

class Vcpu {
 public:
  // Why a started vCPU is not running.
  enum class Wait : uint8_t {
    kNone,
    kWfi,      // executed WFI
    kSuspend,  // SBI HSM retentive or non-retentive suspend
  };

  Vcpu(Vm& vm, uint32_t id) : vm_(&vm), id_(id) {}
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;

  Vm& vm() const { return *vm_; }
  uint32_t id() const { return id_; }
  arch::riscv64::VcpuRegs& regs() { return regs_; }
  const arch::riscv64::VcpuRegs& regs() const { return regs_; }

  // The HSM view (started, stopped, suspended).
  arch::riscv64::HartState hart_state() const;
  bool started() const { return started_; }
  Wait wait() const { return wait_; }

  // Puts the hart in its boot state and starts it: pc, a0 = hart id,
  // a1 = `a1`, VS-mode with the MMU off, VS CSRs and FP registers cleared,
  // no timer, no pending interrupt (the Linux boot protocol's entry state).
  void Start(GuestPhysAddr pc, uint64_t a1);
  void Stop() {
    started_ = false;
    wait_ = Wait::kNone;
    resume_.reset();
  }
  void SetWait(Wait wait) { wait_ = wait; }
  // HSM non-retentive suspend: waits like WFI, and on wake-up restarts at
  // `pc` with a1 = `opaque` (Start) instead of resuming where it was.
  void SuspendNonRetentive(GuestPhysAddr pc, uint64_t opaque);
  // Ends the wait (the scheduler saw a wake-up). REQUIRES: !loaded().
  void Wake();

  // Sstc: the guest's timer (vstimecmp).
  void SetTimer(uint64_t deadline);
  // hvip bits (VSSIP, VSEIP) the hypervisor injects.
  void SetInjected(uint64_t mask, bool pending);

  // Whether an interrupt the guest has enabled in vsie is pending at `now`
  // (its timer has passed, or an injected bit): what ends a WFI or a
  // suspend. REQUIRES: !loaded().
  bool HasWakeupAt(uint64_t now) const;
  // The time at which the guest's enabled timer fires, if it has one.
  // REQUIRES: !loaded().
  std::optional<uint64_t> TimerWakeup() const;

  // Makes this vCPU the one in the CPU: VS CSRs, FP registers (if another
  // vCPU's are there), the VM's G-stage space, and a flush of VS-stage
  // translations (another vCPU of the same VM may have left entries).
  void Load();
  // Saves the CSRs (and the FP registers if the guest dirtied them).
  void Unload();
  bool loaded() const { return loaded_; }

 private:
  Vm* vm_;
  uint32_t id_;
  arch::riscv64::VcpuRegs regs_{};
  arch::riscv64::VsCsrs csrs_{};
  arch::riscv64::FpRegs fp_{};
  bool started_ = false;
  bool loaded_ = false;
  Wait wait_ = Wait::kNone;
  struct Resume {
    GuestPhysAddr pc;
    uint64_t opaque;
  };
  std::optional<Resume> resume_;
};

}  // namespace hv::riscv64

#endif  // HV_RISCV64_VCPU_H_
