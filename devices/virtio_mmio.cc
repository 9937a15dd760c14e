#include <devices/virtio_mmio.h>

namespace hv::devices {

namespace mmio = virtio::mmio;

namespace {

constexpr uint32_t kDriverStatusBits = virtio::kStatusAcknowledge | virtio::kStatusDriver |
                                       virtio::kStatusFeaturesOk | virtio::kStatusDriverOk |
                                       virtio::kStatusFailed;

uint64_t SetHalf(uint64_t value, bool high, uint32_t half) {
  return high ? (value & 0xffffffffull) | (uint64_t{half} << 32)
              : (value & ~0xffffffffull) | uint64_t{half};
}

}  // namespace

VirtioMmioTransport::VirtioMmioTransport(const guestmem::GuestMemoryAccessor& memory,
                                         VirtioDevice& device, IrqLine irq)
    : memory_(memory), device_(device), irq_(irq) {
  HV_CHECK(device.transport_ == nullptr, "virtio device bound to two transports");
  HV_CHECK(device.queue_count() <= kMaxQueues, "virtio device has %zu queues",
           device.queue_count());
  HV_CHECK(device.queue_max_size() <= SplitQueue::kMaxSize, "virtio queue size %u too large",
           device.queue_max_size());
  HV_CHECK(device.config().size() <= kRegionSize - mmio::kConfig,
           "virtio config space of %zu bytes", device.config().size());
  device.transport_ = this;
  ResetDevice();
}

VirtioMmioTransport::~VirtioMmioTransport() { device_.transport_ = nullptr; }

uint64_t VirtioMmioTransport::offered_features() const {
  return device_.device_features() | virtio::FeatureBit(virtio::kFeatureVersion1);
}

bool VirtioMmioTransport::live() const {
  return (status_ & virtio::kStatusDriverOk) != 0 &&
         (status_ & (virtio::kStatusFailed | virtio::kStatusDeviceNeedsReset)) == 0;
}

SplitQueue* VirtioMmioTransport::LiveQueue(size_t index) {
  if (!live() || index >= device_.queue_count() || !queues_[index].active()) return nullptr;
  return &queues_[index];
}

Result<uint64_t> VirtioMmioTransport::Read(uint64_t offset, size_t size) {
  if (offset >= mmio::kConfig) return ReadConfig(offset - mmio::kConfig, size);
  if (size != 4 || offset % 4 != 0) return Error::kInvalidArgs;
  switch (offset) {
    case mmio::kMagicValue:
      return mmio::kMagic;
    case mmio::kVersion:
      return mmio::kVersion2;
    case mmio::kDeviceId:
      return device_.device_id();
    case mmio::kVendorId:
      return kVendorId;
    case mmio::kDeviceFeatures:
      if (device_features_sel_ > 1) return 0;
      return (offered_features() >> (32 * device_features_sel_)) & 0xffffffffu;
    case mmio::kQueueNumMax:
      return queue_sel_ < device_.queue_count() ? device_.queue_max_size() : 0;
    case mmio::kQueueReady:
      return queue_sel_ < device_.queue_count() && queues_[queue_sel_].active() ? 1 : 0;
    case mmio::kInterruptStatus:
      return interrupt_status_;
    case mmio::kStatus:
      return status_;
    case mmio::kQueueDescLow:
    case mmio::kQueueDescHigh:
    case mmio::kQueueDriverLow:
    case mmio::kQueueDriverHigh:
    case mmio::kQueueDeviceLow:
    case mmio::kQueueDeviceHigh: {
      if (queue_sel_ >= device_.queue_count()) return 0;
      const QueueRegs& q = queue_regs_[queue_sel_];
      const uint64_t value = offset < mmio::kQueueDriverLow   ? q.desc
                             : offset < mmio::kQueueDeviceLow ? q.driver
                                                              : q.device;
      return (offset % 8 == 4 ? value >> 32 : value) & 0xffffffffu;
    }
    case mmio::kShmLenLow:
    case mmio::kShmLenHigh:
    case mmio::kShmBaseLow:
    case mmio::kShmBaseHigh:
      // No shared memory regions: a length of -1 says so (4.2.2).
      return 0xffffffffu;
    case mmio::kConfigGeneration:
      return config_generation_;
    default:
      return Error::kInvalidArgs;
  }
}

Result<void> VirtioMmioTransport::Write(uint64_t offset, size_t size, uint64_t value) {
  if (offset >= mmio::kConfig) return WriteConfig(offset - mmio::kConfig, size, value);
  if (size != 4 || offset % 4 != 0) return Error::kInvalidArgs;
  const auto v = static_cast<uint32_t>(value);
  switch (offset) {
    case mmio::kDeviceFeaturesSel:
      device_features_sel_ = v;
      return Ok();
    case mmio::kDriverFeatures:
      // Features are fixed once FEATURES_OK is set (3.1.1).
      if ((status_ & virtio::kStatusFeaturesOk) == 0 && driver_features_sel_ <= 1) {
        driver_features_ = SetHalf(driver_features_, driver_features_sel_ == 1, v);
      }
      return Ok();
    case mmio::kDriverFeaturesSel:
      driver_features_sel_ = v;
      return Ok();
    case mmio::kQueueSel:
      queue_sel_ = v;
      return Ok();
    case mmio::kQueueNum:
      if (QueueRegs* q = WritableQueueRegs()) q->num = v;
      return Ok();
    case mmio::kQueueReady:
      WriteQueueReady(v);
      return Ok();
    case mmio::kQueueNotify:
      Notify(v);
      return Ok();
    case mmio::kInterruptAck:
      interrupt_status_ &= ~v;
      UpdateIrq();
      return Ok();
    case mmio::kStatus:
      WriteStatus(v);
      return Ok();
    case mmio::kQueueDescLow:
    case mmio::kQueueDescHigh:
    case mmio::kQueueDriverLow:
    case mmio::kQueueDriverHigh:
    case mmio::kQueueDeviceLow:
    case mmio::kQueueDeviceHigh:
      if (QueueRegs* q = WritableQueueRegs()) {
        uint64_t& field = offset < mmio::kQueueDriverLow   ? q->desc
                          : offset < mmio::kQueueDeviceLow ? q->driver
                                                           : q->device;
        field = SetHalf(field, offset % 8 == 4, v);
      }
      return Ok();
    case mmio::kShmSel:
      shm_sel_ = v;
      return Ok();
    default:
      return Error::kInvalidArgs;
  }
}

Result<uint64_t> VirtioMmioTransport::ReadConfig(uint64_t offset, size_t size) const {
  const std::span<const std::byte> config = device_.config();
  if (size == 0 || size > 8 || !std::has_single_bit(size) || offset % size != 0 ||
      offset > config.size() || size > config.size() - offset) {
    return Error::kInvalidArgs;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) {
    value |= uint64_t{std::to_integer<uint8_t>(config[offset + i])} << (8 * i);
  }
  return value;
}

Result<void> VirtioMmioTransport::WriteConfig(uint64_t offset, size_t size, uint64_t value) {
  const size_t config_size = device_.config().size();
  if (size == 0 || size > 8 || !std::has_single_bit(size) || offset % size != 0 ||
      offset > config_size || size > config_size - offset) {
    return Error::kInvalidArgs;
  }
  device_.WriteConfig(offset, size, value);
  return Ok();
}

VirtioMmioTransport::QueueRegs* VirtioMmioTransport::WritableQueueRegs() {
  if (queue_sel_ >= device_.queue_count() || queues_[queue_sel_].active()) return nullptr;
  return &queue_regs_[queue_sel_];
}

void VirtioMmioTransport::WriteStatus(uint32_t value) {
  if (value == 0) {
    ResetDevice();
    return;
  }
  // DEVICE_NEEDS_RESET is the device's; a driver writing it back is fine.
  if ((value & ~(kDriverStatusBits | virtio::kStatusDeviceNeedsReset)) != 0) return;
  const uint32_t old_bits = status_ & kDriverStatusBits;
  uint32_t new_bits = value & kDriverStatusBits;
  // The driver never clears a bit (2.1.2) except by reset.
  if ((old_bits & ~new_bits) != 0) return;
  // Each step needs the one before it (3.1.1).
  if ((new_bits & virtio::kStatusDriver) != 0 && (new_bits & virtio::kStatusAcknowledge) == 0) {
    return;
  }
  if ((new_bits & virtio::kStatusFeaturesOk) != 0 && (new_bits & virtio::kStatusDriver) == 0) {
    return;
  }
  if ((new_bits & virtio::kStatusDriverOk) != 0 && (new_bits & virtio::kStatusFeaturesOk) == 0) {
    return;
  }
  if ((new_bits & ~old_bits & virtio::kStatusFeaturesOk) != 0) {
    const uint64_t offered = offered_features();
    const bool acceptable =
        (driver_features_ & ~offered) == 0 &&
        (driver_features_ & virtio::FeatureBit(virtio::kFeatureVersion1)) != 0 &&
        device_.AcceptFeatures(driver_features_);
    if (!acceptable) {
      new_bits &= ~virtio::kStatusFeaturesOk;
      // Without FEATURES_OK, DRIVER_OK in the same write is out of order.
      if ((new_bits & virtio::kStatusDriverOk) != 0) return;
    }
  }
  status_ = new_bits | (status_ & virtio::kStatusDeviceNeedsReset);
}

void VirtioMmioTransport::WriteQueueReady(uint32_t value) {
  if (queue_sel_ >= device_.queue_count()) return;
  SplitQueue& queue = queues_[queue_sel_];
  if (value == 0) {
    queue.Reset();
    pending_queues_ &= ~(1u << queue_sel_);
    return;
  }
  // Rings are set up after FEATURES_OK (3.1.1), which fixes EVENT_IDX and
  // with it the ring sizes; and not again while enabled.
  if (value != 1 || queue.active() || (status_ & virtio::kStatusFeaturesOk) == 0 ||
      (status_ & virtio::kStatusDeviceNeedsReset) != 0) {
    return;
  }
  const QueueRegs& regs = queue_regs_[queue_sel_];
  if (regs.num > 0xffff) {
    EnterNeedsReset(QueueFault::kBadQueueSize);
    return;
  }
  const SplitQueue::Layout layout{static_cast<uint16_t>(regs.num), GuestPhysAddr(regs.desc),
                                  GuestPhysAddr(regs.driver), GuestPhysAddr(regs.device)};
  Result<void, QueueFault> activated =
      queue.Activate(memory_, layout, device_.queue_max_size(),
                     FeatureNegotiated(virtio::kFeatureRingIndirectDesc),
                     FeatureNegotiated(virtio::kFeatureRingEventIdx));
  if (!activated.ok()) EnterNeedsReset(activated.error());
}

void VirtioMmioTransport::Notify(uint32_t index) {
  if (index >= device_.queue_count() || LiveQueue(index) == nullptr) {
    ++ignored_notifications_;
    return;
  }
  if (device_.ProcessQueue(index)) {
    pending_queues_ |= 1u << index;
  } else {
    pending_queues_ &= ~(1u << index);
  }
}

void VirtioMmioTransport::Poll() {
  for (size_t i = 0; i < kMaxQueues; ++i) {
    if ((pending_queues_ & (1u << i)) == 0) continue;
    pending_queues_ &= ~(1u << i);
    if (LiveQueue(i) != nullptr && device_.ProcessQueue(i)) pending_queues_ |= 1u << i;
  }
}

void VirtioMmioTransport::SignalUsed(size_t index) {
  if (index >= kMaxQueues || !queues_[index].active()) return;
  SplitQueue& queue = queues_[index];
  if (queue.fault().has_value()) {
    // A broken ring cannot tell us the driver's wishes; an extra interrupt
    // is always allowed.
    if (queue.has_unsignalled_used()) SetInterrupt(mmio::kInterruptUsedBuffer);
    return;
  }
  Result<bool, QueueFault> wanted = queue.ShouldInterrupt();
  if (!wanted.ok()) {
    SetInterrupt(mmio::kInterruptUsedBuffer);
    EnterNeedsReset(wanted.error());
    return;
  }
  if (*wanted) SetInterrupt(mmio::kInterruptUsedBuffer);
}

void VirtioMmioTransport::EnterNeedsReset(QueueFault reason) {
  if (!needs_reset_reason_.has_value()) needs_reset_reason_ = reason;
  if ((status_ & virtio::kStatusDeviceNeedsReset) == 0) ++needs_reset_count_;
  status_ |= virtio::kStatusDeviceNeedsReset;
  pending_queues_ = 0;
  uint32_t bits = mmio::kInterruptConfigChange;
  for (const SplitQueue& queue : queues_) {
    if (queue.active() && queue.has_unsignalled_used()) bits |= mmio::kInterruptUsedBuffer;
  }
  SetInterrupt(bits);
}

void VirtioMmioTransport::NotifyConfigChange() {
  ++config_generation_;
  SetInterrupt(mmio::kInterruptConfigChange);
}

void VirtioMmioTransport::ResetDevice() {
  status_ = 0;
  device_features_sel_ = 0;
  driver_features_sel_ = 0;
  driver_features_ = 0;
  queue_sel_ = 0;
  shm_sel_ = 0;
  for (size_t i = 0; i < kMaxQueues; ++i) {
    queues_[i].Reset();
    queue_regs_[i] = QueueRegs{};
    queue_regs_[i].num = device_.queue_max_size();
  }
  pending_queues_ = 0;
  needs_reset_reason_.reset();
  interrupt_status_ = 0;
  UpdateIrq();
  device_.Reset();
}

void VirtioMmioTransport::SetInterrupt(uint32_t bits) {
  interrupt_status_ |= bits;
  UpdateIrq();
}

void VirtioMmioTransport::UpdateIrq() {
  const bool level = interrupt_status_ != 0;
  if (level == irq_level_) return;
  irq_level_ = level;
  irq_.Set(level);
}

}  // namespace hv::devices
