// An empty virtio-mmio slot, as QEMU's virt machine has them: the transport
// header says "virtio, version 2, device id 0" (no device), so a driver
// probing the slots the device tree lists finds nothing there and moves on.
// Aligned 32-bit reads of the header return those values and every other
// register reads 0; aligned 32-bit writes are ignored. Other widths and
// misaligned accesses are kInvalidArgs. Stateless: one object can serve any
// number of slots.
#ifndef DEVICES_VIRTIO_MMIO_EMPTY_SLOT_H_
#define DEVICES_VIRTIO_MMIO_EMPTY_SLOT_H_

#include <devices/bus.h>

namespace hv::devices {

class VirtioMmioEmptySlot final : public MmioDevice {
 public:
  static constexpr uint32_t kMagic = 0x7472'6976;  // "virt"
  static constexpr uint32_t kVersion = 2;
  static constexpr uint32_t kVendorId = 0x4856;  // "HV", as our SBI implementation id

  Result<uint64_t> Read(uint64_t offset, size_t size) override;
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override;
};

}  // namespace hv::devices

#endif  // DEVICES_VIRTIO_MMIO_EMPTY_SLOT_H_
