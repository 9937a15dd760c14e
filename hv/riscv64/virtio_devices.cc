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
                                       std::string_view input_after, devices::MmioBus& bus) {
  if (console_transport_.has_value()) return Error::kAlreadyExists;
  if (input.size() > devices::VirtioConsole::kInputBufferSize ||
      input_after.size() > VirtioConsoleConfig::kMaxInputAfter) {
    return Error::kOutOfRange;
  }
  vconsole_.emplace(console_output_);
  console_transport_.emplace(memory_, *vconsole_, devices::IrqLine(&irqs_, slot.irq));
  if (Result<void> registered = bus.Register(slot.base, slot.size, &*console_transport_);
      !registered.ok()) {
    console_transport_.reset();
    vconsole_.reset();
    return registered.error();
  }
  console_slot_ = slot.base;
  held_input_ = input;
  if (!input_after.empty()) {
    console_output_.Watch(input_after);
  } else {
    // Nothing is live yet: the input waits in the device for receive buffers.
    ReleaseInput();
  }
  return Ok();
}

void VirtioDevices::OutputWatch::Watch(std::string_view text) {
  HV_CHECK(text.size() <= tail_.size(), "input trigger of %zu bytes", text.size());
  text_ = text;
  tail_size_ = 0;
  seen_ = text.empty();
}

void VirtioDevices::OutputWatch::Write(std::span<const std::byte> bytes) {
  console_.Write(bytes);
  // Nothing to look for (no trigger), or found already.
  if (text_.empty() || seen_) return;
  for (std::byte b : bytes) {
    // Slide the window of the last text_.size() bytes by one.
    if (tail_size_ == text_.size()) {
      for (size_t i = 1; i < tail_size_; ++i) tail_[i - 1] = tail_[i];
      --tail_size_;
    }
    tail_[tail_size_++] = static_cast<char>(b);
    if (tail_size_ == text_.size() && std::string_view(tail_.data(), tail_size_) == text_) {
      seen_ = true;
      return;
    }
  }
}

void VirtioDevices::ReleaseInput() {
  // Not from inside the device's transmit path (OutputWatch::Write): the
  // device is in the middle of a chain there. Poll calls this afterwards.
  const size_t taken = vconsole_->ReceiveInput(held_input_);
  HV_CHECK(taken == held_input_.size(), "virtio-console took %zu of %zu input bytes", taken,
           held_input_.size());
  held_input_ = {};
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
    if (!held_input_.empty() && console_output_.seen()) ReleaseInput();
    ReportNeedsReset("virtio-console", *console_transport_, console_slot_,
                     console_resets_reported_);
  }
}

void VirtioDevices::Reset() {
  if (blk_transport_.has_value()) blk_transport_->ResetDevice();
  if (console_transport_.has_value()) console_transport_->ResetDevice();
}

bool VirtioDevices::has_pending_work() const {
  return (blk_transport_.has_value() && blk_transport_->has_pending_work()) ||
         (console_transport_.has_value() && (console_transport_->has_pending_work() ||
                                             (!held_input_.empty() && console_output_.seen())));
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
