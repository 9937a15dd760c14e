#include <arch/riscv64/csr.h>
#include <hv/riscv64/vcpu.h>
#include <hv/riscv64/vm.h>

namespace hv::riscv64 {
namespace {

namespace rv = arch::riscv64;

// The vCPU whose FP registers are in the CPU (nullptr: nobody's yet). With
// one physical hart and the hypervisor itself never touching FP (FS off),
// they stay there across exits and are switched only between vCPUs.
Vcpu* g_fp_owner = nullptr;

constexpr uint64_t kFsDirty = rv::kSstatusFs;
constexpr uint64_t kFsClean = uint64_t{2} << 13;

// vsie bits (the guest's sie view: SSIE 1, STIE 5, SEIE 9) are the hip/hvip
// VS bits (2, 6, 10) shifted right by one.
constexpr uint64_t VsieBitFor(uint64_t hip_bit) { return hip_bit >> 1; }

}  // namespace

rv::HartState Vcpu::hart_state() const {
  if (!started_) return rv::HartState::kStopped;
  return wait_ == Wait::kSuspend ? rv::HartState::kSuspended : rv::HartState::kStarted;
}

void Vcpu::Start(GuestPhysAddr pc, uint64_t a1) {
  regs_ = {};
  regs_.sepc = pc.value();
  regs_.x[10] = id_;
  regs_.x[11] = a1;
  regs_.sstatus = rv::kGuestEntrySstatus;
  regs_.hstatus = rv::kGuestEntryHstatus;
  csrs_ = {};
  fp_ = {};
  if (loaded_) {
    csrs_.Restore();
    fp_.Restore();
    g_fp_owner = this;
  } else if (g_fp_owner == this) {
    g_fp_owner = nullptr;  // the CPU's copy is stale now
  }
  started_ = true;
  wait_ = Wait::kNone;
  resume_.reset();
}

void Vcpu::SuspendNonRetentive(GuestPhysAddr pc, uint64_t opaque) {
  wait_ = Wait::kSuspend;
  resume_ = Resume{pc, opaque};
}

void Vcpu::Wake() {
  HV_CHECK(!loaded_, "Wake on a loaded vCPU");
  wait_ = Wait::kNone;
  if (resume_) {
    const Resume resume = *resume_;
    resume_.reset();
    Start(resume.pc, resume.opaque);
  }
}

void Vcpu::SetTimer(uint64_t deadline) {
  csrs_.vstimecmp = deadline;
  if (loaded_) rv::SetGuestTimer(deadline);
}

void Vcpu::SetInjected(uint64_t mask, bool pending) {
  if (loaded_) {
    rv::SetInjectedInterrupts(mask, pending);
  } else if (pending) {
    csrs_.hvip |= mask;
  } else {
    csrs_.hvip &= ~mask;
  }
}

bool Vcpu::HasWakeupAt(uint64_t now) const {
  HV_CHECK(!loaded_, "HasWakeupAt on a loaded vCPU");
  uint64_t pending = csrs_.hvip & (rv::kVssip | rv::kVseip);
  if (now >= csrs_.vstimecmp) pending |= rv::kVstip;
  for (uint64_t bit : {rv::kVssip, rv::kVstip, rv::kVseip}) {
    if ((pending & bit) != 0 && (csrs_.vsie & VsieBitFor(bit)) != 0) return true;
  }
  return false;
}

std::optional<uint64_t> Vcpu::TimerWakeup() const {
  HV_CHECK(!loaded_, "TimerWakeup on a loaded vCPU");
  if ((csrs_.vsie & VsieBitFor(rv::kVstip)) == 0 || csrs_.vstimecmp == ~uint64_t{0}) {
    return std::nullopt;
  }
  return csrs_.vstimecmp;
}

void Vcpu::Load() {
  HV_CHECK(!loaded_, "vCPU loaded twice");
  vm_->space().space().Activate();
  csrs_.Restore();
  if (g_fp_owner != this) {
    fp_.Restore();
    g_fp_owner = this;
  }
  rv::FlushGuestTlb();
  loaded_ = true;
}

void Vcpu::Unload() {
  HV_CHECK(loaded_, "vCPU unloaded twice");
  csrs_.Save();
  if ((regs_.sstatus & rv::kSstatusFs) == kFsDirty) {
    fp_.Save();
    regs_.sstatus = (regs_.sstatus & ~rv::kSstatusFs) | kFsClean;
  }
  loaded_ = false;
}

}  // namespace hv::riscv64
