// Where a VM exit is handled: every trap from a guest (VS/VU-mode) to the
// hypervisor comes through HandleExit, which looks at scause and decides.
//
//   cause                          handled by
//   ecall from VS-mode (10)        SBI: HandleSbiCall over VcpuSbiEnvironment
//                                  (sbi_env.h); results in a0/a1, sepc += 4
//   load/store guest-page fault    MMIO emulation on the VM's bus (mmio.h),
//     (21, 23)                     then the VM's virtio devices are polled
//                                  (virtio_devices.h)
//   instruction guest-page fault   the guest runs outside RAM: VM stopped
//     (20)
//   virtual instruction (22)       WFI: the vCPU waits for an interrupt it
//                                  has enabled (the scheduler runs others);
//                                  anything else: illegal instruction
//                                  injected into the guest
//   HS timer interrupt             the time slice is over: kYield
//   anything else                  VM stopped (kUnexpectedException)
//
// The fault policy (nothing a guest does panics or wedges the hypervisor;
// a stopped VM is reported with cause, sepc, stval, GPA and the instruction
// when it was fetched, and the other VMs go on):
//   - an access outside RAM and every device: VM stopped
//     (kOutsideRamAndDevices, with the GPA);
//   - an MMIO instruction that cannot be fetched or decoded, an FP load or
//     store, or one we do not emulate (AMO, LR/SC...): VM stopped
//     (kBadMmioInstruction);
//   - an access a device refuses (a width or offset it has no register
//     for): load/store access fault injected into the guest, which its own
//     trap handler sees as a bus error;
//   - a virtual instruction other than WFI (CSR the guest may not touch,
//     hypervisor instructions): illegal-instruction exception injected.
//   - an exception injected into a guest with no trap vector lands at
//     vstvec = 0, outside RAM: VM stopped (kFetchOutsideRam).
#ifndef HV_RISCV64_EXIT_H_
#define HV_RISCV64_EXIT_H_

#include <hv/riscv64/vcpu.h>

namespace hv::riscv64 {

enum class ExitAction : uint8_t {
  kResume,   // enter the same vCPU again
  kYield,    // the time slice ended: let the scheduler pick
  kWait,     // the vCPU waits (WFI, HSM suspend) or stopped (HSM stop)
  kVmEnded,  // the VM ended (shutdown, reboot, stopped)
};

// Handles the exit recorded in vcpu.regs() (scause, stval, htval, htinst).
// REQUIRES: vcpu is loaded (its VM's translation is active, for guest-
// virtual fetches) and just returned from RunGuest.
ExitAction HandleExit(Vcpu& vcpu);

}  // namespace hv::riscv64

#endif  // HV_RISCV64_EXIT_H_
