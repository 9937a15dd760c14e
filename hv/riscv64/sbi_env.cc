#include <hv/riscv64/sbi_env.h>
#include <hv/riscv64/vm.h>

namespace hv::riscv64 {

namespace rv = arch::riscv64;

VcpuSbiEnvironment::VcpuSbiEnvironment(Vcpu& vcpu) : vcpu_(vcpu) {}

uint64_t VcpuSbiEnvironment::hart_id() const { return vcpu_.id(); }
uint64_t VcpuSbiEnvironment::num_harts() const { return vcpu_.vm().num_vcpus(); }
const guestmem::GuestMemoryAccessor& VcpuSbiEnvironment::memory() const {
  return vcpu_.vm().space();
}

void VcpuSbiEnvironment::SetTimer(uint64_t stime_value) { vcpu_.SetTimer(stime_value); }

void VcpuSbiEnvironment::ConsoleWrite(std::span<const std::byte> bytes) {
  vcpu_.vm().console().Write(bytes);
}

std::optional<uint8_t> VcpuSbiEnvironment::ConsoleRead() { return std::nullopt; }

void VcpuSbiEnvironment::SendIpi(uint64_t hart) {
  vcpu_.vm().vcpu(static_cast<uint32_t>(hart)).SetInjected(rv::kVssip, true);
}

void VcpuSbiEnvironment::RemoteFenceI(uint64_t /*hart*/) { rv::FenceGuestInstructions(); }

void VcpuSbiEnvironment::RemoteSfenceVma(uint64_t /*hart*/, uint64_t /*start*/, uint64_t /*size*/,
                                         std::optional<uint64_t> /*asid*/) {
  // Over-approximated: everything of this VMID. Other vCPUs flush on load.
  rv::FlushGuestTlb();
}

rv::HartState VcpuSbiEnvironment::GetHartState(uint64_t hart) const {
  return vcpu_.vm().vcpu(static_cast<uint32_t>(hart)).hart_state();
}

void VcpuSbiEnvironment::StartHart(uint64_t hart, GuestPhysAddr start_addr, uint64_t opaque) {
  vcpu_.vm().vcpu(static_cast<uint32_t>(hart)).Start(start_addr, opaque);
}

void VcpuSbiEnvironment::StopSelf() { vcpu_.Stop(); }

void VcpuSbiEnvironment::SuspendSelf(bool retentive, GuestPhysAddr resume_addr, uint64_t opaque) {
  if (retentive) {
    // Resumes after the ecall with SUCCESS.
    rv::VcpuRegs& regs = vcpu_.regs();
    regs.sepc += 4;
    regs.x[10] = static_cast<uint64_t>(rv::sbi::kSuccess);
    regs.x[11] = 0;
    vcpu_.SetWait(Vcpu::Wait::kSuspend);
  } else {
    vcpu_.SuspendNonRetentive(resume_addr, opaque);
  }
}

void VcpuSbiEnvironment::SystemReset(rv::ResetType type, rv::ResetReason reason) {
  VmOutcome outcome;
  if (type == rv::ResetType::kShutdown) {
    outcome.end = VmEnd::kShutdown;
    outcome.shutdown = reason == rv::ResetReason::kSystemFailure ? ShutdownReason::kSystemFailure
                                                                 : ShutdownReason::kNone;
  } else {
    if (vcpu_.vm().Reboot()) return;
    outcome.end = VmEnd::kReboot;
  }
  vcpu_.vm().End(outcome);
}

}  // namespace hv::riscv64
