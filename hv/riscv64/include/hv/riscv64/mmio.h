// MMIO emulation: what the hypervisor does with a guest-page fault that is
// not guest RAM.
//
// QEMU leaves htinst at 0, so the trapping instruction is fetched through
// the guest's own translation (GuestVirtualMemory::FetchVirt at sepc, HLVX
// in the hypervisor), decoded (arch/riscv64/insn), and the access forwarded
// to the VM's MmioBus. A load's value is sign- or zero-extended into its
// destination register; either way sepc moves past the instruction.
//
// The policy for everything else (the caller acts on MmioOutcome::action):
//   - no device holds the whole access (nothing there, or it straddles a
//     device's end): kStopVm, failure kNoDevice;
//   - the instruction cannot be fetched (kFetchFailed), is not a load or
//     store we decode (kUndecodable: garbage or reserved encodings;
//     kUnsupportedInstruction: AMOs, LR/SC, vector...), or is a floating-
//     point load or store (kFloatingPoint: device registers are integers;
//     refusing keeps FP state out of the exit path): kStopVm;
//   - the instruction is a load where the hardware reported a store fault or
//     the other way round (kKindMismatch, possible only if the guest
//     rewrote the instruction between the fault and the fetch): kStopVm;
//   - the device refuses the access (kDeviceRefused: a width or offset it
//     has no register for): kInjectAccessFault, a load or store access
//     fault (cause 5/7, stval = the guest-virtual address) delivered to the
//     guest, as real hardware would answer a bus error.
// Nothing here panics on anything the guest controls, and on every path but
// kEmulated the guest registers are left as they were.
//
// Pure logic over VcpuRegs, a GuestVirtualMemory and an MmioBus: built and
// tested on the host.
#ifndef HV_RISCV64_MMIO_H_
#define HV_RISCV64_MMIO_H_

#include <arch/riscv64/insn.h>
#include <arch/riscv64/vcpu_regs.h>
#include <devices/bus.h>
#include <guestmem/guest_virtual.h>
#include <hv/base/addr.h>
#include <hv/base/std.h>

namespace hv::riscv64 {

// A load or store guest-page fault as the exit reported it.
struct GuestPageFault {
  arch::riscv64::AccessKind kind;  // load (cause 21) or store/AMO (cause 23)
  GuestPhysAddr gpa;               // the faulting guest-physical address
  GuestVirtAddr gva;               // stval: the guest-virtual address
  uint64_t htinst;                 // 0, or a transformed instruction
};

// The guest-physical address of a guest-page fault: htval holds it shifted
// right by 2, stval supplies the low two bits.
constexpr GuestPhysAddr FaultGuestPhysAddr(uint64_t htval, uint64_t stval) {
  return GuestPhysAddr((htval << 2) | (stval & 3));
}

enum class MmioAction : uint8_t { kEmulated, kInjectAccessFault, kStopVm };

enum class MmioFailure : uint8_t {
  kNone,
  kNoDevice,
  kFetchFailed,
  kUndecodable,
  kUnsupportedInstruction,
  kFloatingPoint,
  kKindMismatch,
  kDeviceRefused,
};

// A short description of `failure` for reports ("no device at the address").
const char* MmioFailureName(MmioFailure failure);

struct MmioOutcome {
  MmioAction action = MmioAction::kEmulated;
  MmioFailure failure = MmioFailure::kNone;
  uint32_t insn = 0;   // the instruction bits, when fetched (else 0)
  uint8_t width = 0;   // bytes accessed, when decoded
  uint64_t value = 0;  // the value read or written (emulated accesses)
};

// Emulates the access that caused `fault` on `bus`. Updates `regs` (the
// destination register of a load, sepc) only when the result is kEmulated.
MmioOutcome EmulateMmio(arch::riscv64::VcpuRegs& regs, const GuestPageFault& fault,
                        const guestmem::GuestVirtualMemory& guest, devices::MmioBus& bus);

}  // namespace hv::riscv64

#endif  // HV_RISCV64_MMIO_H_
