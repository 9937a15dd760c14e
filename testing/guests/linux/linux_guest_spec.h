// What the Linux test guest's /init (init.cc) and its hypervisor image
// (linux_test.cc) agree on: the virtio-blk disk the VM is given and what
// /init writes on it, the line it prints through virtio-console and the
// input it must read there. The image checks after the run that the disk
// and the console carried exactly that, so the guest's word is not taken
// for it.
#ifndef TESTING_GUESTS_LINUX_LINUX_GUEST_SPEC_H_
#define TESTING_GUESTS_LINUX_LINUX_GUEST_SPEC_H_

#include <hv/base/std.h>

namespace hv::guests::linux_spec {

// vCPUs of the VM (harts of linux_guest.dts), all of which Linux must bring up.
inline constexpr int kCpus = 2;

inline constexpr uint64_t kSectorSize = 512;
// The RAM disk: 1 MiB (Linux's /dev/vda).
inline constexpr uint64_t kDiskBytes = 1 << 20;
inline constexpr std::string_view kSerial = "hv-linux-guest-disk";

// The disk's first bytes, copied there by the hypervisor when it builds the
// VM; /init reads them back through Linux's virtio-blk driver.
inline constexpr std::string_view kImageText =
    "hv linux guest disk: sector 0 comes from the hypervisor image\n";

// /init writes the pattern over [kPatternOffset, + kPatternBytes) with
// O_DIRECT (so through the device, not the page cache) and reads it back.
inline constexpr uint64_t kPatternOffset = 64 << 10;
inline constexpr uint64_t kPatternBytes = 16 << 10;

constexpr uint8_t PatternByte(uint64_t offset) {
  return static_cast<uint8_t>(offset * 13 + (offset >> 9) * 5 + 0x5a);
}

// The byte at `offset` of the disk once /init is done.
constexpr uint8_t ExpectedDiskByte(uint64_t offset) {
  if (offset >= kPatternOffset && offset - kPatternOffset < kPatternBytes) {
    return PatternByte(offset);
  }
  return offset < kImageText.size() ? static_cast<uint8_t>(kImageText[offset]) : 0;
}

// /init writes this line to /dev/hvc0 (raw mode: no CR added), then must
// read kConsoleInput there, which the hypervisor feeds the console once it
// has seen the line (Linux drops what arrives while the port is closed).
inline constexpr std::string_view kConsoleLine = "hello from Linux's /init via virtio-console\n";
inline constexpr std::string_view kConsoleInput = "input for Linux from the hypervisor\n";

}  // namespace hv::guests::linux_spec

#endif  // TESTING_GUESTS_LINUX_LINUX_GUEST_SPEC_H_
