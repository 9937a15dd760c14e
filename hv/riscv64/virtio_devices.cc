#include <devices/virtqueue.h>
#include <hv/base/format.h>
#include <hv/riscv64/virtio_devices.h>

namespace hv::riscv64 {

VirtioDevices::VirtioDevices(std::string_view vm_name, const guestmem::GuestMemoryAccessor& memory,
                             devices::IrqSink& irqs, devices::CharSink& console)
    : vm_name_(vm_name), memory_(memory), irqs_(irqs), console_(console) {}

Result<void> VirtioDevices::AddBlock(const Slot& slot, std::span<std::byte> disk, bool read_only,
                                     std::string_view serial, devices::MmioBus& bus) {
  if (blk_transport_.has_value()) return Error::kAlreadyExists;
  Result<devices::MemoryBlockBackend> backend =
      devices::MemoryBlockBackend::Create(disk, read_only);
  if (!backend.ok()) return backend.error();
  disk_backend_.emplace(*backend);
  blk_.emplace(*disk_backend_, serial);
  blk_transport_.emplace(memory_, *blk_, devices::IrqLine(&irqs_, slot.irq));
  if (Result<void> registered = bus.Register(slot.base, slot.size, &*blk_transport_);
      !registered.ok()) {
    blk_transport_.reset();
    blk_.reset();
    disk_backend_.reset();
    return registered.error();
  }
  blk_slot_ = slot.base;
  disk_ = disk;
  return Ok();
}

Result<void> VirtioDevices::AddConsole(const Slot& slot, std::span<const std::byte> input,
                                       devices::MmioBus& bus) {
  if (console_transport_.has_value()) return Error::kAlreadyExists;
  if (input.size() > devices::VirtioConsole::kInputBufferSize) return Error::kOutOfRange;
  vconsole_.emplace(console_);
  console_transport_.emplace(memory_, *vconsole_, devices::IrqLine(&irqs_, slot.irq));
  if (Result<void> registered = bus.Register(slot.base, slot.size, &*console_transport_);
      !registered.ok()) {
    console_transport_.reset();
    vconsole_.reset();
    return registered.error();
  }
  // Nothing is live yet: the input waits in the device for receive buffers.
  const size_t taken = vconsole_->ReceiveInput(input);
  HV_CHECK(taken == input.size(), "virtio-console took %zu of %zu input bytes", taken,
           input.size());
  console_slot_ = slot.base;
  return Ok();
}

void VirtioDevices::ReportNeedsReset(const char* what,
                                     const devices::VirtioMmioTransport& transport,
                                     GuestPhysAddr slot, uint64_t& reported) {
  if (transport.needs_reset_count() == reported) return;
  reported = transport.needs_reset_count();
  // The reason of the entry still in force, if the driver has not reset yet.
  const std::optional<devices::QueueFault> reason = transport.needs_reset_reason();
  Printf("hv: VM %.*s: %s at %#lx needs reset (%lu time(s)): %s\n",
         static_cast<int>(vm_name_.size()), vm_name_.data(), what, slot.value(), reported,
         reason ? devices::QueueFaultName(*reason) : "reset by the driver since");
}

void VirtioDevices::Poll() {
  if (blk_transport_.has_value()) {
    if (blk_transport_->has_pending_work()) blk_transport_->Poll();
    ReportNeedsReset("virtio-blk", *blk_transport_, blk_slot_, blk_resets_reported_);
  }
  if (console_transport_.has_value()) {
    if (console_transport_->has_pending_work()) console_transport_->Poll();
    ReportNeedsReset("virtio-console", *console_transport_, console_slot_,
                     console_resets_reported_);
  }
}

bool VirtioDevices::has_pending_work() const {
  return (blk_transport_.has_value() && blk_transport_->has_pending_work()) ||
         (console_transport_.has_value() && console_transport_->has_pending_work());
}

VirtioReport VirtioDevices::Report() const {
  VirtioReport report;
  if (blk_transport_.has_value()) {
    const devices::VirtioBlk::Stats& stats = blk_->stats();
    report.blk = VirtioReport::Block{
        .present = true,
        .slot = blk_slot_,
        .disk = disk_,
        .ok = stats.ok,
        .ioerr = stats.ioerr,
        .unsupp = stats.unsupp,
        .status = blk_transport_->status(),
        .needs_resets = blk_transport_->needs_reset_count(),
    };
  }
  if (console_transport_.has_value()) {
    const devices::VirtioConsole::Stats& stats = vconsole_->stats();
    report.console = VirtioReport::Console{
        .present = true,
        .slot = console_slot_,
        .bytes_out = stats.bytes_out,
        .bytes_in = stats.bytes_in,
        .status = console_transport_->status(),
        .needs_resets = console_transport_->needs_reset_count(),
    };
  }
  return report;
}

void VirtioDevices::PrintReport() const {
  const VirtioReport report = Report();
  const int name_len = static_cast<int>(vm_name_.size());
  if (report.blk.present) {
    Printf(
        "hv: VM %.*s: virtio-blk at %#lx: %lu ok, %lu ioerr, %lu unsupp; status %#x; "
        "needed reset %lu time(s)\n",
        name_len, vm_name_.data(), report.blk.slot.value(), report.blk.ok, report.blk.ioerr,
        report.blk.unsupp, report.blk.status, report.blk.needs_resets);
  }
  if (report.console.present) {
    Printf(
        "hv: VM %.*s: virtio-console at %#lx: %lu bytes out, %lu in; status %#x; "
        "needed reset %lu time(s)\n",
        name_len, vm_name_.data(), report.console.slot.value(), report.console.bytes_out,
        report.console.bytes_in, report.console.status, report.console.needs_resets);
  }
}

}  // namespace hv::riscv64
