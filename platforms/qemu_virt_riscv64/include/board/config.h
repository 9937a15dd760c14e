// Memory map and devices of QEMU's riscv64 `virt` machine (QEMU 7.2), as seen
// by a kernel that OpenSBI starts in HS-mode.
#ifndef BOARD_CONFIG_H_
#define BOARD_CONFIG_H_

#include <cstdint>

namespace hv::board {

inline constexpr const char kName[] = "qemu_virt_riscv64";

inline constexpr uint64_t kRamBase = 0x8000'0000;
// OpenSBI (fw_dynamic) occupies the first 2 MiB of RAM and jumps here.
inline constexpr uint64_t kKernelBase = 0x8020'0000;

// The mask ROM (QEMU's reset vector and firmware hand-off); physical
// addresses from its end up to the test device are unassigned, and an access
// there is an access fault.
inline constexpr uint64_t kMaskRomBase = 0x1000;
inline constexpr uint64_t kMaskRomSize = 0xf000;

// SiFive test finisher ("virt test device"): a 32-bit store ends the machine.
inline constexpr uint64_t kTestDeviceBase = 0x10'0000;
inline constexpr uint32_t kTestDevicePass = 0x5555;
inline constexpr uint32_t kTestDeviceFail = 0x3333;  // | (exit code << 16)

inline constexpr uint64_t kPlicBase = 0x0c00'0000;
inline constexpr uint64_t kUart0Base = 0x1000'0000;
inline constexpr uint64_t kVirtioMmioBase = 0x1000'1000;
inline constexpr uint64_t kVirtioMmioStride = 0x1000;
inline constexpr int kVirtioMmioSlots = 8;

}  // namespace hv::board

#endif  // BOARD_CONFIG_H_
