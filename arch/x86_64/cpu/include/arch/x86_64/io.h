// x86 port I/O and the few privileged instructions generic x86_64 code uses.
#ifndef ARCH_X86_64_IO_H_
#define ARCH_X86_64_IO_H_

#include <hv/base/std.h>

namespace hv::arch::x86_64 {

// SAFETY (all port accessors): port I/O has no memory operands; the kernel
// runs at CPL 0, where every port is accessible.
inline void OutB(uint16_t port, uint8_t value) {
  asm volatile("outb %0, %1" ::"a"(value), "Nd"(port));
}
inline void OutL(uint16_t port, uint32_t value) {
  asm volatile("outl %0, %1" ::"a"(value), "Nd"(port));
}
inline uint8_t InB(uint16_t port) {
  uint8_t value;
  asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

inline uint64_t ReadCr2() {
  uint64_t value;
  asm volatile("mov %%cr2, %0" : "=r"(value));
  return value;
}

inline uint64_t ReadCr3() {
  uint64_t value;
  asm volatile("mov %%cr3, %0" : "=r"(value));
  return value;
}

inline void Halt() { asm volatile("hlt"); }

}  // namespace hv::arch::x86_64

#endif  // ARCH_X86_64_IO_H_
