#include <devices/virtio_blk.h>

namespace hv::devices {

namespace blk = virtio::blk;

VirtioBlk::VirtioBlk(BlockBackend& backend, std::string_view id) : backend_(backend) {
  config_.capacity = backend.sector_count();
  // The header and the status take two descriptors of a chain (5.2.4).
  config_.seg_max = SplitQueue::kMaxSize - 2;
  config_.blk_size = blk::kSectorSize;
  config_.num_queues = 1;
  for (size_t i = 0; i < id.size() && i < id_.size(); ++i) id_[i] = static_cast<std::byte>(id[i]);
}

uint64_t VirtioBlk::device_features() const {
  uint64_t features = virtio::FeatureBit(blk::kFeatureSegMax) |
                      virtio::FeatureBit(blk::kFeatureBlkSize) |
                      virtio::FeatureBit(blk::kFeatureFlush) |
                      virtio::FeatureBit(virtio::kFeatureRingIndirectDesc) |
                      virtio::FeatureBit(virtio::kFeatureRingEventIdx);
  if (backend_.read_only()) features |= virtio::FeatureBit(blk::kFeatureRo);
  return features;
}

std::span<const std::byte> VirtioBlk::config() const { return mm::AsBytes(config_); }

bool VirtioBlk::ProcessQueue(size_t queue) {
  VirtioMmioTransport& transport = *this->transport();
  for (size_t handled = 0; handled < kBudget; ++handled) {
    SplitQueue* vq = transport.LiveQueue(queue);
    if (vq == nullptr) return false;
    const Result<bool, QueueFault> popped = vq->Pop(chain_);
    if (!popped.ok()) {
      transport.EnterNeedsReset(popped.error());
      return false;
    }
    if (!*popped) {
      transport.SignalUsed(queue);
      return false;
    }
    // The status goes in the last device-writable byte; without one in guest
    // RAM the request cannot be answered.
    const uint64_t writable = chain_.writable_bytes();
    if (writable == 0) {
      transport.EnterNeedsReset(QueueFault::kUnanswerableRequest);
      return false;
    }
    const std::optional<GuestPhysAddr> status_at = chain_.WritableByteAddr(writable - 1);
    if (!status_at.has_value() || !InGuestRam(transport.memory(), *status_at, 1)) {
      transport.EnterNeedsReset(QueueFault::kUnanswerableRequest);
      return false;
    }
    ChainWriter status_writer(transport.memory(), chain_, writable - 1, 1);

    const Outcome outcome = Execute(chain_);
    const std::byte status{outcome.status};
    if (!status_writer.Write(std::span<const std::byte>(&status, 1)).ok()) {
      transport.EnterNeedsReset(QueueFault::kUnanswerableRequest);
      return false;
    }
    switch (outcome.status) {
      case blk::kStatusOk:
        ++stats_.ok;
        break;
      case blk::kStatusUnsupp:
        ++stats_.unsupp;
        break;
      default:
        ++stats_.ioerr;
        break;
    }
    // data_written < writable <= 2^40: the sum fits; the used length is 32
    // bits, so a (legal but huge) longer transfer reports the maximum.
    const uint64_t used_len = std::min<uint64_t>(outcome.data_written + 1, 0xffffffffu);
    const Result<void, QueueFault> pushed =
        vq->Push(chain_.head(), static_cast<uint32_t>(used_len));
    if (!pushed.ok()) {
      transport.EnterNeedsReset(pushed.error());
      return false;
    }
  }
  transport.SignalUsed(queue);
  return true;
}

bool VirtioBlk::SectorsInRange(uint64_t sector, uint64_t bytes) const {
  const uint64_t capacity = backend_.sector_count();
  return bytes % blk::kSectorSize == 0 && sector <= capacity &&
         bytes / blk::kSectorSize <= capacity - sector;
}

VirtioBlk::Outcome VirtioBlk::Execute(const DescChain& chain) {
  const guestmem::GuestMemoryAccessor& memory = transport()->memory();
  if (chain.misordered() || !chain.BuffersInGuestRam(memory) ||
      chain.readable_bytes() < sizeof(blk::ReqHeader)) {
    return {blk::kStatusIoErr, 0};
  }
  blk::ReqHeader header{};
  ChainReader reader(memory, chain, 0, sizeof(header));
  if (!reader.Read(mm::AsWritableBytes(header)).ok()) return {blk::kStatusIoErr, 0};

  const uint64_t data_out = chain.readable_bytes() - sizeof(header);
  const uint64_t data_in = chain.writable_bytes() - 1;
  switch (header.type) {
    case blk::kTypeIn:
      if (data_out != 0 || !SectorsInRange(header.sector, data_in)) return {blk::kStatusIoErr, 0};
      return ExecuteIn(chain, header.sector);
    case blk::kTypeOut:
      if (data_in != 0 || backend_.read_only() || !SectorsInRange(header.sector, data_out)) {
        return {blk::kStatusIoErr, 0};
      }
      return ExecuteOut(chain, header.sector);
    case blk::kTypeFlush:
      if (!transport()->FeatureNegotiated(blk::kFeatureFlush)) return {blk::kStatusUnsupp, 0};
      if (data_in != 0 || data_out != 0) return {blk::kStatusIoErr, 0};
      return {backend_.Flush().ok() ? blk::kStatusOk : blk::kStatusIoErr, 0};
    case blk::kTypeGetId:
      if (data_out != 0 || data_in == 0) return {blk::kStatusIoErr, 0};
      return ExecuteGetId(chain);
    default:
      return {blk::kStatusUnsupp, 0};
  }
}

VirtioBlk::Outcome VirtioBlk::ExecuteIn(const DescChain& chain, uint64_t sector) {
  ChainWriter writer(transport()->memory(), chain, 0, chain.writable_bytes() - 1);
  uint64_t written = 0;
  while (writer.remain() != 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(writer.remain(), bounce_.size()));
    const std::span<std::byte> buffer(bounce_.data(), chunk);
    if (!backend_.Read(sector, buffer).ok()) return {blk::kStatusIoErr, written};
    mm::CopyResult r = writer.Write(buffer);
    if (!r.ok()) return {blk::kStatusIoErr, written + r.error().done};
    written += chunk;
    sector += chunk / blk::kSectorSize;
  }
  return {blk::kStatusOk, written};
}

VirtioBlk::Outcome VirtioBlk::ExecuteOut(const DescChain& chain, uint64_t sector) {
  ChainReader reader(transport()->memory(), chain, sizeof(blk::ReqHeader));
  while (reader.remain() != 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(reader.remain(), bounce_.size()));
    const std::span<std::byte> buffer(bounce_.data(), chunk);
    if (!reader.Read(buffer).ok()) return {blk::kStatusIoErr, 0};
    if (!backend_.Write(sector, buffer).ok()) return {blk::kStatusIoErr, 0};
    sector += chunk / blk::kSectorSize;
  }
  return {blk::kStatusOk, 0};
}

VirtioBlk::Outcome VirtioBlk::ExecuteGetId(const DescChain& chain) {
  ChainWriter writer(transport()->memory(), chain, 0,
                     std::min<uint64_t>(chain.writable_bytes() - 1, id_.size()));
  mm::CopyResult r = writer.Write(id_);
  if (!r.ok()) return {blk::kStatusIoErr, r.error().done};
  return {blk::kStatusOk, r.value()};
}

}  // namespace hv::devices
