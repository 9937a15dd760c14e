// Memory map and devices of QEMU's x86_64 `q35` PC (QEMU 7.2) as this
// repository configures it (see BUILD): multiboot entry. Addresses are
// physical; the kernel reaches them through the direct map.
#ifndef BOARD_CONFIG_H_
#define BOARD_CONFIG_H_

#include <cstdint>

namespace hv::board {

inline constexpr const char kName[] = "qemu_pc_x86_64";

// The kernel image is loaded at physical 2 MiB.
inline constexpr uint64_t kKernelBase = 0x20'0000;

// 16550 UART on COM1.
inline constexpr uint16_t kCom1Port = 0x3f8;

// isa-debug-exit: writing v makes QEMU exit with (v << 1) | 1.
inline constexpr uint16_t kDebugExitPort = 0xf4;
inline constexpr uint32_t kDebugExitSuccess = 0x10;  // QEMU exits with 33.
inline constexpr uint32_t kDebugExitFailure = 0x11;  // QEMU exits with 35.

inline constexpr uint64_t kIoApicBase = 0xfec0'0000;
inline constexpr uint64_t kHpetBase = 0xfed0'0000;
inline constexpr uint64_t kLocalApicBase = 0xfee0'0000;

}  // namespace hv::board

#endif  // BOARD_CONFIG_H_
