// The memory map of the virtual machine the riscv64 hypervisor presents to
// its guests (QEMU-virt-like; hv/configs/virt_guest.dtsi describes the same
// machine to the guest). Addresses are guest-physical.
#ifndef BOARD_CONFIG_H_
#define BOARD_CONFIG_H_

#include <cstdint>

namespace hv::board {

inline constexpr const char kName[] = "hv_virt_guest";

inline constexpr uint64_t kRamBase = 0x8000'0000;
// Guest images are loaded and entered here.
inline constexpr uint64_t kKernelBase = kRamBase;

inline constexpr uint64_t kPlicBase = 0x0c00'0000;
inline constexpr uint64_t kUart0Base = 0x1000'0000;
inline constexpr uint32_t kUart0Irq = 10;
inline constexpr uint64_t kVirtioMmioBase = 0x1000'1000;
inline constexpr uint64_t kVirtioMmioStride = 0x1000;
inline constexpr int kVirtioMmioSlots = 8;

}  // namespace hv::board

#endif  // BOARD_CONFIG_H_
