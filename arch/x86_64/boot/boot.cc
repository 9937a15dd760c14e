// x86_64 boot: from the long-mode entry to KernelMain, plus the machine
// services of <arch/machine.h> for the QEMU PC board (COM1, isa-debug-exit).
#include <arch/boot.h>
#include <arch/constructors.h>
#include <arch/extable.h>
#include <arch/machine.h>
#include <arch/x86_64/io.h>
#include <arch/x86_64/mm/pat.h>
#include <arch/x86_64/trap.h>
#include <board/config.h>
#include <hv/base/format.h>

extern "C" {
// Linker-script symbols (see platforms/<board>/kernel.ld).
extern char __kernel_start[];
extern char __kernel_end[];
}

namespace hv::arch {
namespace {

using x86_64::InB;
using x86_64::OutB;

constexpr uint16_t kCom1 = board::kCom1Port;

void InitSerial() {
  OutB(kCom1 + 1, 0x00);  // no interrupts
  OutB(kCom1 + 3, 0x80);  // DLAB on
  OutB(kCom1 + 0, 0x01);  // divisor 1: 115200 baud
  OutB(kCom1 + 1, 0x00);
  OutB(kCom1 + 3, 0x03);  // 8N1, DLAB off
  OutB(kCom1 + 2, 0xc7);  // FIFOs on and cleared
  OutB(kCom1 + 4, 0x03);  // DTR, RTS
}

}  // namespace

void EarlyPutChar(char c) {
  while ((InB(kCom1 + 5) & 0x20) == 0) {
  }
  OutB(kCom1, static_cast<uint8_t>(c));
}

void ExitMachine(bool success) {
  x86_64::OutL(board::kDebugExitPort,
               success ? board::kDebugExitSuccess : board::kDebugExitFailure);
  // Not under QEMU (or the device is missing): stop here.
  for (;;) {
    asm volatile("cli; hlt");
  }
}

void PrintBacktrace() {
  // With frame pointers, [rbp] is the caller's rbp and [rbp+8] the return
  // address. Stacks live inside the kernel image.
  uintptr_t fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const auto lo = reinterpret_cast<uintptr_t>(__kernel_start);
  const auto hi = reinterpret_cast<uintptr_t>(__kernel_end);
  Printf("backtrace:\n");
  for (int depth = 0; depth < 32; ++depth) {
    if (fp < lo || fp + 16 > hi || fp % 8 != 0) break;
    // SAFETY: fp lies within the kernel image (checked above), which is
    // mapped for the kernel's whole life.
    const uintptr_t next = reinterpret_cast<const uintptr_t*>(fp)[0];
    const uintptr_t ret = reinterpret_cast<const uintptr_t*>(fp)[1];
    if (ret == 0) break;
    Printf("  #%d %#lx\n", depth, ret);
    if (next <= fp) break;
    fp = next;
  }
}

}  // namespace hv::arch

extern "C" [[noreturn]] void x86_64_boot_main(uint32_t multiboot_info) {
  hv::arch::InitSerial();
  hv::arch::x86_64::InstallIdt();
  // The memory types the PTE format's cache policies select; the boot page
  // tables' (WB, and UC for the top GiB) keep theirs.
  hv::arch::x86_64::WritePat();
  hv::arch::CheckLinkedExTable();
  hv::arch::RunStaticConstructors();
  uint32_t eax = 1, ebx = 0, ecx = 0, edx = 0;
  // SAFETY: cpuid only writes the four registers named.
  asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
  hv::KernelMain(hv::BootInfo{.boot_cpu = ebx >> 24, .firmware_table = multiboot_info});
}
