#include <arch/riscv64/vcpu.h>
#include <hv/riscv64/exit.h>
#include <hv/riscv64/scheduler.h>

namespace hv::riscv64 {
namespace {

namespace rv = arch::riscv64;

bool Runnable(const Vcpu& vcpu) { return vcpu.started() && !vcpu.vm().ended(); }

}  // namespace

Result<void> Scheduler::AddVm(Vm& vm) {
  if (count_ + vm.num_vcpus() > kMaxVcpus) return Error::kNoMemory;
  for (uint32_t i = 0; i < vm.num_vcpus(); ++i) vcpus_[count_++] = &vm.vcpu(i);
  // The first pick is the first vCPU added.
  cursor_ = count_ - 1;
  return Ok();
}

bool Scheduler::AllEnded(std::span<Vm* const> vms) const {
  for (const Vm* vm : vms) {
    if (!vm->ended()) return false;
  }
  return true;
}

Vcpu* Scheduler::PickNext(uint64_t now) {
  for (size_t n = 1; n <= count_; ++n) {
    const size_t i = (cursor_ + n) % count_;
    Vcpu& vcpu = *vcpus_[i];
    if (!Runnable(vcpu)) continue;
    if (vcpu.wait() != Vcpu::Wait::kNone) {
      // A waiting vCPU is never loaded (SwitchTo unloads it).
      if (!vcpu.HasWakeupAt(now)) continue;
      vcpu.Wake();
    }
    cursor_ = i;
    return &vcpu;
  }
  return nullptr;
}

void Scheduler::PollDevices() {
  for (size_t i = 0; i < count_; ++i) {
    // Once per VM: its first vCPU.
    if (vcpus_[i]->id() == 0) vcpus_[i]->vm().PollDevices();
  }
}

bool Scheduler::Idle() {
  for (size_t i = 0; i < count_; ++i) {
    // Device work can raise an interrupt that wakes a vCPU: no sleeping.
    if (vcpus_[i]->vm().has_pending_device_work()) return true;
  }
  std::optional<uint64_t> earliest;
  for (size_t i = 0; i < count_; ++i) {
    const Vcpu& vcpu = *vcpus_[i];
    if (!Runnable(vcpu)) continue;
    const std::optional<uint64_t> at = vcpu.TimerWakeup();
    if (at && (!earliest || *at < *earliest)) earliest = at;
  }
  if (!earliest) return false;
  rv::SetHostTimer(*earliest);
  while (rv::ReadTime() < *earliest) rv::WaitForInterrupt();
  return true;
}

void Scheduler::SwitchTo(Vcpu* next) {
  if (loaded_ == next) return;
  if (loaded_ != nullptr) loaded_->Unload();
  loaded_ = next;
  if (next != nullptr) next->Load();
}

void Scheduler::RunSlice(Vcpu& vcpu) {
  rv::SetHostTimer(rv::ReadTime() + kSliceTicks);
  for (;;) {
    rv::RunGuest(vcpu.regs());
    switch (HandleExit(vcpu)) {
      case ExitAction::kResume:
        continue;
      case ExitAction::kYield:
        return;
      case ExitAction::kWait:
      case ExitAction::kVmEnded:
        // Its state (timer, vsie, hvip) is needed to decide when it wakes.
        SwitchTo(nullptr);
        return;
    }
  }
}

void Scheduler::Run(std::span<Vm* const> must_end) {
  while (!AllEnded(must_end)) {
    // Device work left by notifications may raise the interrupt a waiting
    // vCPU needs to wake up.
    PollDevices();
    Vcpu* next = PickNext(rv::ReadTime());
    if (next == nullptr) {
      if (Idle()) continue;
      // Nothing runs and nothing will wake: every VM left is stuck.
      for (size_t i = 0; i < count_; ++i) {
        Vm& vm = vcpus_[i]->vm();
        if (!vm.ended()) {
          vm.End(VmOutcome{.end = VmEnd::kStopped, .stop = StopReason::kHalted});
        }
      }
      break;
    }
    SwitchTo(next);
    RunSlice(*next);
  }
  SwitchTo(nullptr);
  rv::SetHostTimer(~uint64_t{0});
}

}  // namespace hv::riscv64
