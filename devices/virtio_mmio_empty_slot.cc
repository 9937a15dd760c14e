#include <devices/virtio_mmio_empty_slot.h>

namespace hv::devices {

Result<uint64_t> VirtioMmioEmptySlot::Read(uint64_t offset, size_t size) {
  if (size != 4 || offset % 4 != 0) return Error::kInvalidArgs;
  switch (offset) {
    case 0x000:
      return uint64_t{kMagic};
    case 0x004:
      return uint64_t{kVersion};
    case 0x00c:
      return uint64_t{kVendorId};
    default:
      return uint64_t{0};  // DeviceID 0: no device in this slot
  }
}

Result<void> VirtioMmioEmptySlot::Write(uint64_t offset, size_t size, uint64_t /*value*/) {
  if (size != 4 || offset % 4 != 0) return Error::kInvalidArgs;
  return Ok();
}

}  // namespace hv::devices
