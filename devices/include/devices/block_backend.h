// Where a virtual disk's sectors live: the interface virtio-blk uses, and an
// implementation over a caller-provided memory image.
#ifndef DEVICES_BLOCK_BACKEND_H_
#define DEVICES_BLOCK_BACKEND_H_

#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::devices {

// A disk of 512-byte sectors.
//
// The device model checks every request before it reaches the backend, so a
// backend may rely on: `bytes.size()` is a multiple of kSectorSize and
// [sector, sector + bytes.size() / kSectorSize) lies within sector_count().
// A backend still returns kOutOfRange rather than trusting that. Failures of
// the medium are kIoError; the device reports them to the guest as IOERR.
class BlockBackend {
 public:
  static constexpr size_t kSectorSize = 512;

  virtual ~BlockBackend() = default;

  virtual uint64_t sector_count() const = 0;
  // Writes are refused (the device offers VIRTIO_BLK_F_RO).
  virtual bool read_only() const = 0;
  virtual Result<void> Read(uint64_t sector, std::span<std::byte> out) = 0;
  virtual Result<void> Write(uint64_t sector, std::span<const std::byte> data) = 0;
  // Makes completed writes durable.
  virtual Result<void> Flush() = 0;

 protected:
  // True if a request of `bytes` at `sector` is whole sectors inside a disk
  // of `sectors` sectors (no overflow).
  static bool InRange(uint64_t sector, size_t bytes, uint64_t sectors) {
    return bytes % kSectorSize == 0 && sector <= sectors && bytes / kSectorSize <= sectors - sector;
  }
};

// A disk over a memory image the caller owns (no allocation): a RAM disk in
// the hypervisor, a buffer or a mapping in a VMM.
class MemoryBlockBackend final : public BlockBackend {
 public:
  // kInvalidArgs if the image is empty or not a whole number of sectors.
  static Result<MemoryBlockBackend> Create(std::span<std::byte> image, bool read_only = false);

  uint64_t sector_count() const override { return image_.size() / kSectorSize; }
  bool read_only() const override { return read_only_; }
  Result<void> Read(uint64_t sector, std::span<std::byte> out) override;
  // kAccessDenied on a read-only disk.
  Result<void> Write(uint64_t sector, std::span<const std::byte> data) override;
  Result<void> Flush() override { return Ok(); }

 private:
  MemoryBlockBackend(std::span<std::byte> image, bool read_only)
      : image_(image), read_only_(read_only) {}

  std::span<std::byte> image_;
  bool read_only_;
};

}  // namespace hv::devices

#endif  // DEVICES_BLOCK_BACKEND_H_
