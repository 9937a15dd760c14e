#include <arch/riscv64/csr.h>
#include <arch/riscv64/sbi_emulation.h>
#include <guestmem/riscv64_guest_virtual.h>
#include <hv/base/format.h>
#include <hv/riscv64/exit.h>
#include <hv/riscv64/mmio.h>
#include <hv/riscv64/sbi_env.h>
#include <hv/riscv64/vm.h>

namespace hv::riscv64 {
namespace {

namespace rv = arch::riscv64;
using rv::Exception;

constexpr uint64_t kSupervisorTimerInterrupt = rv::kScauseInterrupt | 5;
constexpr uint32_t kWfi = 0x1050'0073;

void Report(const Vcpu& vcpu, const char* what, std::optional<uint64_t> gpa,
            std::optional<uint32_t> insn) {
  const rv::VcpuRegs& regs = vcpu.regs();
  const std::string_view name = vcpu.vm().name();
  Printf("hv: VM %.*s vCPU %u: %s\n", static_cast<int>(name.size()), name.data(), vcpu.id(), what);
  Printf("hv:   cause %s (%#lx), sepc %#lx, stval %#lx", rv::CauseName(regs.scause), regs.scause,
         regs.sepc, regs.stval);
  if (gpa) Printf(", gpa %#lx", *gpa);
  if (insn) Printf(", instruction %#x", *insn);
  Printf("\n");
}

ExitAction StopVm(Vcpu& vcpu, StopReason reason, const char* what, std::optional<uint64_t> gpa,
                  std::optional<uint32_t> insn = std::nullopt) {
  Report(vcpu, what, gpa, insn);
  vcpu.vm().End(VmOutcome{
      .end = VmEnd::kStopped, .stop = reason, .gpa = gpa.value_or(0), .pc = vcpu.regs().sepc});
  return ExitAction::kVmEnded;
}

ExitAction HandleSbi(Vcpu& vcpu) {
  rv::VcpuRegs& regs = vcpu.regs();
  const rv::SbiCall call{
      .eid = regs.x[17],
      .fid = regs.x[16],
      .args = {regs.x[10], regs.x[11], regs.x[12], regs.x[13], regs.x[14], regs.x[15]},
  };
  VcpuSbiEnvironment env(vcpu);
  const rv::SbiOutcome outcome = rv::HandleSbiCall(call, env);
  if (!outcome.resume) {
    return vcpu.vm().ended() ? ExitAction::kVmEnded : ExitAction::kWait;
  }
  regs.x[10] = static_cast<uint64_t>(outcome.error);
  if (!outcome.legacy) regs.x[11] = outcome.value;
  regs.sepc += 4;
  return ExitAction::kResume;
}

ExitAction HandleGuestPageFault(Vcpu& vcpu) {
  rv::VcpuRegs& regs = vcpu.regs();
  const GuestPhysAddr gpa = FaultGuestPhysAddr(regs.htval, regs.stval);
  if (regs.scause == static_cast<uint64_t>(Exception::kInstructionGuestPageFault)) {
    return StopVm(vcpu, StopReason::kFetchOutsideRam, "instruction fetch outside RAM", gpa.value());
  }
  const GuestPageFault fault{
      .kind = regs.scause == static_cast<uint64_t>(Exception::kLoadGuestPageFault)
                  ? rv::AccessKind::kLoad
                  : rv::AccessKind::kStore,
      .gpa = gpa,
      .gva = GuestVirtAddr(regs.stval),
      .htinst = regs.htinst,
  };
  const guestmem::Riscv64GuestVirtualMemory guest;
  const MmioOutcome out = EmulateMmio(regs, fault, guest, vcpu.vm().bus());
  switch (out.action) {
    case MmioAction::kEmulated:
      // A QueueNotify store has run the queue already (and raised the
      // used-buffer interrupt, VSEIP through the PLIC); continue what it
      // left at its budget and report a device that now needs a reset.
      vcpu.vm().PollDevices();
      return ExitAction::kResume;
    case MmioAction::kInjectAccessFault: {
      const Exception cause = fault.kind == rv::AccessKind::kLoad ? Exception::kLoadAccessFault
                                                                  : Exception::kStoreAccessFault;
      rv::InjectGuestException(regs, static_cast<uint64_t>(cause), regs.stval);
      return ExitAction::kResume;
    }
    case MmioAction::kStopVm:
      break;
  }
  const std::optional<uint32_t> insn =
      out.insn != 0 ? std::optional<uint32_t>(out.insn) : std::nullopt;
  const StopReason reason = out.failure == MmioFailure::kNoDevice
                                ? StopReason::kOutsideRamAndDevices
                                : StopReason::kBadMmioInstruction;
  return StopVm(vcpu, reason, MmioFailureName(out.failure), gpa.value(), insn);
}

ExitAction HandleVirtualInstruction(Vcpu& vcpu) {
  rv::VcpuRegs& regs = vcpu.regs();
  // stval holds the instruction bits when the hardware provides them; else
  // fetch them (a virtual-instruction exit is never a compressed insn).
  uint32_t insn = static_cast<uint32_t>(regs.stval);
  if (insn == 0) {
    std::array<std::byte, 4> bytes{};
    const guestmem::Riscv64GuestVirtualMemory guest;
    if (guest.FetchVirt(GuestVirtAddr(regs.sepc), bytes).ok()) {
      insn = static_cast<uint32_t>(bytes[0]) | (static_cast<uint32_t>(bytes[1]) << 8) |
             (static_cast<uint32_t>(bytes[2]) << 16) | (static_cast<uint32_t>(bytes[3]) << 24);
    }
  }
  if (insn == kWfi) {
    regs.sepc += 4;
    vcpu.SetWait(Vcpu::Wait::kWfi);
    return ExitAction::kWait;
  }
  rv::InjectGuestException(regs, static_cast<uint64_t>(Exception::kIllegalInstruction), insn);
  return ExitAction::kResume;
}

}  // namespace

ExitAction HandleExit(Vcpu& vcpu) {
  const uint64_t scause = vcpu.regs().scause;
  if ((scause & rv::kScauseInterrupt) != 0) {
    // Only the HS timer is enabled in sie; VS interrupts are delegated
    // (hideleg) and never exit.
    HV_CHECK(scause == kSupervisorTimerInterrupt, "unexpected interrupt %#lx in a guest exit",
             scause);
    return ExitAction::kYield;
  }
  switch (static_cast<Exception>(scause)) {
    case Exception::kEcallFromVS:
      return HandleSbi(vcpu);
    case Exception::kInstructionGuestPageFault:
    case Exception::kLoadGuestPageFault:
    case Exception::kStoreGuestPageFault:
      return HandleGuestPageFault(vcpu);
    case Exception::kVirtualInstruction:
      return HandleVirtualInstruction(vcpu);
    default:
      return StopVm(vcpu, StopReason::kUnexpectedException, "exception not handled for guests",
                    std::nullopt);
  }
}

}  // namespace hv::riscv64
