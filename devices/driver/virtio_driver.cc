#include <devices/driver/virtio_driver.h>

namespace hv::devices::driver {

namespace mmio = virtio::mmio;
using virtio::VirtqDesc;
using virtio::VirtqUsedElem;

namespace {

Result<void> FromCopy(const mm::CopyResult& r) {
  if (!r.ok()) return r.error().code;
  return Ok();
}

// How many times Complete looks at the used ring before giving up. The
// in-process devices answer during Notify; a device on another CPU gets this
// many polls.
constexpr int kCompletionPolls = 1 << 20;

}  // namespace

SplitQueue::Layout LayoutRings(GuestPhysAddr base, uint16_t size) {
  const uint64_t avail = base.value() + virtio::DescTableBytes(size);
  const uint64_t used = (avail + virtio::AvailRingBytes(size, true) + 3) & ~uint64_t{3};
  return SplitQueue::Layout{size, base, GuestPhysAddr(avail), GuestPhysAddr(used)};
}

uint64_t RingBytes(uint16_t size) {
  const SplitQueue::Layout l = LayoutRings(GuestPhysAddr(0), size);
  return l.used.value() + virtio::UsedRingBytes(size, true);
}

DriverQueue::DriverQueue(const guestmem::GuestMemoryAccessor& memory,
                         const SplitQueue::Layout& layout)
    : memory_(&memory), layout_(layout) {
  for (uint16_t i = 0; i < layout.size; ++i) next_[i] = static_cast<uint16_t>(i + 1);
  free_head_ = 0;
  free_count_ = layout.size;
}

Result<DriverQueue> DriverQueue::Create(const guestmem::GuestMemoryAccessor& memory,
                                        const SplitQueue::Layout& layout) {
  if (layout.size == 0 || layout.size > kMaxSize || !std::has_single_bit(layout.size)) {
    return Error::kInvalidArgs;
  }
  const std::array<std::byte, 64> zeros{};
  const auto zero = [&](GuestPhysAddr at, uint64_t len) -> Result<void> {
    for (uint64_t done = 0; done < len;) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(zeros.size(), len - done));
      HV_TRY(FromCopy(memory.WriteBuffer(GuestPhysAddr(at.value() + done),
                                         std::span<const std::byte>(zeros.data(), chunk))));
      done += chunk;
    }
    return Ok();
  };
  HV_TRY(zero(layout.desc, virtio::DescTableBytes(layout.size)));
  HV_TRY(zero(layout.avail, virtio::AvailRingBytes(layout.size, true)));
  HV_TRY(zero(layout.used, virtio::UsedRingBytes(layout.size, true)));
  return DriverQueue(memory, layout);
}

Result<uint16_t> DriverQueue::AllocChain(size_t count) {
  if (count == 0) return Error::kInvalidArgs;
  if (count > free_count_) return Error::kNoMemory;
  const uint16_t head = free_head_;
  uint16_t last = head;
  for (size_t i = 1; i < count; ++i) last = next_[last];
  free_head_ = next_[last];
  free_count_ -= count;
  chain_len_[head] = static_cast<uint16_t>(count);
  return head;
}

void DriverQueue::FreeChain(uint16_t head) {
  uint16_t last = head;
  for (uint16_t i = 1; i < chain_len_[head]; ++i) last = next_[last];
  next_[last] = free_head_;
  free_head_ = head;
  free_count_ += chain_len_[head];
  chain_len_[head] = 0;
}

Result<uint16_t> DriverQueue::Submit(std::span<const Buffer> buffers) {
  const uint16_t head = HV_TRY(AllocChain(buffers.size()));
  uint16_t index = head;
  for (size_t i = 0; i < buffers.size(); ++i) {
    const bool more = i + 1 < buffers.size();
    const VirtqDesc desc{
        buffers[i].addr.value(), buffers[i].len,
        static_cast<uint16_t>((more ? virtio::kDescFlagNext : 0) |
                              (buffers[i].device_writable ? virtio::kDescFlagWrite : 0)),
        more ? next_[index] : uint16_t{0}};
    HV_TRY(WriteDesc(index, desc));
    index = next_[index];
  }
  HV_TRY(Publish(head));
  return head;
}

Result<uint16_t> DriverQueue::SubmitIndirect(std::span<const Buffer> buffers, GuestPhysAddr table) {
  if (buffers.empty()) return Error::kInvalidArgs;
  for (size_t i = 0; i < buffers.size(); ++i) {
    const bool more = i + 1 < buffers.size();
    const VirtqDesc desc{
        buffers[i].addr.value(), buffers[i].len,
        static_cast<uint16_t>((more ? virtio::kDescFlagNext : 0) |
                              (buffers[i].device_writable ? virtio::kDescFlagWrite : 0)),
        static_cast<uint16_t>(more ? i + 1 : 0)};
    HV_TRY(memory_->WriteObj(GuestPhysAddr(table.value() + i * sizeof(VirtqDesc)), desc));
  }
  const uint16_t head = HV_TRY(AllocChain(1));
  HV_TRY(WriteDesc(
      head, VirtqDesc{table.value(), static_cast<uint32_t>(buffers.size() * sizeof(VirtqDesc)),
                      virtio::kDescFlagIndirect, 0}));
  HV_TRY(Publish(head));
  return head;
}

Result<std::optional<VirtqUsedElem>> DriverQueue::PopUsed() {
  const uint16_t used_idx = HV_TRY(ReadUsedIdx());
  if (used_idx == last_used_) return std::optional<VirtqUsedElem>();
  // The element was written before the index we just read.
  std::atomic_thread_fence(std::memory_order_acquire);
  const VirtqUsedElem elem = HV_TRY(ReadUsedSlot(last_used_));
  ++last_used_;
  if (elem.id < layout_.size && chain_len_[elem.id] != 0) FreeChain(static_cast<uint16_t>(elem.id));
  return std::optional<VirtqUsedElem>(elem);
}

Result<void> DriverQueue::WriteDesc(uint16_t index, const VirtqDesc& desc) {
  return memory_->WriteObj(GuestPhysAddr(layout_.desc.value() + sizeof(VirtqDesc) * index), desc);
}

Result<void> DriverQueue::WriteAvailSlot(uint16_t slot, uint16_t head) {
  return memory_->WriteVolatile<uint16_t>(
      GuestPhysAddr(layout_.avail.value() + virtio::kRingEntriesOffset +
                    2 * uint64_t{static_cast<uint16_t>(slot % layout_.size)}),
      head);
}

Result<void> DriverQueue::Publish(uint16_t head) {
  HV_TRY(WriteAvailSlot(avail_idx_, head));
  return SetAvailIdx(static_cast<uint16_t>(avail_idx_ + 1));
}

Result<void> DriverQueue::SetAvailIdx(uint16_t idx) {
  // Descriptors and the ring entry before the index that publishes them.
  std::atomic_thread_fence(std::memory_order_release);
  HV_TRY(memory_->WriteVolatile<uint16_t>(
      GuestPhysAddr(layout_.avail.value() + virtio::kRingIdxOffset), idx));
  avail_idx_ = idx;
  return Ok();
}

Result<void> DriverQueue::SetAvailFlags(uint16_t flags) {
  return memory_->WriteVolatile<uint16_t>(
      GuestPhysAddr(layout_.avail.value() + virtio::kRingFlagsOffset), flags);
}

Result<void> DriverQueue::SetUsedEvent(uint16_t idx) {
  return memory_->WriteVolatile<uint16_t>(
      GuestPhysAddr(layout_.avail.value() + virtio::UsedEventOffset(layout_.size)), idx);
}

Result<uint16_t> DriverQueue::ReadUsedIdx() const {
  return memory_->ReadVolatile<uint16_t>(
      GuestPhysAddr(layout_.used.value() + virtio::kRingIdxOffset));
}

Result<uint16_t> DriverQueue::ReadAvailEvent() const {
  return memory_->ReadVolatile<uint16_t>(
      GuestPhysAddr(layout_.used.value() + virtio::AvailEventOffset(layout_.size)));
}

Result<VirtqUsedElem> DriverQueue::ReadUsedSlot(uint16_t slot) const {
  return memory_->ReadObj<VirtqUsedElem>(
      GuestPhysAddr(layout_.used.value() + virtio::kRingEntriesOffset +
                    sizeof(VirtqUsedElem) * uint64_t{static_cast<uint16_t>(slot % layout_.size)}));
}

Result<uint32_t> VirtioMmioDriver::ReadReg(uint64_t offset) {
  return static_cast<uint32_t>(HV_TRY(regs_->Read(offset, 4)));
}

Result<void> VirtioMmioDriver::WriteReg(uint64_t offset, uint32_t value) {
  return regs_->Write(offset, 4, value);
}

Result<uint64_t> VirtioMmioDriver::Initialize(uint32_t device_id, uint64_t wanted) {
  HV_TRY(WriteReg(mmio::kStatus, 0));
  if (HV_TRY(ReadReg(mmio::kMagicValue)) != mmio::kMagic ||
      HV_TRY(ReadReg(mmio::kVersion)) != mmio::kVersion2 ||
      HV_TRY(ReadReg(mmio::kDeviceId)) != device_id) {
    return Error::kNotFound;
  }
  uint32_t status = virtio::kStatusAcknowledge;
  HV_TRY(WriteReg(mmio::kStatus, status));
  status |= virtio::kStatusDriver;
  HV_TRY(WriteReg(mmio::kStatus, status));
  uint64_t offered = 0;
  for (uint32_t sel = 0; sel < 2; ++sel) {
    HV_TRY(WriteReg(mmio::kDeviceFeaturesSel, sel));
    offered |= uint64_t{HV_TRY(ReadReg(mmio::kDeviceFeatures))} << (32 * sel);
  }
  const uint64_t features = (wanted | virtio::FeatureBit(virtio::kFeatureVersion1)) & offered;
  for (uint32_t sel = 0; sel < 2; ++sel) {
    HV_TRY(WriteReg(mmio::kDriverFeaturesSel, sel));
    HV_TRY(WriteReg(mmio::kDriverFeatures, static_cast<uint32_t>(features >> (32 * sel))));
  }
  status |= virtio::kStatusFeaturesOk;
  HV_TRY(WriteReg(mmio::kStatus, status));
  if ((HV_TRY(ReadReg(mmio::kStatus)) & virtio::kStatusFeaturesOk) == 0) {
    return Error::kUnsupported;
  }
  return features;
}

Result<void> VirtioMmioDriver::EnableQueue(uint32_t index, const SplitQueue::Layout& layout) {
  HV_TRY(WriteReg(mmio::kQueueSel, index));
  if (HV_TRY(ReadReg(mmio::kQueueNumMax)) < layout.size) return Error::kOutOfRange;
  HV_TRY(WriteReg(mmio::kQueueNum, layout.size));
  const auto write64 = [this](uint64_t low, uint64_t value) -> Result<void> {
    HV_TRY(WriteReg(low, static_cast<uint32_t>(value)));
    return WriteReg(low + 4, static_cast<uint32_t>(value >> 32));
  };
  HV_TRY(write64(mmio::kQueueDescLow, layout.desc.value()));
  HV_TRY(write64(mmio::kQueueDriverLow, layout.avail.value()));
  HV_TRY(write64(mmio::kQueueDeviceLow, layout.used.value()));
  return WriteReg(mmio::kQueueReady, 1);
}

Result<void> VirtioMmioDriver::SetDriverOk() {
  const uint32_t status = HV_TRY(ReadReg(mmio::kStatus));
  return WriteReg(mmio::kStatus, status | virtio::kStatusDriverOk);
}

Result<uint32_t> VirtioMmioDriver::TakeInterrupts() {
  const uint32_t bits = HV_TRY(ReadReg(mmio::kInterruptStatus));
  if (bits != 0) HV_TRY(WriteReg(mmio::kInterruptAck, bits));
  return bits;
}

Result<uint64_t> VirtioMmioDriver::ReadConfig(uint64_t offset, size_t size) {
  return regs_->Read(mmio::kConfig + offset, size);
}

Result<uint16_t> VirtioBlkDriver::Submit(uint32_t type, uint64_t sector, GuestPhysAddr data,
                                         uint32_t len, bool indirect) {
  const std::optional<uint16_t> head = queue_.next_head();
  if (!head.has_value()) return Error::kNoMemory;
  const GuestPhysAddr slot(scratch_.value() + kSlotBytes * *head);
  const guestmem::GuestMemoryAccessor& memory = queue_.memory();
  HV_TRY(memory.WriteObj(slot, virtio::blk::ReqHeader{type, 0, sector}));
  HV_TRY(memory.WriteObj(StatusAddr(*head), uint8_t{0xff}));
  const bool device_writes = type != virtio::blk::kTypeOut;
  std::array<Buffer, 3> buffers{};
  size_t count = 0;
  buffers[count++] = Buffer{slot, sizeof(virtio::blk::ReqHeader), false};
  if (len != 0) buffers[count++] = Buffer{data, len, device_writes};
  buffers[count++] = Buffer{StatusAddr(*head), 1, true};
  const std::span<const Buffer> chain(buffers.data(), count);
  if (indirect) return queue_.SubmitIndirect(chain, GuestPhysAddr(slot.value() + 32));
  return queue_.Submit(chain);
}

Result<VirtioBlkDriver::Completion> VirtioBlkDriver::Complete() {
  for (int i = 0; i < kCompletionPolls; ++i) {
    const std::optional<VirtqUsedElem> used = HV_TRY(queue_.PopUsed());
    if (!used.has_value()) continue;
    if (used->id >= queue_.size()) return Error::kOutOfRange;
    const auto head = static_cast<uint16_t>(used->id);
    const uint8_t status = HV_TRY(queue_.memory().ReadObj<uint8_t>(StatusAddr(head)));
    return Completion{head, status, used->len};
  }
  return Error::kTimedOut;
}

Result<uint8_t> VirtioBlkDriver::Run(uint32_t type, uint64_t sector, GuestPhysAddr data,
                                     uint32_t len) {
  HV_TRY(Submit(type, sector, data, len));
  HV_TRY(mmio_.Notify(queue_index_));
  return HV_TRY(Complete()).status;
}

Result<uint8_t> VirtioBlkDriver::Read(uint64_t sector, GuestPhysAddr data, uint32_t len) {
  return Run(virtio::blk::kTypeIn, sector, data, len);
}

Result<uint8_t> VirtioBlkDriver::Write(uint64_t sector, GuestPhysAddr data, uint32_t len) {
  return Run(virtio::blk::kTypeOut, sector, data, len);
}

Result<uint8_t> VirtioBlkDriver::Flush() {
  return Run(virtio::blk::kTypeFlush, 0, GuestPhysAddr(0), 0);
}

Result<uint8_t> VirtioBlkDriver::GetId(GuestPhysAddr data, uint32_t len) {
  return Run(virtio::blk::kTypeGetId, 0, data, len);
}

}  // namespace hv::devices::driver
