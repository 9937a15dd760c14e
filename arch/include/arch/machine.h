// What generic kernel code needs from the machine it runs on. Implemented in
// arch/<arch>/boot for each architecture and board.
#ifndef ARCH_MACHINE_H_
#define ARCH_MACHINE_H_

#include <hv/base/std.h>

namespace hv::arch {

// Writes one byte to the boot console (riscv64: SBI console, x86_64: COM1).
// Usable from the first instruction of C++ code and from trap handlers.
void EarlyPutChar(char c);

// Stops the machine through the board's exit device. Under QEMU this ends
// the process; `success` selects the exit code the test runner expects.
[[noreturn]] void ExitMachine(bool success);

// Prints the return addresses of the current call chain, innermost first,
// following frame pointers within the kernel image.
void PrintBacktrace();

}  // namespace hv::arch

#endif  // ARCH_MACHINE_H_
