// riscv64 boot: from the assembly entry to KernelMain, plus the machine
// services of <arch/machine.h> for the QEMU virt board.
#include <arch/boot.h>
#include <arch/constructors.h>
#include <arch/extable.h>
#include <arch/layout.h>
#include <arch/machine.h>
#include <arch/riscv64/backtrace.h>
#include <arch/riscv64/sbi.h>
#include <arch/riscv64/trap.h>
#include <board/config.h>
#include <hv/base/format.h>

extern "C" {
// Linker-script symbols (see platforms/<board>/kernel.ld).
extern char __kernel_start[];
extern char __kernel_end[];
}

namespace hv::arch {

void EarlyPutChar(char c) { riscv64::sbi::ConsolePutChar(c); }

void ExitMachine(bool success) {
  const uint32_t code = success ? board::kTestDevicePass : (board::kTestDeviceFail | (1u << 16));
  // SAFETY: the test device is an MMIO register of the virt board, mapped in
  // the direct map for the kernel's whole life; OpenSBI's PMP setup leaves it
  // accessible to S-mode.
  *PtrFromHostVirt<volatile uint32_t>(PhysToVirt(HostPhysAddr(board::kTestDeviceBase))) = code;
  for (;;) {
    asm volatile("wfi");
  }
}

void PrintBacktrace() {
  riscv64::PrintFramePointerBacktrace(reinterpret_cast<uintptr_t>(__kernel_start),
                                      reinterpret_cast<uintptr_t>(__kernel_end));
}

}  // namespace hv::arch

extern "C" [[noreturn]] void riscv64_boot_main(uint64_t hart_id, uintptr_t device_tree) {
  hv::arch::riscv64::InstallTrapVector();
  hv::arch::CheckLinkedExTable();
  hv::arch::RunStaticConstructors();
  hv::KernelMain(hv::BootInfo{.boot_cpu = hart_id, .firmware_table = device_tree});
}
