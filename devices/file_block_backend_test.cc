// FileBlockBackend over a real memfd, including one that shrinks.
#include <devices/file_block_backend.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

namespace hv::devices {
namespace {

class MemfdDisk {
 public:
  explicit MemfdDisk(off_t size) : fd_(memfd_create("file_block_backend_test", 0)) {
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(ftruncate(fd_, size), 0);
  }
  ~MemfdDisk() { close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_;
};

TEST(FileBlockBackend, ReadsAndWritesTheFile) {
  MemfdDisk file(8 * 512);
  FileBlockBackend disk = FileBlockBackend::Create(file.fd()).value();
  EXPECT_EQ(disk.sector_count(), 8u);
  EXPECT_FALSE(disk.read_only());
  std::vector<std::byte> data(1024);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 3);
  ASSERT_TRUE(disk.Write(6, data).ok());
  std::vector<std::byte> back(1024);
  ASSERT_EQ(pread(file.fd(), back.data(), back.size(), 6 * 512), 1024);
  EXPECT_EQ(back, data);
  std::fill(back.begin(), back.end(), std::byte{0});
  ASSERT_TRUE(disk.Read(6, back).ok());
  EXPECT_EQ(back, data);
  EXPECT_TRUE(disk.Flush().ok());
}

TEST(FileBlockBackend, RefusesBadFilesAndRanges) {
  EXPECT_EQ(FileBlockBackend::Create(-1).error(), Error::kInvalidArgs);
  MemfdDisk empty(0);
  EXPECT_EQ(FileBlockBackend::Create(empty.fd()).error(), Error::kInvalidArgs);
  MemfdDisk odd(1000);
  EXPECT_EQ(FileBlockBackend::Create(odd.fd()).error(), Error::kInvalidArgs);
  MemfdDisk file(4 * 512);
  FileBlockBackend disk = FileBlockBackend::Create(file.fd()).value();
  std::vector<std::byte> buf(1024);
  EXPECT_EQ(disk.Read(3, buf).error(), Error::kOutOfRange);
  EXPECT_EQ(disk.Write(~uint64_t{0}, buf).error(), Error::kOutOfRange);
  FileBlockBackend ro = FileBlockBackend::Create(file.fd(), /*read_only=*/true).value();
  EXPECT_EQ(ro.Write(0, buf).error(), Error::kAccessDenied);
}

TEST(FileBlockBackend, AFileThatShrinksIsAnIoError) {
  MemfdDisk file(4 * 512);
  FileBlockBackend disk = FileBlockBackend::Create(file.fd()).value();
  ASSERT_EQ(ftruncate(file.fd(), 512), 0);
  std::vector<std::byte> buf(1024);
  EXPECT_EQ(disk.Read(2, buf).error(), Error::kIoError);
}

}  // namespace
}  // namespace hv::devices
