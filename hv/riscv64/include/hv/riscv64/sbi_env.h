// The SBI as one vCPU of a VM sees it: arch/riscv64/hv's HandleSbiCall
// (every extension, argument checks, error codes) acts through this.
//
//   TIME   the calling vCPU's vstimecmp (Sstc: the timer interrupt reaches
//          the guest without an exit)
//   IPI    VSSIP in the target vCPU's hvip
//   RFENCE fence.i / hfence.vvma for the VM's VMID, here and now: all vCPUs
//          share the one physical hart, and a vCPU's VS-stage entries are
//          flushed whenever it is loaded
//   HSM    starts, stops and suspends vCPUs of this VM (a suspended vCPU
//          waits like WFI; a non-retentive one restarts at resume_addr)
//   SRST   ends the VM: shutdown with the guest's reason, or reboot
//   DBCN and the legacy console: the VM's console (no input yet)
#ifndef HV_RISCV64_SBI_ENV_H_
#define HV_RISCV64_SBI_ENV_H_

#include <arch/riscv64/sbi_emulation.h>
#include <hv/riscv64/vcpu.h>

namespace hv::riscv64 {

class VcpuSbiEnvironment final : public arch::riscv64::SbiEnvironment {
 public:
  explicit VcpuSbiEnvironment(Vcpu& vcpu);

  uint64_t hart_id() const override;
  uint64_t num_harts() const override;
  const guestmem::GuestMemoryAccessor& memory() const override;
  void SetTimer(uint64_t stime_value) override;
  void ConsoleWrite(std::span<const std::byte> bytes) override;
  std::optional<uint8_t> ConsoleRead() override;
  void SendIpi(uint64_t hart) override;
  void RemoteFenceI(uint64_t hart) override;
  void RemoteSfenceVma(uint64_t hart, uint64_t start, uint64_t size,
                       std::optional<uint64_t> asid) override;
  arch::riscv64::HartState GetHartState(uint64_t hart) const override;
  void StartHart(uint64_t hart, GuestPhysAddr start_addr, uint64_t opaque) override;
  void StopSelf() override;
  void SuspendSelf(bool retentive, GuestPhysAddr resume_addr, uint64_t opaque) override;
  void SystemReset(arch::riscv64::ResetType type, arch::riscv64::ResetReason reason) override;

 private:
  Vcpu& vcpu_;
};

}  // namespace hv::riscv64

#endif  // HV_RISCV64_SBI_ENV_H_
