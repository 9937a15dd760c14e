#include <devices/block_backend.h>

namespace hv::devices {

Result<MemoryBlockBackend> MemoryBlockBackend::Create(std::span<std::byte> image, bool read_only) {
  if (image.empty() || image.size() % kSectorSize != 0) return Error::kInvalidArgs;
  return MemoryBlockBackend(image, read_only);
}

Result<void> MemoryBlockBackend::Read(uint64_t sector, std::span<std::byte> out) {
  if (!InRange(sector, out.size(), sector_count())) return Error::kOutOfRange;
  if (!out.empty()) {
    // SAFETY: both ranges are ours and in bounds (checked above); the image
    // and the device's buffer do not overlap.
    __builtin_memcpy(out.data(), image_.data() + sector * kSectorSize, out.size());
  }
  return Ok();
}

Result<void> MemoryBlockBackend::Write(uint64_t sector, std::span<const std::byte> data) {
  if (read_only_) return Error::kAccessDenied;
  if (!InRange(sector, data.size(), sector_count())) return Error::kOutOfRange;
  if (!data.empty()) {
    // SAFETY: as in Read.
    __builtin_memcpy(image_.data() + sector * kSectorSize, data.data(), data.size());
  }
  return Ok();
}

}  // namespace hv::devices
