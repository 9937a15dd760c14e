#include <devices/virtio_console.h>

namespace hv::devices {

namespace console = virtio::console;

VirtioConsole::VirtioConsole(CharSink& output) : output_(output) { config_.max_nr_ports = 1; }

uint64_t VirtioConsole::device_features() const {
  return virtio::FeatureBit(console::kFeatureEmergWrite) |
         virtio::FeatureBit(virtio::kFeatureRingIndirectDesc) |
         virtio::FeatureBit(virtio::kFeatureRingEventIdx);
}

void VirtioConsole::WriteConfig(uint64_t offset, size_t /*size*/, uint64_t value) {
  if (offset != offsetof(console::Config, emerg_wr)) return;
  const auto byte = static_cast<std::byte>(value & 0xff);
  output_.Write(std::span<const std::byte>(&byte, 1));
  ++stats_.bytes_out;
}

size_t VirtioConsole::ReceiveInput(std::span<const std::byte> bytes) {
  const size_t taken = input_.Push(bytes);
  if (transport() != nullptr && transport()->LiveQueue(console::kReceiveQueue) != nullptr) {
    Receive();
  }
  return taken;
}

bool VirtioConsole::ProcessQueue(size_t queue) {
  return queue == console::kReceiveQueue ? Receive() : Transmit();
}

bool VirtioConsole::Complete(SplitQueue& vq, uint32_t len) {
  const Result<void, QueueFault> pushed = vq.Push(chain_.head(), len);
  if (!pushed.ok()) {
    transport()->EnterNeedsReset(pushed.error());
    return false;
  }
  return true;
}

bool VirtioConsole::Receive() {
  VirtioMmioTransport& transport = *this->transport();
  const guestmem::GuestMemoryAccessor& memory = transport.memory();
  for (size_t handled = 0; handled < kBudget; ++handled) {
    SplitQueue* vq = transport.LiveQueue(console::kReceiveQueue);
    if (vq == nullptr) return false;
    // Receive buffers stay with the driver until there is input for them.
    if (input_.empty()) break;
    const Result<bool, QueueFault> popped = vq->Pop(chain_);
    if (!popped.ok()) {
      transport.EnterNeedsReset(popped.error());
      return false;
    }
    if (!*popped) break;
    if (chain_.has_device_readable() || !chain_.BuffersInGuestRam(memory)) {
      ++stats_.malformed_chains;
      if (!Complete(*vq, 0)) return false;
      continue;
    }
    ChainWriter writer(memory, chain_);
    uint64_t written = 0;
    while (writer.remain() != 0 && !input_.empty()) {
      mm::CopyResult r = writer.Write(input_.Front());
      const size_t done = r.ok() ? r.value() : r.error().done;
      input_.Consume(done);
      written += done;
      if (!r.ok()) break;
    }
    stats_.bytes_in += written;
    if (!Complete(*vq, static_cast<uint32_t>(written))) return false;
  }
  transport.SignalUsed(console::kReceiveQueue);
  // Input and buffers both left: the budget ran out.
  SplitQueue* vq = transport.LiveQueue(console::kReceiveQueue);
  if (vq == nullptr || input_.empty()) return false;
  const Result<bool, QueueFault> more = vq->HasAvailable();
  if (!more.ok()) {
    transport.EnterNeedsReset(more.error());
    return false;
  }
  return *more;
}

bool VirtioConsole::Transmit() {
  VirtioMmioTransport& transport = *this->transport();
  const guestmem::GuestMemoryAccessor& memory = transport.memory();
  for (size_t handled = 0; handled < kBudget; ++handled) {
    SplitQueue* vq = transport.LiveQueue(console::kTransmitQueue);
    if (vq == nullptr) return false;
    const Result<bool, QueueFault> popped = vq->Pop(chain_);
    if (!popped.ok()) {
      transport.EnterNeedsReset(popped.error());
      return false;
    }
    if (!*popped) {
      transport.SignalUsed(console::kTransmitQueue);
      return false;
    }
    if (chain_.has_device_writable() || !chain_.BuffersInGuestRam(memory)) {
      ++stats_.malformed_chains;
      if (!Complete(*vq, 0)) return false;
      continue;
    }
    ChainReader reader(memory, chain_);
    while (reader.remain() != 0) {
      mm::CopyResult r = reader.Read(bounce_);
      const size_t done = r.ok() ? r.value() : r.error().done;
      if (done != 0) output_.Write(std::span<const std::byte>(bounce_.data(), done));
      stats_.bytes_out += done;
      if (!r.ok()) break;
    }
    if (!Complete(*vq, 0)) return false;
  }
  transport.SignalUsed(console::kTransmitQueue);
  return true;
}

}  // namespace hv::devices
