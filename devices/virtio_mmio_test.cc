// The virtio-mmio register file with a fake device behind it: access
// widths, identification, feature negotiation, the status state machine,
// queue setup and its failures, notifications, interrupts, configuration
// space, reset.
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_mmio.h>
#include <gtest/gtest.h>

#include <vector>

#include "devices/testing/virtio_rig.h"

namespace hv::devices {
namespace {

namespace mmio = virtio::mmio;
using testing::GuestRam;
using testing::IrqRecorder;
using testing::kDataBase;
using testing::kHoleBase;
using testing::kRamBase;

constexpr uint64_t kFakeFeatureLow = virtio::FeatureBit(0);
constexpr uint64_t kFakeFeatureHigh = virtio::FeatureBit(35);

// Two queues of at most 8 entries; returns every chain it is given with
// length 7; 16 bytes of configuration 0x00, 0x11, ... 0xff.
class FakeDevice final : public VirtioDevice {
 public:
  FakeDevice() {
    for (size_t i = 0; i < config_.size(); ++i) config_[i] = std::byte(i * 0x11);
  }
  uint32_t device_id() const override { return 42; }
  uint64_t device_features() const override {
    return kFakeFeatureLow | kFakeFeatureHigh | virtio::FeatureBit(virtio::kFeatureRingEventIdx);
  }
  size_t queue_count() const override { return 2; }
  uint16_t queue_max_size() const override { return 8; }
  std::span<const std::byte> config() const override { return config_; }
  void WriteConfig(uint64_t offset, size_t size, uint64_t value) override {
    config_writes.push_back({offset, size, value});
  }
  bool AcceptFeatures(uint64_t features) override {
    // This device cannot do both of its features at once.
    return (features & (kFakeFeatureLow | kFakeFeatureHigh)) !=
           (kFakeFeatureLow | kFakeFeatureHigh);
  }
  bool ProcessQueue(size_t queue) override {
    ++processed[queue];
    SplitQueue* vq = transport()->LiveQueue(queue);
    while (vq != nullptr) {
      Result<bool, QueueFault> popped = vq->Pop(chain_);
      if (!popped.ok()) {
        transport()->EnterNeedsReset(popped.error());
        return false;
      }
      if (!*popped) break;
      if (!vq->Push(chain_.head(), 7).ok()) return false;
    }
    transport()->SignalUsed(queue);
    return want_more;
  }
  void Reset() override { ++resets; }

  struct ConfigWrite {
    uint64_t offset;
    size_t size;
    uint64_t value;
  };
  std::vector<ConfigWrite> config_writes;
  int processed[2] = {};
  int resets = 0;
  bool want_more = false;

 private:
  std::array<std::byte, 16> config_{};
  DescChain chain_;
};

class TransportTest : public ::testing::Test {
 protected:
  uint32_t Reg(uint64_t offset) { return static_cast<uint32_t>(transport.Read(offset, 4).value()); }
  void Set(uint64_t offset, uint32_t value) { ASSERT_TRUE(transport.Write(offset, 4, value).ok()); }
  void Status(uint32_t value) { Set(mmio::kStatus, value); }
  void DriverFeatures(uint64_t features) {
    Set(mmio::kDriverFeaturesSel, 0);
    Set(mmio::kDriverFeatures, static_cast<uint32_t>(features));
    Set(mmio::kDriverFeaturesSel, 1);
    Set(mmio::kDriverFeatures, static_cast<uint32_t>(features >> 32));
  }
  // ACKNOWLEDGE, DRIVER, features, FEATURES_OK.
  void Negotiate(uint64_t features = virtio::FeatureBit(virtio::kFeatureVersion1)) {
    Status(virtio::kStatusAcknowledge);
    Status(virtio::kStatusAcknowledge | virtio::kStatusDriver);
    DriverFeatures(features);
    Status(virtio::kStatusAcknowledge | virtio::kStatusDriver | virtio::kStatusFeaturesOk);
  }
  void ProgramQueue(uint32_t index, const SplitQueue::Layout& l) {
    Set(mmio::kQueueSel, index);
    Set(mmio::kQueueNum, l.size);
    Set(mmio::kQueueDescLow, static_cast<uint32_t>(l.desc.value()));
    Set(mmio::kQueueDescHigh, static_cast<uint32_t>(l.desc.value() >> 32));
    Set(mmio::kQueueDriverLow, static_cast<uint32_t>(l.avail.value()));
    Set(mmio::kQueueDriverHigh, static_cast<uint32_t>(l.avail.value() >> 32));
    Set(mmio::kQueueDeviceLow, static_cast<uint32_t>(l.used.value()));
    Set(mmio::kQueueDeviceHigh, static_cast<uint32_t>(l.used.value() >> 32));
  }
  SplitQueue::Layout Rings(uint16_t size = 8, uint32_t queue = 0) {
    return driver::LayoutRings(GuestPhysAddr(kRamBase + 0x4000 * queue), size);
  }
  // Up to DRIVER_OK with queue 0 enabled; returns the driver's queue.
  driver::DriverQueue Live() {
    Negotiate();
    driver::DriverQueue q = driver::DriverQueue::Create(ram.memory(), Rings()).value();
    ProgramQueue(0, Rings());
    Set(mmio::kQueueReady, 1);
    Status(Reg(mmio::kStatus) | virtio::kStatusDriverOk);
    EXPECT_EQ(Reg(mmio::kQueueReady), 1u);
    return q;
  }
  void ExpectNeedsReset(QueueFault reason) {
    EXPECT_NE(transport.status() & virtio::kStatusDeviceNeedsReset, 0u);
    EXPECT_EQ(transport.needs_reset_reason(), reason);
    EXPECT_NE(Reg(mmio::kInterruptStatus) & mmio::kInterruptConfigChange, 0u);
    EXPECT_TRUE(irq.level);
  }

  GuestRam ram;
  FakeDevice device;
  IrqRecorder irq;
  VirtioMmioTransport transport{ram.memory(), device, IrqLine(&irq, 5)};
};

TEST_F(TransportTest, IdentifiesItself) {
  EXPECT_EQ(Reg(mmio::kMagicValue), 0x74726976u);
  EXPECT_EQ(Reg(mmio::kVersion), 2u);
  EXPECT_EQ(Reg(mmio::kDeviceId), 42u);
  EXPECT_EQ(Reg(mmio::kVendorId), VirtioMmioTransport::kVendorId);
  Set(mmio::kDeviceFeaturesSel, 0);
  EXPECT_EQ(Reg(mmio::kDeviceFeatures), (1u << 0) | (1u << virtio::kFeatureRingEventIdx));
  Set(mmio::kDeviceFeaturesSel, 1);
  EXPECT_EQ(Reg(mmio::kDeviceFeatures),
            (1u << (35 - 32)) | (1u << (virtio::kFeatureVersion1 - 32)));
  Set(mmio::kDeviceFeaturesSel, 2);
  EXPECT_EQ(Reg(mmio::kDeviceFeatures), 0u);
  EXPECT_EQ(Reg(mmio::kStatus), 0u);
  // No shared memory regions: length -1.
  Set(mmio::kShmSel, 0);
  EXPECT_EQ(Reg(mmio::kShmLenLow), 0xffffffffu);
  EXPECT_EQ(Reg(mmio::kShmLenHigh), 0xffffffffu);
}

TEST_F(TransportTest, ControlRegistersTakeOnlyAligned32BitAccesses) {
  for (size_t size : {1, 2, 8}) {
    EXPECT_EQ(transport.Read(mmio::kMagicValue, size).error(), Error::kInvalidArgs) << size;
    EXPECT_EQ(transport.Write(mmio::kStatus, size, 1).error(), Error::kInvalidArgs) << size;
  }
  EXPECT_EQ(transport.Read(mmio::kMagicValue + 2, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(0x0f0, 4).error(), Error::kInvalidArgs);  // a hole
  // Read-only, write-only and legacy registers.
  EXPECT_EQ(transport.Write(mmio::kMagicValue, 4, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Write(mmio::kInterruptStatus, 4, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Write(mmio::kQueueNumMax, 4, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(mmio::kQueueNotify, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(mmio::kInterruptAck, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(mmio::kDriverFeatures, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(0x028, 4).error(), Error::kInvalidArgs);  // GuestPageSize
  EXPECT_EQ(transport.Read(0x040, 4).error(), Error::kInvalidArgs);  // QueuePFN
  EXPECT_EQ(transport.Write(0x040, 4, 1).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.status(), 0u);
}

TEST_F(TransportTest, ConfigSpaceTakesAlignedAccessesInsideIt) {
  EXPECT_EQ(transport.Read(mmio::kConfig + 0, 1).value(), 0x00u);
  EXPECT_EQ(transport.Read(mmio::kConfig + 3, 1).value(), 0x33u);
  EXPECT_EQ(transport.Read(mmio::kConfig + 2, 2).value(), 0x3322u);
  EXPECT_EQ(transport.Read(mmio::kConfig + 4, 4).value(), 0x77665544u);
  EXPECT_EQ(transport.Read(mmio::kConfig + 8, 8).value(), 0xffeeddccbbaa9988u);
  EXPECT_EQ(transport.Read(mmio::kConfig + 1, 2).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(mmio::kConfig + 4, 8).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(mmio::kConfig + 16, 1).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(mmio::kConfig + 0xff, 1).error(), Error::kInvalidArgs);
  EXPECT_EQ(transport.Read(mmio::kConfig, 3).error(), Error::kInvalidArgs);
  ASSERT_TRUE(transport.Write(mmio::kConfig + 4, 4, 0xabcd).ok());
  EXPECT_EQ(transport.Write(mmio::kConfig + 14, 4, 0).error(), Error::kInvalidArgs);
  ASSERT_EQ(device.config_writes.size(), 1u);
  EXPECT_EQ(device.config_writes[0].offset, 4u);
  EXPECT_EQ(device.config_writes[0].value, 0xabcdu);
}

TEST_F(TransportTest, StatusStepsMustComeInOrder) {
  Status(virtio::kStatusDriver);  // without ACKNOWLEDGE
  EXPECT_EQ(Reg(mmio::kStatus), 0u);
  Status(virtio::kStatusAcknowledge);
  Status(virtio::kStatusAcknowledge | virtio::kStatusFeaturesOk);  // without DRIVER
  EXPECT_EQ(Reg(mmio::kStatus), virtio::kStatusAcknowledge);
  Status(virtio::kStatusAcknowledge | virtio::kStatusDriver);
  Status(virtio::kStatusAcknowledge | virtio::kStatusDriver | virtio::kStatusDriverOk);
  EXPECT_EQ(Reg(mmio::kStatus), virtio::kStatusAcknowledge | virtio::kStatusDriver);
  Status(virtio::kStatusAcknowledge | virtio::kStatusDriver | 0x100);  // unknown bit
  Status(virtio::kStatusDriver);                                       // clears ACKNOWLEDGE
  EXPECT_EQ(Reg(mmio::kStatus), virtio::kStatusAcknowledge | virtio::kStatusDriver);
  DriverFeatures(virtio::FeatureBit(virtio::kFeatureVersion1));
  Status(virtio::kStatusAcknowledge | virtio::kStatusDriver | virtio::kStatusFeaturesOk);
  Status(virtio::kStatusAcknowledge | virtio::kStatusDriver | virtio::kStatusFeaturesOk |
         virtio::kStatusDriverOk);
  EXPECT_EQ(Reg(mmio::kStatus), 0x0fu);
  Status(virtio::kStatusAcknowledge | virtio::kStatusDriver);  // clears two bits
  EXPECT_EQ(Reg(mmio::kStatus), 0x0fu);
  Status(0x0f | virtio::kStatusFailed);
  EXPECT_EQ(Reg(mmio::kStatus), 0x8fu);
}

TEST_F(TransportTest, FeaturesOkNeedsVersion1AndOnlyOfferedFeatures) {
  const uint64_t v1 = virtio::FeatureBit(virtio::kFeatureVersion1);
  Negotiate(0);  // a legacy driver
  EXPECT_EQ(Reg(mmio::kStatus) & virtio::kStatusFeaturesOk, 0u);
  Negotiate(v1 | virtio::FeatureBit(3));  // not offered
  EXPECT_EQ(Reg(mmio::kStatus) & virtio::kStatusFeaturesOk, 0u);
  Negotiate(v1 | kFakeFeatureLow | kFakeFeatureHigh);  // the device refuses the pair
  EXPECT_EQ(Reg(mmio::kStatus) & virtio::kStatusFeaturesOk, 0u);
  Negotiate(v1 | kFakeFeatureHigh);
  EXPECT_NE(Reg(mmio::kStatus) & virtio::kStatusFeaturesOk, 0u);
  EXPECT_EQ(transport.driver_features(), v1 | kFakeFeatureHigh);
  // Fixed from now on.
  DriverFeatures(v1 | kFakeFeatureLow);
  EXPECT_EQ(transport.driver_features(), v1 | kFakeFeatureHigh);
  EXPECT_TRUE(transport.FeatureNegotiated(35));
  EXPECT_FALSE(transport.FeatureNegotiated(0));
}

TEST_F(TransportTest, QueueRegistersSelectSetAndFreeze) {
  Set(mmio::kQueueSel, 0);
  EXPECT_EQ(Reg(mmio::kQueueNumMax), 8u);
  Set(mmio::kQueueSel, 1);
  EXPECT_EQ(Reg(mmio::kQueueNumMax), 8u);
  Set(mmio::kQueueSel, 2);
  EXPECT_EQ(Reg(mmio::kQueueNumMax), 0u);
  Set(mmio::kQueueReady, 1);  // no such queue: ignored
  EXPECT_EQ(Reg(mmio::kQueueReady), 0u);

  // Enabling needs FEATURES_OK.
  ProgramQueue(0, Rings());
  Set(mmio::kQueueReady, 1);
  EXPECT_EQ(Reg(mmio::kQueueReady), 0u);
  Negotiate();
  Set(mmio::kQueueReady, 1);
  EXPECT_EQ(Reg(mmio::kQueueReady), 1u);
  EXPECT_EQ(Reg(mmio::kQueueDescLow), static_cast<uint32_t>(Rings().desc.value()));
  // While enabled the layout cannot change.
  Set(mmio::kQueueDescLow, 0x1000);
  Set(mmio::kQueueNum, 2);
  EXPECT_EQ(Reg(mmio::kQueueDescLow), static_cast<uint32_t>(Rings().desc.value()));
  Set(mmio::kQueueReady, 0);
  EXPECT_EQ(Reg(mmio::kQueueReady), 0u);
  Set(mmio::kQueueDescLow, 0x1000);
  EXPECT_EQ(Reg(mmio::kQueueDescLow), 0x1000u);
}

struct BadQueue {
  const char* name;
  uint32_t num;
  int64_t desc_shift;  // added to the good descriptor table address
  uint64_t used;       // replaces the used ring address if non-zero
  QueueFault fault;
};

class TransportBadQueue : public TransportTest, public ::testing::WithParamInterface<BadQueue> {};

TEST_P(TransportBadQueue, SetsNeedsResetAndRaisesConfigInterrupt) {
  const BadQueue& bad = GetParam();
  Negotiate();
  SplitQueue::Layout l = Rings();
  l.desc = GuestPhysAddr(l.desc.value() + bad.desc_shift);
  if (bad.used != 0) l.used = GuestPhysAddr(bad.used);
  ProgramQueue(0, l);
  Set(mmio::kQueueNum, bad.num);
  const std::vector<std::byte> before = ram.Snapshot();
  Set(mmio::kQueueReady, 1);
  EXPECT_EQ(Reg(mmio::kQueueReady), 0u);
  ExpectNeedsReset(bad.fault);
  EXPECT_TRUE(ram.Changes(before, ram.Snapshot()).empty());
  // Nothing runs until a reset; after it the device works again.
  Status(Reg(mmio::kStatus) | virtio::kStatusDriverOk);
  Set(mmio::kQueueNotify, 0);
  EXPECT_EQ(device.processed[0], 0);
  Status(0);
  EXPECT_EQ(Reg(mmio::kStatus), 0u);
  EXPECT_EQ(Reg(mmio::kInterruptStatus), 0u);
  EXPECT_FALSE(irq.level);
  EXPECT_FALSE(transport.needs_reset_reason().has_value());
  driver::DriverQueue q = Live();
  ASSERT_TRUE(q.Submit(std::array{driver::Buffer{GuestPhysAddr(kDataBase), 1, true}}).ok());
  Set(mmio::kQueueNotify, 0);
  EXPECT_EQ(q.ReadUsedIdx().value(), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Transport, TransportBadQueue,
    ::testing::Values(BadQueue{"NotAPowerOfTwo", 6, 0, 0, QueueFault::kBadQueueSize},
                      BadQueue{"AboveQueueNumMax", 16, 0, 0, QueueFault::kBadQueueSize},
                      BadQueue{"Zero", 0, 0, 0, QueueFault::kBadQueueSize},
                      BadQueue{"Above16Bits", 0x10008, 0, 0, QueueFault::kBadQueueSize},
                      BadQueue{"MisalignedDesc", 8, 8, 0, QueueFault::kMisalignedRing},
                      BadQueue{"UsedInTheHole", 8, 0, kHoleBase, QueueFault::kRingOutsideRam}),
    [](const ::testing::TestParamInfo<BadQueue>& p) { return p.param.name; });

TEST_F(TransportTest, NotificationsBeforeDriverOkOrForDisabledQueuesAreIgnored) {
  Negotiate();
  driver::DriverQueue q = driver::DriverQueue::Create(ram.memory(), Rings()).value();
  ASSERT_TRUE(q.Submit(std::array{driver::Buffer{GuestPhysAddr(kDataBase), 1, true}}).ok());
  const std::vector<std::byte> before = ram.Snapshot();
  Set(mmio::kQueueNotify, 0);  // queue not enabled, no DRIVER_OK
  ProgramQueue(0, Rings());
  Set(mmio::kQueueReady, 1);
  Set(mmio::kQueueNotify, 0);  // enabled, still no DRIVER_OK
  Status(Reg(mmio::kStatus) | virtio::kStatusDriverOk);
  Set(mmio::kQueueNotify, 1);  // queue 1 not enabled
  Set(mmio::kQueueNotify, 7);  // no queue 7
  Set(mmio::kQueueNotify, 0xffffffff);
  EXPECT_EQ(transport.ignored_notifications(), 5u);
  EXPECT_EQ(device.processed[0] + device.processed[1], 0);
  EXPECT_TRUE(ram.Changes(before, ram.Snapshot()).empty());
  EXPECT_FALSE(irq.level);
  // The buffer was not lost: the first real notification takes it.
  Set(mmio::kQueueNotify, 0);
  EXPECT_EQ(q.ReadUsedIdx().value(), 1);
  // FAILED stops the device.
  ASSERT_TRUE(q.Submit(std::array{driver::Buffer{GuestPhysAddr(kDataBase), 1, true}}).ok());
  Status(Reg(mmio::kStatus) | virtio::kStatusFailed);
  Set(mmio::kQueueNotify, 0);
  EXPECT_EQ(q.ReadUsedIdx().value(), 1);
}

TEST_F(TransportTest, UsedBuffersRaiseTheLineUntilAcknowledged) {
  driver::DriverQueue q = Live();
  ASSERT_TRUE(q.Submit(std::array{driver::Buffer{GuestPhysAddr(kDataBase), 1, true}}).ok());
  Set(mmio::kQueueNotify, 0);
  EXPECT_EQ(Reg(mmio::kInterruptStatus), mmio::kInterruptUsedBuffer);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(irq.last_irq, 5u);
  Set(mmio::kInterruptAck, mmio::kInterruptConfigChange);  // not the pending bit
  EXPECT_TRUE(irq.level);
  Set(mmio::kInterruptAck, mmio::kInterruptUsedBuffer);
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(irq.raises, 1);
  const virtio::VirtqUsedElem used = q.PopUsed().value().value();
  EXPECT_EQ(used.len, 7u);
}

TEST_F(TransportTest, AQueueFaultWhileProcessingNeedsReset) {
  driver::DriverQueue q = Live();
  // A good chain, then one naming descriptor 8 of a queue of 8.
  ASSERT_TRUE(q.Submit(std::array{driver::Buffer{GuestPhysAddr(kDataBase), 1, true}}).ok());
  ASSERT_TRUE(q.Publish(8).ok());
  Set(mmio::kQueueNotify, 0);
  ExpectNeedsReset(QueueFault::kHeadOutOfRange);
  // The completed request before the fault is returned and signalled.
  EXPECT_EQ(q.ReadUsedIdx().value(), 1);
  EXPECT_NE(Reg(mmio::kInterruptStatus) & mmio::kInterruptUsedBuffer, 0u);
  // DEVICE_NEEDS_RESET survives status writes other than 0.
  Status(Reg(mmio::kStatus));
  EXPECT_NE(Reg(mmio::kStatus) & virtio::kStatusDeviceNeedsReset, 0u);
  Set(mmio::kQueueNotify, 0);
  EXPECT_EQ(device.processed[0], 1);
  // Counted once per entry; a reset by the driver does not clear the count.
  EXPECT_EQ(transport.needs_reset_count(), 1u);
  Status(0);
  EXPECT_EQ(Reg(mmio::kStatus), 0u);
  EXPECT_EQ(transport.needs_reset_count(), 1u);
}

TEST_F(TransportTest, WorkLeftAtTheBudgetIsPolled) {
  Live();
  device.want_more = true;
  Set(mmio::kQueueNotify, 0);
  EXPECT_TRUE(transport.has_pending_work());
  device.want_more = false;
  transport.Poll();
  EXPECT_EQ(device.processed[0], 2);
  EXPECT_FALSE(transport.has_pending_work());
  transport.Poll();
  EXPECT_EQ(device.processed[0], 2);
}

TEST_F(TransportTest, ResetReturnsEverythingToItsInitialState) {
  Live();
  Set(mmio::kQueueNotify, 0);
  transport.NotifyConfigChange();
  EXPECT_EQ(Reg(mmio::kConfigGeneration), 1u);
  const int resets = device.resets;
  Status(0);
  EXPECT_EQ(device.resets, resets + 1);
  EXPECT_EQ(Reg(mmio::kStatus), 0u);
  EXPECT_EQ(Reg(mmio::kInterruptStatus), 0u);
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(transport.driver_features(), 0u);
  Set(mmio::kQueueSel, 0);
  EXPECT_EQ(Reg(mmio::kQueueReady), 0u);
  EXPECT_EQ(transport.LiveQueue(0), nullptr);
}

TEST_F(TransportTest, RingsOutsideRamAreRefusedAtEnable) {
  Negotiate();
  SplitQueue::Layout l = Rings();
  l.avail = GuestPhysAddr(kHoleBase);
  ProgramQueue(0, l);
  Set(mmio::kQueueReady, 1);
  ExpectNeedsReset(QueueFault::kRingOutsideRam);
}

}  // namespace
}  // namespace hv::devices
