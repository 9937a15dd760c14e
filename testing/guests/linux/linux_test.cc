// The hypervisor with one VM running an unmodified Linux 6.1 (tinyconfig plus
// guest.config) with init.cc as /init, on the virt-like machine with a
// virtio-blk RAM disk and a virtio-console. The VM must power off cleanly
// (SBI SRST shutdown, reason none), and afterwards the disk must hold the
// image overwritten by /init's pattern and the console must have carried
// exactly /init's line and the input (linux_guest_spec.h).
#include <devices/virtio.h>
#include <hv/base/format.h>
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/linux/linux_guest_dtb.h>
#include <testing/guests/linux/linux_guest_embed.h>

#include "testing/guests/linux/linux_guest_spec.h"

namespace hv::image {
namespace {

namespace spec = guests::linux_spec;

// The RISC-V boot protocol: a 64-bit Image is loaded 2 MiB into RAM (where
// QEMU puts it behind OpenSBI); RAM below it is the kernel's too.
constexpr uint64_t kImageOffset = 2 << 20;
// As on QEMU virt, devices take the last virtio-mmio slots.
constexpr int kBlkSlot = 7;
constexpr int kConsoleSlot = 6;

char g_problem[128];

// Never failed nor in DEVICE_NEEDS_RESET. Linux resets its virtio devices
// when it powers off (virtio_dev_shutdown), so the status is 0 by now; that
// the driver got them working shows in the disk and the byte counts.
template <typename DeviceReport>
bool Healthy(const DeviceReport& device) {
  return (device.status &
          (devices::virtio::kStatusFailed | devices::virtio::kStatusDeviceNeedsReset)) == 0 &&
         device.needs_resets == 0;
}

riscv64::VmConfig LinuxVm() {
  riscv64::VmConfig config =
      configs::VirtGuestWith("linux", guests::LinuxGuest(), guests::LinuxGuestDtb(),
                             configs::kVirtGuestRamSize, spec::kCpus);
  config.image_gpa = GuestPhysAddr(configs::kVirtGuestRamBase + kImageOffset);
  config.entry = config.image_gpa;
  config.virtio_blk = riscv64::VirtioBlkConfig{
      .slot = configs::VirtGuestVirtioSlot(kBlkSlot),
      .capacity = spec::kDiskBytes,
      .image = std::as_bytes(std::span(spec::kImageText)),
      .serial = spec::kSerial,
  };
  config.virtio_console = riscv64::VirtioConsoleConfig{
      .slot = configs::VirtGuestVirtioSlot(kConsoleSlot),
      .input = std::as_bytes(std::span(spec::kConsoleInput)),
      // Linux drops input that arrives before /dev/hvc0 is open.
      .input_after = spec::kConsoleLine,
  };
  return config;
}

const char* CheckLinuxDevices(const riscv64::VirtioReport& report) {
  if (!report.blk.present || !report.console.present) return "a virtio device is missing";
  if (const char* problem = CheckDisk(report.blk.disk, spec::kDiskBytes, spec::ExpectedDiskByte)) {
    return problem;
  }
  if (report.blk.ioerr != 0 || report.blk.unsupp != 0) return "virtio-blk answered errors";
  if (!Healthy(report.blk)) return "virtio-blk failed or needed a reset";
  if (report.console.bytes_out != spec::kConsoleLine.size()) {
    Format(g_problem, sizeof(g_problem), "virtio-console carried %lu bytes, not %lu",
           report.console.bytes_out, spec::kConsoleLine.size());
    return g_problem;
  }
  if (report.console.bytes_in != spec::kConsoleInput.size()) {
    return "virtio-console did not deliver the input";
  }
  if (!Healthy(report.console)) return "virtio-console failed or needed a reset";
  return nullptr;
}

const ImageVm kVms[] = {{.config = LinuxVm(), .check_devices = CheckLinuxDevices}};

}  // namespace

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
