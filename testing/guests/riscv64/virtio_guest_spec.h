// What the virtio guest (virtio_guest.cc) and its test image (virtio_test.cc)
// agree on: the disk the VM is given, what the guest writes on it, what it
// prints through virtio-console and the input it is fed. The image checks
// after the run that the disk and the console hold exactly that.
#ifndef TESTING_GUESTS_RISCV64_VIRTIO_GUEST_SPEC_H_
#define TESTING_GUESTS_RISCV64_VIRTIO_GUEST_SPEC_H_

#include <hv/base/std.h>

namespace hv::guests::virtio_spec {

inline constexpr uint64_t kSectorSize = 512;
// The RAM disk: 256 KiB.
inline constexpr uint64_t kDiskBytes = 256 << 10;
inline constexpr uint64_t kDiskSectors = kDiskBytes / kSectorSize;
inline constexpr std::string_view kSerial = "hv-virtio-guest-disk";

// The disk's first bytes: virtio_disk_image.txt, embedded in the hypervisor
// image and copied to the start of the disk.
inline constexpr std::string_view kImageText =
    "hv virtio guest disk: this sector comes from the hypervisor image\n";

// The guest writes the pattern on these runs of sectors (among them the
// disk's last sector) and reads them back; the rest of the disk is left
// as it was (the image, then zeros).
struct Run {
  uint64_t sector;
  uint32_t count;
};
inline constexpr Run kRuns[] = {{1, 1}, {8, 8}, {100, 3}, {kDiskSectors - 2, 2}};

constexpr uint8_t PatternByte(uint64_t sector, uint64_t offset) {
  return static_cast<uint8_t>(sector * 37 + offset * 7 + (offset >> 8) + 1);
}

// What the guest prints through virtio-console, in this order, and the
// input the hypervisor gives its console.
inline constexpr std::string_view kConsoleLines[] = {
    "via virtio-console: hello from the guest\n",
    "via virtio-console: read the hypervisor's input\n",
    "via virtio-console: virtio-blk capacity, id, flush and bad requests as expected\n",
    "via virtio-console: virtio-blk sectors written and read back, completions by interrupt\n",
    "via virtio-console: a virtio-blk completion woke hart 1 waiting in WFI\n",
};
inline constexpr std::string_view kConsoleInput = "input from the hypervisor\n";

constexpr uint64_t ConsoleBytes() {
  uint64_t bytes = 0;
  for (std::string_view line : kConsoleLines) bytes += line.size();
  return bytes;
}

// The byte at `offset` of the disk once the guest is done.
constexpr uint8_t ExpectedDiskByte(uint64_t offset) {
  const uint64_t sector = offset / kSectorSize;
  for (const Run& run : kRuns) {
    if (sector >= run.sector && sector - run.sector < run.count) {
      return PatternByte(sector, offset % kSectorSize);
    }
  }
  return offset < kImageText.size() ? static_cast<uint8_t>(kImageText[offset]) : 0;
}

}  // namespace hv::guests::virtio_spec

#endif  // TESTING_GUESTS_RISCV64_VIRTIO_GUEST_SPEC_H_
