// Time-slicing vCPUs (of one or several VMs) on this physical hart.
//
// Round robin, in the order the VMs were added, over the vCPUs that can run: started, and not
// waiting (or waiting with a wake-up pending). Each gets a slice of kSliceTicks of the `time` CSR,
// enforced by the HS timer (stimecmp): when it fires the guest exits and the next runnable vCPU
// takes the hart, so a guest that spins, floods the hypervisor with ecalls or keeps interrupts
// pending cannot starve the others. Before each pick the VMs' virtio devices are polled (work left
// at a notification's budget runs, and its interrupt can wake a vCPU waiting in WFI). When nothing
// can run, the hart sleeps (wfi, with sstatus.SIE off) until the earliest guest timer, unless
// device work is pending. If nothing can run, no device has work and no guest timer is armed, the
// remaining VMs can never make progress and are ended as kHalted.
//
// Switching between vCPUs saves the old one's VS CSRs and FP state and loads
// the new one's, with its VM's hgatp (G-stage space, per-VM VMID).
#ifndef HV_RISCV64_SCHEDULER_H_
#define HV_RISCV64_SCHEDULER_H_

#include <hv/base/result.h>
#include <hv/base/std.h>
#include <hv/riscv64/vm.h>

namespace hv::riscv64 {

class Scheduler {
 public:
  static constexpr size_t kMaxVcpus = 32;
  // 5 ms at QEMU virt's 10 MHz timebase.
  static constexpr uint64_t kSliceTicks = 50'000;

  // Adds every vCPU of `vm`. kNoMemory when the table is full.
  Result<void> AddVm(Vm& vm);

  // Runs vCPUs until every VM in `must_end` has ended (or no vCPU of any
  // VM can run any more). VMs not in `must_end` run alongside and are left
  // as they are.
  void Run(std::span<Vm* const> must_end);

 private:
  bool AllEnded(std::span<Vm* const> vms) const;
  // The next runnable vCPU after the current one, round robin.
  Vcpu* PickNext(uint64_t now);
  // Polls every VM's virtio devices.
  void PollDevices();
  // Sleeps until the earliest guest timer; false if there is none. Returns
  // at once (true) while some device has work pending.
  bool Idle();
  void SwitchTo(Vcpu* next);
  // Runs `vcpu` until it yields, waits or its VM ends.
  void RunSlice(Vcpu& vcpu);

  std::array<Vcpu*, kMaxVcpus> vcpus_{};
  size_t count_ = 0;
  size_t cursor_ = 0;
  Vcpu* loaded_ = nullptr;
};

}  // namespace hv::riscv64

#endif  // HV_RISCV64_SCHEDULER_H_
