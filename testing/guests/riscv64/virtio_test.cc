// The virtio guest on two vCPUs with a virtio-blk (a 256 KiB RAM disk that
// starts with an image embedded here) and a virtio-console (fed a line of
// input): it must shut down with reason "none", and afterwards the disk
// must hold exactly what the guest wrote over the image and the console
// must have carried exactly its lines (virtio_guest_spec.h).
#include <devices/virtio.h>
#include <hv/base/format.h>
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/virtio_disk_image.h>
#include <testing/guests/riscv64/virtio_guest_embed.h>

#include "testing/guests/riscv64/virtio_guest_spec.h"

namespace hv::image {
namespace {

namespace spec = guests::virtio_spec;
namespace virtio = devices::virtio;

// As QEMU virt does, devices take the last slots.
constexpr int kBlkSlot = 7;
constexpr int kConsoleSlot = 6;

riscv64::VmConfig VirtioVm() {
  riscv64::VmConfig config = configs::VirtGuestSmp2("virtio", guests::VirtioGuest());
  config.virtio_blk = riscv64::VirtioBlkConfig{
      .slot = configs::VirtGuestVirtioSlot(kBlkSlot),
      .capacity = spec::kDiskBytes,
      .image = guests::VirtioDiskImage(),
      .serial = spec::kSerial,
  };
  config.virtio_console = riscv64::VirtioConsoleConfig{
      .slot = configs::VirtGuestVirtioSlot(kConsoleSlot),
      .input = std::as_bytes(std::span(spec::kConsoleInput)),
  };
  return config;
}

bool Live(uint32_t status) {
  return (status & virtio::kStatusDriverOk) != 0 &&
         (status & (virtio::kStatusFailed | virtio::kStatusDeviceNeedsReset)) == 0;
}

const char* CheckDevices(const riscv64::VirtioReport& report) {
  static char problem[128];
  if (!report.blk.present || !report.console.present) return "a virtio device is missing";
  if (report.blk.disk.size() != spec::kDiskBytes) return "the disk has the wrong size";
  for (uint64_t i = 0; i < report.blk.disk.size(); ++i) {
    if (report.blk.disk[i] != std::byte{spec::ExpectedDiskByte(i)}) {
      Format(problem, sizeof(problem), "disk byte %lu (sector %lu) is %#x, not %#x", i,
             i / spec::kSectorSize, static_cast<unsigned>(report.blk.disk[i]),
             static_cast<unsigned>(spec::ExpectedDiskByte(i)));
      return problem;
    }
  }
  // The guest's three bad requests: two out of range, one unknown type.
  if (report.blk.ioerr != 2 || report.blk.unsupp != 1) return "unexpected virtio-blk errors";
  if (!Live(report.blk.status) || report.blk.needs_resets != 0) {
    return "virtio-blk is not live or needed a reset";
  }
  if (report.console.bytes_out != spec::ConsoleBytes()) {
    Format(problem, sizeof(problem), "virtio-console carried %lu bytes, not %lu",
           report.console.bytes_out, spec::ConsoleBytes());
    return problem;
  }
  if (report.console.bytes_in != spec::kConsoleInput.size()) {
    return "virtio-console did not deliver the input";
  }
  if (!Live(report.console.status) || report.console.needs_resets != 0) {
    return "virtio-console is not live or needed a reset";
  }
  return nullptr;
}

}  // namespace

const ImageVm kVms[] = {{.config = VirtioVm(), .check_devices = CheckDevices}};

std::span<const ImageVm> ImageVms() { return kVms; }

}  // namespace hv::image
