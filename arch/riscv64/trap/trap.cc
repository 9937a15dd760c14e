#include <arch/extable.h>
#include <arch/riscv64/csr.h>
#include <arch/riscv64/trap.h>
#include <hv/base/check.h>
#include <hv/base/format.h>

extern "C" char riscv64_trap_entry[];

namespace hv::arch::riscv64 {
namespace {

constexpr const char* kRegNames[32] = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "s0", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

// Load/store/AMO page faults and access faults: the exceptions a fallible
// access may take. Guest-page faults come from the HLV/HLVX/HSV guest
// accesses (arch/riscv64/hv/guest_access.S) when the guest's stage-2 table
// does not map the address.
bool IsMemoryFault(uint64_t scause) {
  switch (static_cast<Exception>(scause)) {
    case Exception::kLoadAccessFault:
    case Exception::kStoreAccessFault:
    case Exception::kLoadPageFault:
    case Exception::kStorePageFault:
    case Exception::kLoadGuestPageFault:
    case Exception::kStoreGuestPageFault:
      return true;
    default:
      return false;
  }
}

InterruptHandler g_interrupt_handler = nullptr;

}  // namespace

void SetInterruptHandler(InterruptHandler handler) { g_interrupt_handler = handler; }

void InstallTrapVector() {
  // Direct mode: every trap enters at riscv64_trap_entry (4-byte aligned).
  HV_CSR_WRITE(stvec, reinterpret_cast<uint64_t>(riscv64_trap_entry));
}

void PrintTrapFrame(const TrapFrame& frame) {
  Printf("trap: %s (scause %#lx)\n", CauseName(frame.scause), frame.scause);
  Printf("  sepc %016lx  stval %016lx  sstatus %016lx\n", frame.sepc, frame.stval, frame.sstatus);
  for (int i = 1; i < 32; ++i) {
    Printf("  %-4s %016lx%s", kRegNames[i], frame.x[i], i % 4 == 3 ? "\n" : "");
  }
  Printf("\n");
}

}  // namespace hv::arch::riscv64

// Called by trap_entry.S with the saved context. A memory fault at an
// instruction listed in the exception table resumes at its fixup; the kernel
// takes no interrupts and expects no other exception yet, so every other
// trap is fatal.
extern "C" void riscv64_handle_trap(hv::arch::riscv64::TrapFrame* frame) {
  if ((frame->scause & hv::arch::riscv64::kScauseInterrupt) != 0 &&
      hv::arch::riscv64::g_interrupt_handler != nullptr) {
    hv::arch::riscv64::g_interrupt_handler(frame->scause, *frame);
    return;
  }
  if (hv::arch::riscv64::IsMemoryFault(frame->scause)) {
    if (const std::optional<uintptr_t> fixup = hv::arch::FixupForFault(frame->sepc)) {
      frame->sepc = *fixup;
      return;
    }
  }
  hv::arch::riscv64::PrintTrapFrame(*frame);
  HV_PANIC("unexpected trap in the kernel at pc %#lx", frame->sepc);
}
