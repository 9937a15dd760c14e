// The register context of a guest hart (VcpuRegs) and the hypervisor-
// extension bit values, without the code that runs on the hart: exit
// handling that only reads and writes the saved registers (MMIO emulation,
// SBI) includes this and builds and is tested on the host too.
#ifndef ARCH_RISCV64_VCPU_REGS_H_
#define ARCH_RISCV64_VCPU_REGS_H_

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

// sstatus/hstatus for entering a guest hart in VS-mode with FP available.
inline constexpr uint64_t kGuestEntrySstatus = (uint64_t{1} << 8) | (uint64_t{1} << 13);
inline constexpr uint64_t kGuestEntryHstatus =
    kHstatusVsxlRv64 | kHstatusVtw | kHstatusSpvp | kHstatusSpv;

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_VCPU_REGS_H_
