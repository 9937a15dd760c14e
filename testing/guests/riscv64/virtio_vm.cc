#include "testing/guests/riscv64/virtio_vm.h"

#include <devices/virtio.h>
#include <hv/base/format.h>
#include <hv/configs/virt_guest.h>
#include <hv/image/image.h>
#include <testing/guests/riscv64/dt_small.h>
#include <testing/guests/riscv64/virtio_disk_image.h>
#include <testing/guests/riscv64/virtio_guest_embed.h>
#include <testing/guests/riscv64/virtio_hostile_guest_embed.h>

#include "testing/guests/riscv64/virtio_guest_spec.h"

namespace hv::guests {
namespace {

namespace spec = virtio_spec;
namespace virtio = devices::virtio;

constexpr uint64_t kHostileRam = 16 << 20;
constexpr uint64_t kHostileDisk = 64 << 10;

bool Live(uint32_t status) {
  return (status & virtio::kStatusDriverOk) != 0 &&
         (status & (virtio::kStatusFailed | virtio::kStatusDeviceNeedsReset)) == 0;
}

// Room for a formatted problem (the image reports it once, then stops).
char g_problem[128];

}  // namespace

riscv64::VmConfig VirtioGuestVm(std::string_view name) {
  riscv64::VmConfig config = configs::VirtGuestSmp2(name, VirtioGuest());
  config.virtio_blk = riscv64::VirtioBlkConfig{
      .slot = configs::VirtGuestVirtioSlot(kVirtioBlkSlot),
      .capacity = spec::kDiskBytes,
      .image = VirtioDiskImage(),
      .serial = spec::kSerial,
  };
  config.virtio_console = riscv64::VirtioConsoleConfig{
      .slot = configs::VirtGuestVirtioSlot(kVirtioConsoleSlot),
      .input = std::as_bytes(std::span(spec::kConsoleInput)),
  };
  return config;
}

const char* CheckVirtioGuestDevices(const riscv64::VirtioReport& report) {
  if (!report.blk.present || !report.console.present) return "a virtio device is missing";
  if (const char* problem =
          image::CheckDisk(report.blk.disk, spec::kDiskBytes, spec::ExpectedDiskByte)) {
    return problem;
  }
  // The guest's three bad requests: two out of range, one unknown type.
  if (report.blk.ioerr != 2 || report.blk.unsupp != 1) return "unexpected virtio-blk errors";
  if (!Live(report.blk.status) || report.blk.needs_resets != 0) {
    return "virtio-blk is not live or needed a reset";
  }
  if (report.console.bytes_out != spec::ConsoleBytes()) {
    Format(g_problem, sizeof(g_problem), "virtio-console carried %lu bytes, not %lu",
           report.console.bytes_out, spec::ConsoleBytes());
    return g_problem;
  }
  if (report.console.bytes_in != spec::kConsoleInput.size()) {
    return "virtio-console did not deliver the input";
  }
  if (!Live(report.console.status) || report.console.needs_resets != 0) {
    return "virtio-console is not live or needed a reset";
  }
  return nullptr;
}

riscv64::VmConfig VirtioHostileVm(std::string_view name) {
  riscv64::VmConfig config =
      configs::VirtGuestWith(name, VirtioHostileGuest(), DtSmall(), kHostileRam);
  config.virtio_blk = riscv64::VirtioBlkConfig{
      .slot = configs::VirtGuestVirtioSlot(kVirtioBlkSlot),
      .capacity = kHostileDisk,
  };
  config.virtio_console = riscv64::VirtioConsoleConfig{
      .slot = configs::VirtGuestVirtioSlot(kVirtioConsoleSlot),
  };
  return config;
}

const char* CheckVirtioHostileDevices(const riscv64::VirtioReport& report) {
  if (!report.blk.present || !report.console.present) return "a virtio device is missing";
  if (report.blk.needs_resets != 4 || report.console.needs_resets != 1) {
    Format(g_problem, sizeof(g_problem),
           "virtio-blk needed %lu resets (not 4), virtio-console %lu (not 1)",
           report.blk.needs_resets, report.console.needs_resets);
    return g_problem;
  }
  if (report.blk.ioerr != 1) return "virtio-blk did not answer one IOERR";
  if (!Live(report.blk.status) || !Live(report.console.status)) {
    return "a device does not work again after its reset";
  }
  return nullptr;
}

}  // namespace hv::guests
