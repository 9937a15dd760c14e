#include <hv/riscv64/mmio.h>

namespace hv::riscv64 {
namespace {

using arch::riscv64::AccessKind;
using arch::riscv64::MemoryAccess;

MmioOutcome Stop(MmioFailure failure, uint32_t insn = 0) {
  return MmioOutcome{.action = MmioAction::kStopVm, .failure = failure, .insn = insn};
}

// The trapping instruction: htinst when the hardware supplied a transformed
// load or store (bit 0 set; bit 1 clear means the original was compressed),
// else fetched at sepc with the guest's execute permission, one halfword
// first so that a 2-byte instruction at the end of a page needs only that
// page. Returns the bits and the instruction's length.
Result<std::pair<uint32_t, uint8_t>> FetchInstruction(const arch::riscv64::VcpuRegs& regs,
                                                      uint64_t htinst,
                                                      const guestmem::GuestVirtualMemory& guest) {
  if ((htinst & 1) != 0) {
    const uint8_t length = (htinst & 2) != 0 ? 4 : 2;
    return std::pair{static_cast<uint32_t>(htinst | 2), length};
  }
  std::array<std::byte, 2> low;
  if (!guest.FetchVirt(GuestVirtAddr(regs.sepc), low).ok()) return Error::kPageFault;
  const uint16_t first =
      static_cast<uint16_t>(static_cast<uint16_t>(low[0]) | (static_cast<uint16_t>(low[1]) << 8));
  const uint8_t length = HV_TRY(arch::riscv64::InstructionLength(first));
  if (length == 2) return std::pair{static_cast<uint32_t>(first), length};
  if (length != 4) return Error::kUnsupported;
  const std::optional<GuestVirtAddr> next = GuestVirtAddr(regs.sepc).CheckedAdd(2);
  if (!next) return Error::kPageFault;
  std::array<std::byte, 2> high;
  if (!guest.FetchVirt(*next, high).ok()) return Error::kPageFault;
  const uint32_t second = static_cast<uint32_t>(high[0]) | (static_cast<uint32_t>(high[1]) << 8);
  return std::pair{first | (second << 16), length};
}

}  // namespace

const char* MmioFailureName(MmioFailure failure) {
  switch (failure) {
    case MmioFailure::kNone:
      return "none";
    case MmioFailure::kNoDevice:
      return "no RAM or device at the address";
    case MmioFailure::kFetchFailed:
      return "the instruction could not be fetched";
    case MmioFailure::kUndecodable:
      return "the instruction is not a valid load or store";
    case MmioFailure::kUnsupportedInstruction:
      return "the instruction is not an emulated load or store";
    case MmioFailure::kFloatingPoint:
      return "floating-point access to a device";
    case MmioFailure::kKindMismatch:
      return "the instruction does not match the fault";
    case MmioFailure::kDeviceRefused:
      return "the device refused the access";
  }
  return "unknown";
}

MmioOutcome EmulateMmio(arch::riscv64::VcpuRegs& regs, const GuestPageFault& fault,
                        const guestmem::GuestVirtualMemory& guest, devices::MmioBus& bus) {
  // Nothing at the address: stop before fetching anything.
  if (bus.Find(fault.gpa) == nullptr) return Stop(MmioFailure::kNoDevice);

  Result<std::pair<uint32_t, uint8_t>> fetched = FetchInstruction(regs, fault.htinst, guest);
  if (!fetched.ok()) {
    return Stop(fetched.error() == Error::kUnsupported ? MmioFailure::kUnsupportedInstruction
                                                       : MmioFailure::kFetchFailed);
  }
  const auto [insn, length] = *fetched;
  Result<MemoryAccess> decoded = arch::riscv64::DecodeMemoryAccess(insn);
  if (!decoded.ok()) {
    return Stop(decoded.error() == Error::kInvalidArgs ? MmioFailure::kUndecodable
                                                       : MmioFailure::kUnsupportedInstruction,
                insn);
  }
  MemoryAccess access = *decoded;
  access.length = length;  // a transformed htinst of a compressed instruction
  if (access.fp) return Stop(MmioFailure::kFloatingPoint, insn);
  if (access.kind != fault.kind) return Stop(MmioFailure::kKindMismatch, insn);

  MmioOutcome out{.insn = insn, .width = access.width};
  if (access.kind == AccessKind::kLoad) {
    Result<uint64_t> value = bus.Read(fault.gpa, access.width);
    if (!value.ok()) {
      out.action =
          value.error() == Error::kNotFound ? MmioAction::kStopVm : MmioAction::kInjectAccessFault;
      out.failure =
          value.error() == Error::kNotFound ? MmioFailure::kNoDevice : MmioFailure::kDeviceRefused;
      return out;
    }
    out.value = arch::riscv64::ExtendLoadValue(access, *value);
    if (access.reg != 0) regs.x[access.reg] = out.value;
  } else {
    const uint64_t source = access.reg == 0 ? 0 : regs.x[access.reg];
    out.value = arch::riscv64::StoreValue(access, source);
    Result<void> written = bus.Write(fault.gpa, access.width, out.value);
    if (!written.ok()) {
      out.action = written.error() == Error::kNotFound ? MmioAction::kStopVm
                                                       : MmioAction::kInjectAccessFault;
      out.failure = written.error() == Error::kNotFound ? MmioFailure::kNoDevice
                                                        : MmioFailure::kDeviceRefused;
      return out;
    }
  }
  regs.sepc += access.length;
  return out;
}

}  // namespace hv::riscv64
