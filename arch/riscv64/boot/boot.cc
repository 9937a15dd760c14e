// riscv64 boot: from the assembly entry to KernelMain, plus the machine
// services of <arch/machine.h> for the QEMU virt board.
#include <arch/boot.h>
#include <arch/extable.h>
#include <arch/layout.h>
#include <arch/machine.h>
#include <arch/riscv64/sbi.h>
#include <arch/riscv64/trap.h>
#include <board/config.h>
#include <hv/base/format.h>

extern "C" {
// Linker-script symbols (see platforms/<board>/kernel.ld).
extern char __kernel_start[];
extern char __kernel_end[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
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
  // With -fno-omit-frame-pointer, fp points just above the saved ra (fp-8)
  // and the caller's fp (fp-16). Stacks live inside the kernel image.
  uintptr_t fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const auto lo = reinterpret_cast<uintptr_t>(__kernel_start);
  const auto hi = reinterpret_cast<uintptr_t>(__kernel_end);
  Printf("backtrace:\n");
  for (int depth = 0; depth < 32; ++depth) {
    if (fp < lo + 16 || fp > hi || fp % 8 != 0) break;
    // SAFETY: fp lies within the kernel image (checked above), which is
    // mapped for the kernel's whole life.
    const uintptr_t ra = reinterpret_cast<const uintptr_t*>(fp)[-1];
    const uintptr_t next = reinterpret_cast<const uintptr_t*>(fp)[-2];
    if (ra == 0) break;
    Printf("  #%d %#lx\n", depth, ra);
    if (next <= fp) break;
    fp = next;
  }
}

}  // namespace hv::arch

extern "C" [[noreturn]] void riscv64_boot_main(uint64_t hart_id, uintptr_t device_tree) {
  hv::arch::riscv64::InstallTrapVector();
  hv::arch::CheckLinkedExTable();
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) {
    (*ctor)();
  }
  hv::KernelMain(hv::BootInfo{.boot_cpu = hart_id, .firmware_table = device_tree});
}
