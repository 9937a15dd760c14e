// The contract between an architecture's boot code and the kernel image.
#ifndef ARCH_BOOT_H_
#define ARCH_BOOT_H_

#include <hv/base/std.h>

namespace hv {

struct BootInfo {
  // riscv64: the boot hart's id. x86_64: the boot CPU's local APIC id.
  uint64_t boot_cpu;
  // riscv64: physical address of the flattened device tree (a1).
  // x86_64: physical address of the multiboot information structure.
  uintptr_t firmware_table;
};

// Provided by each kernel image. Arch boot code calls it on the boot CPU
// with traps set up, BSS cleared and static constructors run.
[[noreturn]] void KernelMain(const BootInfo& boot);

}  // namespace hv

#endif  // ARCH_BOOT_H_
