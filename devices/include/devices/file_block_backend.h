// A disk in a file (a regular file, a block device or a memfd), for VMMs
// that run as Linux processes. Hosted only.
#ifndef DEVICES_FILE_BLOCK_BACKEND_H_
#define DEVICES_FILE_BLOCK_BACKEND_H_

#include <devices/block_backend.h>

namespace hv::devices {

class FileBlockBackend final : public BlockBackend {
 public:
  // A disk over the open file `fd` (not owned; it must stay open), of the
  // file's size at creation. kInvalidArgs if fd is negative or the size is
  // zero or not a whole number of sectors; kIoError if it cannot be
  // examined.
  static Result<FileBlockBackend> Create(int fd, bool read_only = false);

  uint64_t sector_count() const override { return sectors_; }
  bool read_only() const override { return read_only_; }
  // kIoError when the file fails or ends early (it shrank), kOutOfRange
  // outside the disk.
  Result<void> Read(uint64_t sector, std::span<std::byte> out) override;
  // As Read; kAccessDenied on a read-only disk.
  Result<void> Write(uint64_t sector, std::span<const std::byte> data) override;
  // fdatasync; kIoError if it fails.
  Result<void> Flush() override;

 private:
  FileBlockBackend(int fd, uint64_t sectors, bool read_only)
      : fd_(fd), sectors_(sectors), read_only_(read_only) {}

  int fd_;
  uint64_t sectors_;
  bool read_only_;
};

}  // namespace hv::devices

#endif  // DEVICES_FILE_BLOCK_BACKEND_H_
