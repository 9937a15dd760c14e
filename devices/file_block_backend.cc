#include <devices/file_block_backend.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hv::devices {

Result<FileBlockBackend> FileBlockBackend::Create(int fd, bool read_only) {
  if (fd < 0) return Error::kInvalidArgs;
  struct stat st;
  if (fstat(fd, &st) != 0) return Error::kIoError;
  if (st.st_size <= 0 || st.st_size % kSectorSize != 0) return Error::kInvalidArgs;
  return FileBlockBackend(fd, static_cast<uint64_t>(st.st_size) / kSectorSize, read_only);
}

Result<void> FileBlockBackend::Read(uint64_t sector, std::span<std::byte> out) {
  if (!InRange(sector, out.size(), sectors_)) return Error::kOutOfRange;
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = pread(fd_, out.data() + done, out.size() - done,
                            static_cast<off_t>(sector * kSectorSize + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::kIoError;  // a failure, or the file ends early
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Result<void> FileBlockBackend::Write(uint64_t sector, std::span<const std::byte> data) {
  if (read_only_) return Error::kAccessDenied;
  if (!InRange(sector, data.size(), sectors_)) return Error::kOutOfRange;
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = pwrite(fd_, data.data() + done, data.size() - done,
                             static_cast<off_t>(sector * kSectorSize + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::kIoError;
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Result<void> FileBlockBackend::Flush() {
  if (fdatasync(fd_) != 0) return Error::kIoError;
  return Ok();
}

}  // namespace hv::devices
