// virtio-blk through its transport, with the test driver laying out the
// queue in hosted guest memory: normal I/O, any-layout and indirect chains,
// 16-bit index wraparound, interrupt suppression, and every malformed
// request, each checked for its exact status, used element or
// DEVICE_NEEDS_RESET and for guest memory changed only where allowed.
#include <devices/block_backend.h>
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_blk.h>
#include <devices/virtio_mmio.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "devices/testing/virtio_rig.h"

namespace hv::devices {
namespace {

namespace blk = virtio::blk;
namespace mmio = virtio::mmio;
using driver::Buffer;
using testing::BlkRig;
using testing::BlkRigOptions;
using testing::kDataBase;
using testing::kHoleBase;
using testing::kRamBase;
using testing::kRamSize;
using virtio::VirtqDesc;
using Range = AddrRange<GuestPhysAddr>;

// Addresses for hand-built requests.
const GuestPhysAddr kHeader(kDataBase);
const GuestPhysAddr kHeader2(kDataBase + 0x100);
const GuestPhysAddr kStatus(kDataBase + 0x800);
const GuestPhysAddr kTable(kDataBase + 0xc00);
GuestPhysAddr Data(uint64_t offset) { return GuestPhysAddr(kDataBase + 0x1000 + offset); }

Range R(GuestPhysAddr start, uint64_t size) { return *Range::Create(start, size); }

std::vector<std::byte> Pattern(size_t n, int seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::byte>((i * 13 + seed * 101 + i / 7) & 0xff);
  return v;
}

class BlkTest : public ::testing::Test {
 protected:
  explicit BlkTest(BlkRigOptions options = {}) : rig(BlkRig::Create(options)) {}

  void Header(GuestPhysAddr at, uint32_t type, uint64_t sector) {
    ASSERT_TRUE(rig->ram.memory().WriteObj(at, blk::ReqHeader{type, 0, sector}).ok());
  }
  Range UsedRing() const {
    return R(rig->layout().used, virtio::UsedRingBytes(rig->queue_size, true));
  }
  std::span<const std::byte> DiskAt(uint64_t sector, size_t len) const {
    return std::span<const std::byte>(rig->disk).subspan(sector * 512, len);
  }

  struct Outcome {
    std::optional<virtio::VirtqUsedElem> used;
    uint8_t status = 0;
    // Guest bytes changed outside the used ring and the allowed ranges.
    std::vector<Range> stray;
    bool disk_changed = false;
  };

  // Publishes the chain already in the descriptor table at `head`, notifies,
  // and collects what happened. The status byte at kStatus starts as 0xff.
  Outcome RunPublished(uint16_t head, std::vector<Range> allowed) {
    Outcome out;
    EXPECT_TRUE(rig->ram.memory().WriteObj(kStatus, uint8_t{0xff}).ok());
    EXPECT_TRUE(rig->queue->Publish(head).ok());
    const std::vector<std::byte> before = rig->ram.Snapshot();
    const std::vector<std::byte> disk_before = rig->disk;
    EXPECT_TRUE(rig->mmio->Notify(0).ok());
    allowed.push_back(UsedRing());
    out.stray = rig->ram.ChangesOutside(before, rig->ram.Snapshot(), allowed);
    out.disk_changed = rig->disk != disk_before;
    out.used = rig->queue->PopUsed().value();
    out.status = rig->ram.memory().ReadObj<uint8_t>(kStatus).value();
    return out;
  }

  // Builds `chain` from free descriptors and runs it; the status byte is
  // read from `status_at`.
  Outcome Run(std::span<const Buffer> chain, std::vector<Range> allowed,
              GuestPhysAddr status_at = kStatus) {
    const std::optional<uint16_t> head = rig->queue->next_head();
    EXPECT_TRUE(head.has_value());
    EXPECT_TRUE(rig->ram.memory().WriteObj(kStatus, uint8_t{0xff}).ok());
    const std::vector<std::byte> before = rig->ram.Snapshot();
    const std::vector<std::byte> disk_before = rig->disk;
    EXPECT_TRUE(rig->queue->Submit(chain).ok());
    // The descriptors and the avail entry are the driver's writes.
    allowed.push_back(R(rig->layout().desc, virtio::DescTableBytes(rig->queue_size)));
    allowed.push_back(R(rig->layout().avail, virtio::AvailRingBytes(rig->queue_size, true)));
    allowed.push_back(UsedRing());
    EXPECT_TRUE(rig->mmio->Notify(0).ok());
    Outcome out;
    out.stray = rig->ram.ChangesOutside(before, rig->ram.Snapshot(), allowed);
    out.disk_changed = rig->disk != disk_before;
    out.used = rig->queue->PopUsed().value();
    out.status = rig->ram.memory().ReadObj<uint8_t>(status_at).value();
    return out;
  }

  // The request was answered with `status` and used length `len`, nothing
  // else in guest memory changed, and the device is still live.
  void ExpectAnswered(const Outcome& out, uint8_t status, uint32_t len) {
    ASSERT_TRUE(out.used.has_value()) << "no used element";
    EXPECT_EQ(out.status, status);
    EXPECT_EQ(out.used->len, len);
    EXPECT_TRUE(out.stray.empty()) << testing::Describe(out.stray);
    EXPECT_EQ(rig->transport->status() & virtio::kStatusDeviceNeedsReset, 0u);
  }

  // Nothing was answered, nothing in guest memory or on the disk changed,
  // and the device asks for a reset with `reason`.
  void ExpectNeedsReset(const Outcome& out, QueueFault reason) {
    EXPECT_FALSE(out.used.has_value());
    EXPECT_EQ(out.status, 0xff);
    EXPECT_TRUE(out.stray.empty()) << testing::Describe(out.stray);
    EXPECT_FALSE(out.disk_changed);
    EXPECT_NE(rig->transport->status() & virtio::kStatusDeviceNeedsReset, 0u);
    ASSERT_TRUE(rig->transport->needs_reset_reason().has_value());
    EXPECT_EQ(*rig->transport->needs_reset_reason(), reason)
        << QueueFaultName(*rig->transport->needs_reset_reason());
    EXPECT_EQ(rig->transport->needs_reset_count(), 1u);
    EXPECT_NE(rig->transport->interrupt_status() & mmio::kInterruptConfigChange, 0u);
    EXPECT_TRUE(rig->irq.level);
  }

  std::unique_ptr<BlkRig> rig;
};

TEST_F(BlkTest, ConfigSpaceAndFeatures) {
  EXPECT_EQ(rig->mmio->ReadConfig(offsetof(blk::Config, capacity), 8).value(), 2048u);
  // A driver may read the 64-bit capacity as two 32-bit halves.
  EXPECT_EQ(rig->mmio->ReadConfig(0, 4).value(), 2048u);
  EXPECT_EQ(rig->mmio->ReadConfig(4, 4).value(), 0u);
  EXPECT_EQ(rig->mmio->ReadConfig(offsetof(blk::Config, seg_max), 4).value(),
            SplitQueue::kMaxSize - 2u);
  EXPECT_EQ(rig->mmio->ReadConfig(offsetof(blk::Config, blk_size), 4).value(), 512u);
  EXPECT_EQ(rig->mmio->ReadConfig(sizeof(blk::Config), 1).error(), Error::kInvalidArgs);
  const uint64_t wanted = virtio::FeatureBit(virtio::kFeatureVersion1) |
                          virtio::FeatureBit(virtio::kFeatureRingIndirectDesc) |
                          virtio::FeatureBit(virtio::kFeatureRingEventIdx) |
                          virtio::FeatureBit(blk::kFeatureFlush);
  EXPECT_EQ(rig->negotiated, wanted);
  EXPECT_EQ(rig->mmio->ReadReg(mmio::kDeviceId).value(), virtio::kDeviceIdBlock);
  ASSERT_TRUE(rig->mmio->WriteReg(mmio::kDeviceFeaturesSel, 0).ok());
  const uint32_t offered = rig->mmio->ReadReg(mmio::kDeviceFeatures).value();
  EXPECT_NE(offered & (1u << blk::kFeatureSegMax), 0u);
  EXPECT_NE(offered & (1u << blk::kFeatureBlkSize), 0u);
  EXPECT_EQ(offered & (1u << blk::kFeatureRo), 0u);
}

TEST_F(BlkTest, WritesAndReadsBack) {
  const std::vector<std::byte> data = Pattern(4096, 1);
  rig->ram.Write(Data(0), data);
  EXPECT_EQ(rig->driver->Write(10, Data(0), 4096).value(), blk::kStatusOk);
  // SAFETY: both spans hold 4096 bytes.
  EXPECT_EQ(std::memcmp(DiskAt(10, 4096).data(), data.data(), 4096), 0);
  EXPECT_EQ(rig->driver->Read(10, Data(8192), 4096).value(), blk::kStatusOk);
  EXPECT_EQ(rig->ram.Read(Data(8192), 4096), data);
  // The used lengths: a write writes only its status, a read data + status.
  ASSERT_TRUE(rig->driver->Submit(blk::kTypeIn, 10, Data(8192), 512).ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  EXPECT_EQ(rig->driver->Complete()->len, 513u);
  ASSERT_TRUE(rig->driver->Submit(blk::kTypeOut, 10, Data(8192), 512).ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  EXPECT_EQ(rig->driver->Complete()->len, 1u);
  EXPECT_EQ(rig->blk->stats().ok, 4u);
}

TEST_F(BlkTest, FirstAndLastSectors) {
  const std::vector<std::byte> data = Pattern(1024, 2);
  rig->ram.Write(Data(0), data);
  EXPECT_EQ(rig->driver->Write(0, Data(0), 1024).value(), blk::kStatusOk);
  EXPECT_EQ(rig->driver->Write(2046, Data(0), 1024).value(), blk::kStatusOk);
  // SAFETY: both spans hold 1024 bytes.
  EXPECT_EQ(std::memcmp(DiskAt(2046, 1024).data(), data.data(), 1024), 0);
  EXPECT_EQ(rig->driver->Read(2047, Data(4096), 512).value(), blk::kStatusOk);
  EXPECT_EQ(rig->ram.Read(Data(4096), 512), std::vector<std::byte>(data.begin() + 512, data.end()));
}

TEST_F(BlkTest, AnyLayoutSplitsHeaderDataAndStatusAnywhere) {
  // Header in two pieces, data in three uneven pieces, and the status byte
  // sharing the last data descriptor.
  Header(kHeader, blk::kTypeIn, 4);
  const Buffer chain[] = {{kHeader, 7, false},
                          {GuestPhysAddr(kHeader.value() + 7), 9, false},
                          {Data(0), 1000, true},
                          {Data(3000), 2072, true},
                          {Data(6000), 1025, true}};
  const Outcome out =
      Run(chain, {R(Data(0), 1000), R(Data(3000), 2072), R(Data(6000), 1025)}, Data(6000 + 1024));
  ExpectAnswered(out, blk::kStatusOk, 4097);
  const std::span<const std::byte> disk = DiskAt(4, 4096);
  EXPECT_EQ(rig->ram.Read(Data(0), 1000),
            std::vector<std::byte>(disk.begin(), disk.begin() + 1000));
  EXPECT_EQ(rig->ram.Read(Data(3000), 2072),
            std::vector<std::byte>(disk.begin() + 1000, disk.begin() + 3072));
  EXPECT_EQ(rig->ram.Read(Data(6000), 1024),
            std::vector<std::byte>(disk.begin() + 3072, disk.end()));
}

TEST_F(BlkTest, IndirectRequests) {
  const std::vector<std::byte> data = Pattern(2048, 3);
  rig->ram.Write(Data(0), data);
  ASSERT_TRUE(rig->driver->Submit(blk::kTypeOut, 100, Data(0), 2048, /*indirect=*/true).ok());
  ASSERT_TRUE(rig->driver->Submit(blk::kTypeIn, 100, Data(4096), 2048, /*indirect=*/true).ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  EXPECT_EQ(rig->driver->Complete()->status, blk::kStatusOk);
  EXPECT_EQ(rig->driver->Complete()->status, blk::kStatusOk);
  EXPECT_EQ(rig->ram.Read(Data(4096), 2048), data);
}

TEST_F(BlkTest, FlushAndGetId) {
  EXPECT_EQ(rig->driver->Flush().value(), blk::kStatusOk);
  rig->ram.Fill(Data(0), 64, std::byte{0xaa});
  EXPECT_EQ(rig->driver->GetId(Data(0)).value(), blk::kStatusOk);
  std::vector<std::byte> id(20);
  // SAFETY: 12 bytes into a vector of 20. The id is NUL-padded to 20.
  std::memcpy(id.data(), "hv-test-disk", 12);
  EXPECT_EQ(rig->ram.Read(Data(0), 20), id);
  EXPECT_EQ(rig->ram.Read(Data(20), 1)[0], std::byte{0xaa});  // the buffer's end
  // A shorter buffer gets a prefix; used length = bytes written + status.
  rig->ram.Fill(Data(0), 64, std::byte{0xaa});
  ASSERT_TRUE(rig->driver->Submit(blk::kTypeGetId, 0, Data(0), 5).ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  const auto done = rig->driver->Complete().value();
  EXPECT_EQ(done.status, blk::kStatusOk);
  EXPECT_EQ(done.len, 6u);
  EXPECT_EQ(rig->ram.Read(Data(0), 6),
            (std::vector<std::byte>{std::byte{'h'}, std::byte{'v'}, std::byte{'-'}, std::byte{'t'},
                                    std::byte{'e'}, std::byte{0xaa}}));
}

class BlkWithoutFlushTest : public BlkTest {
 protected:
  BlkWithoutFlushTest()
      : BlkTest(BlkRigOptions{.features = virtio::FeatureBit(virtio::kFeatureRingIndirectDesc)}) {}
};

TEST_F(BlkWithoutFlushTest, FlushIsUnsupportedUnlessNegotiated) {
  EXPECT_EQ(rig->driver->Flush().value(), blk::kStatusUnsupp);
  EXPECT_EQ(rig->blk->stats().unsupp, 1u);
}

class ReadOnlyBlkTest : public BlkTest {
 protected:
  ReadOnlyBlkTest() : BlkTest(BlkRigOptions{.read_only = true}) {}
};

TEST_F(ReadOnlyBlkTest, OffersRoAndRefusesWrites) {
  ASSERT_TRUE(rig->mmio->WriteReg(mmio::kDeviceFeaturesSel, 0).ok());
  EXPECT_NE(rig->mmio->ReadReg(mmio::kDeviceFeatures).value() & (1u << blk::kFeatureRo), 0u);
  rig->ram.Write(Data(0), Pattern(512, 4));
  const std::vector<std::byte> disk = rig->disk;
  EXPECT_EQ(rig->driver->Write(0, Data(0), 512).value(), blk::kStatusIoErr);
  EXPECT_EQ(rig->disk, disk);
  EXPECT_EQ(rig->driver->Read(0, Data(0), 512).value(), blk::kStatusOk);
}

TEST_F(BlkTest, UnknownTypesAreUnsupported) {
  for (uint32_t type : {2u, 11u, 13u, 0x99u, 0xffffffffu}) {
    Header(kHeader, type, 0);
    const Buffer chain[] = {{kHeader, 16, false}, {kStatus, 1, true}};
    ExpectAnswered(Run(chain, {R(kStatus, 1)}), blk::kStatusUnsupp, 1);
  }
}

// 16-bit avail/used indices wrap after 65536 requests; the ring wraps every
// queue-size requests. Every request still completes, in order, with its data.
TEST_F(BlkTest, IndicesAndRingWrapAround) {
  const std::vector<std::byte> data = Pattern(512, 5);
  rig->ram.Write(Data(0), data);
  ASSERT_EQ(rig->driver->Write(7, Data(0), 512).value(), blk::kStatusOk);
  constexpr int kRequests = 70000;
  int batch = 0;
  for (int done = 0; done < kRequests; done += batch) {
    // Batches of 1..16 requests per notification, so the ring wraps at
    // varying positions; batches of more than 5 (3 descriptors each) use
    // indirect descriptors to fit in the queue.
    batch = std::min(1 + done % 16, kRequests - done);
    for (int i = 0; i < batch; ++i) {
      ASSERT_TRUE(
          rig->driver->Submit(blk::kTypeIn, 7, Data(4096 + 512 * i), 512, /*indirect=*/batch > 5)
              .ok());
    }
    ASSERT_TRUE(rig->mmio->Notify(0).ok());
    for (int i = 0; i < batch; ++i) {
      const auto c = rig->driver->Complete();
      ASSERT_TRUE(c.ok()) << done + i;
      ASSERT_EQ(c->status, blk::kStatusOk) << done + i;
      ASSERT_EQ(c->len, 513u);
    }
  }
  EXPECT_EQ(rig->queue->last_used_idx(), static_cast<uint16_t>(kRequests + 1));
  EXPECT_EQ(rig->queue->ReadUsedIdx().value(), static_cast<uint16_t>(kRequests + 1));
  EXPECT_EQ(rig->ram.Read(Data(4096 + 512 * 15), 512), data);
  EXPECT_EQ(rig->blk->stats().ok, kRequests + 1u);
}

TEST_F(BlkTest, EventIdxSuppressesInterruptsUntilUsedEvent) {
  ASSERT_NE(rig->negotiated & virtio::FeatureBit(virtio::kFeatureRingEventIdx), 0u);
  // Ask for an interrupt only when the 4th request (used index 4) completes.
  ASSERT_TRUE(rig->queue->SetUsedEvent(3).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(rig->driver->Submit(blk::kTypeIn, 0, Data(512 * i), 512).ok());
    ASSERT_TRUE(rig->mmio->Notify(0).ok());
    ASSERT_TRUE(rig->driver->Complete().ok());
    EXPECT_FALSE(rig->irq.level) << i;
  }
  ASSERT_TRUE(rig->driver->Submit(blk::kTypeIn, 0, Data(0), 512).ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  ASSERT_TRUE(rig->driver->Complete().ok());
  EXPECT_TRUE(rig->irq.level);
  EXPECT_EQ(rig->irq.raises, 1);
  EXPECT_EQ(rig->mmio->TakeInterrupts().value(), mmio::kInterruptUsedBuffer);
  // The device asks to be notified at the next entry.
  EXPECT_EQ(rig->queue->ReadAvailEvent().value(), 4);
  // A batch crossing the event interrupts once.
  ASSERT_TRUE(rig->queue->SetUsedEvent(5).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(rig->driver->Submit(blk::kTypeIn, 0, Data(0), 512).ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  EXPECT_EQ(rig->irq.raises, 2);
  EXPECT_EQ(rig->queue->ReadAvailEvent().value(), 8);
}

class BlkNoEventIdxTest : public BlkTest {
 protected:
  BlkNoEventIdxTest() : BlkTest(BlkRigOptions{.features = 0}) {}
};

TEST_F(BlkNoEventIdxTest, NoInterruptFlagSuppressesInterrupts) {
  ASSERT_TRUE(rig->queue->SetAvailFlags(virtio::kAvailFlagNoInterrupt).ok());
  EXPECT_EQ(rig->driver->Read(0, Data(0), 512).value(), blk::kStatusOk);
  EXPECT_FALSE(rig->irq.level);
  ASSERT_TRUE(rig->queue->SetAvailFlags(0).ok());
  EXPECT_EQ(rig->driver->Read(0, Data(0), 512).value(), blk::kStatusOk);
  EXPECT_TRUE(rig->irq.level);
  // No avail_event without EVENT_IDX.
  EXPECT_EQ(rig->queue->ReadAvailEvent().value(), 0);
}

// Malformed requests the device can answer: IOERR/UNSUPP in the status byte,
// nothing else written, the disk unchanged.

TEST_F(BlkTest, HeaderShorterThan16Bytes) {
  Header(kHeader, blk::kTypeIn, 0);
  const Buffer chain[] = {{kHeader, 8, false}, {Data(0), 512, true}, {kStatus, 1, true}};
  const Outcome out = Run(chain, {R(kStatus, 1)});
  ExpectAnswered(out, blk::kStatusIoErr, 1);
  EXPECT_EQ(rig->blk->stats().ioerr, 1u);
}

TEST_F(BlkTest, HeaderInADeviceWritableDescriptor) {
  Header(kHeader, blk::kTypeIn, 0);
  const Buffer chain[] = {{kHeader, 16, true}, {Data(0), 512, true}, {kStatus, 1, true}};
  ExpectAnswered(Run(chain, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
}

TEST_F(BlkTest, ReadIntoDeviceReadableData) {
  Header(kHeader, blk::kTypeIn, 0);
  const Buffer chain[] = {{kHeader, 16, false}, {Data(0), 512, false}, {kStatus, 1, true}};
  ExpectAnswered(Run(chain, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
}

TEST_F(BlkTest, WriteFromDeviceWritableData) {
  Header(kHeader, blk::kTypeOut, 0);
  const Buffer chain[] = {{kHeader, 16, false}, {Data(0), 512, true}, {kStatus, 1, true}};
  const Outcome out = Run(chain, {R(kStatus, 1)});
  ExpectAnswered(out, blk::kStatusIoErr, 1);
  EXPECT_FALSE(out.disk_changed);
}

TEST_F(BlkTest, ReadableAfterWritable) {
  Header(kHeader, blk::kTypeOut, 0);
  const Buffer chain[] = {{kHeader, 16, false}, {kStatus, 1, true}, {Data(0), 512, false}};
  const Outcome out = Run(chain, {R(kStatus, 1)});
  ExpectAnswered(out, blk::kStatusIoErr, 1);
  EXPECT_FALSE(out.disk_changed);
}

TEST_F(BlkTest, DataNotAMultipleOf512) {
  Header(kHeader, blk::kTypeIn, 0);
  const Buffer in[] = {{kHeader, 16, false}, {Data(0), 100, true}, {kStatus, 1, true}};
  ExpectAnswered(Run(in, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
  Header(kHeader, blk::kTypeOut, 0);
  const Buffer out[] = {{kHeader, 16, false}, {Data(0), 513, false}, {kStatus, 1, true}};
  const Outcome o = Run(out, {R(kStatus, 1)});
  ExpectAnswered(o, blk::kStatusIoErr, 1);
  EXPECT_FALSE(o.disk_changed);
}

class BlkSectorRange : public BlkTest,
                       public ::testing::WithParamInterface<std::pair<uint64_t, uint32_t>> {};

TEST_P(BlkSectorRange, OutOfRangeSectorsAreIoErrors) {
  const auto [sector, len] = GetParam();
  Header(kHeader, blk::kTypeIn, sector);
  const Buffer in[] = {{kHeader, 16, false}, {Data(0), len, true}, {kStatus, 1, true}};
  ExpectAnswered(Run(in, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
  Header(kHeader, blk::kTypeOut, sector);
  const Buffer out[] = {{kHeader, 16, false}, {Data(0), len, false}, {kStatus, 1, true}};
  const Outcome o = Run(out, {R(kStatus, 1)});
  ExpectAnswered(o, blk::kStatusIoErr, 1);
  EXPECT_FALSE(o.disk_changed);
}

INSTANTIATE_TEST_SUITE_P(Blk, BlkSectorRange,
                         ::testing::Values(std::pair<uint64_t, uint32_t>{2048, 512},
                                           std::pair<uint64_t, uint32_t>{2047, 1024},
                                           std::pair<uint64_t, uint32_t>{2049, 0},
                                           // sector * 512 and sector + count overflow
                                           std::pair<uint64_t, uint32_t>{~uint64_t{0}, 512},
                                           std::pair<uint64_t, uint32_t>{uint64_t{1} << 55, 512},
                                           std::pair<uint64_t, uint32_t>{~uint64_t{0} - 1, 1024}));

TEST_F(BlkTest, DataBuffersOutsideGuestRam) {
  const std::vector<std::pair<uint64_t, uint32_t>> places = {
      {kHoleBase, 512},                   // in the hole
      {kRamBase + kRamSize - 256, 512},   // runs off the end of RAM
      {~uint64_t{0} - 255, 512},          // wraps the address space
      {testing::kRam2Base - 512, 1024}};  // starts in the hole, ends in RAM2
  for (const auto& [addr, len] : places) {
    Header(kHeader, blk::kTypeIn, 0);
    const Buffer in[] = {{kHeader, 16, false},
                         {Data(0), 512, true},
                         {GuestPhysAddr(addr), len, true},
                         {kStatus, 1, true}};
    // Nothing is written, not even to the good buffer before the bad one.
    ExpectAnswered(Run(in, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
    Header(kHeader, blk::kTypeOut, 0);
    const Buffer out[] = {
        {kHeader, 16, false}, {GuestPhysAddr(addr), len, false}, {kStatus, 1, true}};
    const Outcome o = Run(out, {R(kStatus, 1)});
    ExpectAnswered(o, blk::kStatusIoErr, 1);
    EXPECT_FALSE(o.disk_changed);
  }
}

TEST_F(BlkTest, HeaderOutsideGuestRam) {
  const Buffer chain[] = {{GuestPhysAddr(kHoleBase), 16, false}, {kStatus, 1, true}};
  ExpectAnswered(Run(chain, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
}

TEST_F(BlkTest, LengthsThatWouldOverflow32Bits) {
  // Writable descriptors of ~4 GiB each: their sum needs more than 32 bits.
  Header(kHeader, blk::kTypeIn, 0);
  const Buffer chain[] = {{kHeader, 16, false},
                          {Data(0), 0xfffffe00u, true},
                          {Data(0), 0xfffffe00u, true},
                          {Data(0), 0xfffffe00u, true},
                          {kStatus, 1, true}};
  ExpectAnswered(Run(chain, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
}

TEST_F(BlkTest, FlushWithDataAndGetIdWithoutBuffer) {
  Header(kHeader, blk::kTypeFlush, 0);
  const Buffer flush[] = {{kHeader, 16, false}, {Data(0), 512, true}, {kStatus, 1, true}};
  ExpectAnswered(Run(flush, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
  Header(kHeader, blk::kTypeGetId, 0);
  const Buffer get_id[] = {{kHeader, 16, false}, {kStatus, 1, true}};
  ExpectAnswered(Run(get_id, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
  const Buffer get_id_readable[] = {
      {kHeader, 16, false}, {Data(0), 20, false}, {Data(100), 20, true}, {kStatus, 1, true}};
  ExpectAnswered(Run(get_id_readable, {R(kStatus, 1)}), blk::kStatusIoErr, 1);
}

// Malformed requests without a status byte to answer in, and broken chains:
// DEVICE_NEEDS_RESET, nothing returned, nothing written.

TEST_F(BlkTest, NoDeviceWritableByte) {
  Header(kHeader, blk::kTypeOut, 0);
  const Buffer chain[] = {{kHeader, 16, false}, {Data(0), 512, false}};
  ExpectNeedsReset(Run(chain, {}), QueueFault::kUnanswerableRequest);
}

TEST_F(BlkTest, OnlyAZeroLengthWritableDescriptor) {
  Header(kHeader, blk::kTypeIn, 0);
  const Buffer chain[] = {{kHeader, 16, false}, {kStatus, 0, true}};
  ExpectNeedsReset(Run(chain, {}), QueueFault::kUnanswerableRequest);
}

TEST_F(BlkTest, StatusByteOutsideGuestRam) {
  // A write whose data is fine: the disk must not change either.
  rig->ram.Write(Data(0), Pattern(512, 6));
  Header(kHeader, blk::kTypeOut, 0);
  const Buffer chain[] = {
      {kHeader, 16, false}, {Data(0), 512, false}, {GuestPhysAddr(kHoleBase), 1, true}};
  ExpectNeedsReset(Run(chain, {}), QueueFault::kUnanswerableRequest);
}

TEST_F(BlkTest, StatusByteInABufferThatWrapsTheAddressSpace) {
  Header(kHeader, blk::kTypeIn, 0);
  const Buffer chain[] = {{kHeader, 16, false}, {GuestPhysAddr(~uint64_t{0} - 0xf), 0x20, true}};
  ExpectNeedsReset(Run(chain, {}), QueueFault::kUnanswerableRequest);
}

TEST_F(BlkTest, DescriptorIndexOutOfRange) {
  ExpectNeedsReset(RunPublished(rig->queue_size, {}), QueueFault::kHeadOutOfRange);
}

TEST_F(BlkTest, NextIndexOutOfRange) {
  Header(kHeader, blk::kTypeIn, 0);
  ASSERT_TRUE(rig->queue->WriteDesc(0, {kHeader.value(), 16, virtio::kDescFlagNext, 0xffff}).ok());
  ExpectNeedsReset(RunPublished(0, {}), QueueFault::kNextOutOfRange);
}

TEST_F(BlkTest, ADescriptorLoop) {
  Header(kHeader, blk::kTypeIn, 0);
  ASSERT_TRUE(rig->queue->WriteDesc(0, {kHeader.value(), 16, virtio::kDescFlagNext, 1}).ok());
  ASSERT_TRUE(rig->queue->WriteDesc(1, {Data(0).value(), 512, 3, 2}).ok());
  ASSERT_TRUE(rig->queue->WriteDesc(2, {kStatus.value(), 1, 3, 1}).ok());  // back to 1
  ExpectNeedsReset(RunPublished(0, {}), QueueFault::kChainTooLong);
}

TEST_F(BlkTest, NestedIndirectTables) {
  Header(kHeader, blk::kTypeIn, 0);
  ASSERT_TRUE(rig->ram.memory()
                  .WriteObj(kTable, VirtqDesc{kHeader.value(), 16, virtio::kDescFlagNext, 1})
                  .ok());
  ASSERT_TRUE(rig->ram.memory()
                  .WriteObj(GuestPhysAddr(kTable.value() + 16),
                            VirtqDesc{kTable.value(), 32, virtio::kDescFlagIndirect, 0})
                  .ok());
  ASSERT_TRUE(rig->queue->WriteDesc(0, {kTable.value(), 32, virtio::kDescFlagIndirect, 0}).ok());
  ExpectNeedsReset(RunPublished(0, {}), QueueFault::kNestedIndirect);
}

TEST_F(BlkTest, AvailIndexJumpsAheadOfTheRing) {
  ASSERT_TRUE(rig->queue->SetAvailIdx(rig->queue_size + 1).ok());
  const std::vector<std::byte> before = rig->ram.Snapshot();
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  EXPECT_TRUE(rig->ram.Changes(before, rig->ram.Snapshot()).empty());
  EXPECT_EQ(rig->transport->needs_reset_reason(), QueueFault::kAvailIdxJump);
  EXPECT_NE(rig->transport->interrupt_status() & mmio::kInterruptConfigChange, 0u);
}

TEST_F(BlkTest, RequestsBeforeABrokenOneAreCompletedAndSignalled) {
  const std::vector<std::byte> data = Pattern(512, 7);
  rig->ram.Write(Data(0), data);
  ASSERT_TRUE(rig->driver->Submit(blk::kTypeOut, 3, Data(0), 512).ok());
  ASSERT_TRUE(rig->driver->Submit(blk::kTypeIn, 3, Data(4096), 512).ok());
  ASSERT_TRUE(rig->queue->Publish(rig->queue_size + 3).ok());  // broken
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  EXPECT_EQ(rig->transport->needs_reset_reason(), QueueFault::kHeadOutOfRange);
  EXPECT_EQ(rig->transport->interrupt_status(),
            mmio::kInterruptUsedBuffer | mmio::kInterruptConfigChange);
  EXPECT_EQ(rig->driver->Complete()->status, blk::kStatusOk);
  EXPECT_EQ(rig->driver->Complete()->status, blk::kStatusOk);
  EXPECT_EQ(rig->ram.Read(Data(4096), 512), data);
  EXPECT_EQ(rig->driver->Complete().error(), Error::kTimedOut);
}

TEST_F(BlkTest, AResetDeviceWorksAgain) {
  ASSERT_TRUE(rig->queue->Publish(rig->queue_size).ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  ASSERT_NE(rig->transport->status() & virtio::kStatusDeviceNeedsReset, 0u);
  rig->Start();
  EXPECT_EQ(rig->transport->status() & virtio::kStatusDeviceNeedsReset, 0u);
  EXPECT_EQ(rig->driver->Read(0, Data(0), 512).value(), blk::kStatusOk);
}

class BlkNotStartedTest : public BlkTest {
 protected:
  BlkNotStartedTest() : BlkTest(BlkRigOptions{.start = false}) {}
};

TEST_F(BlkNotStartedTest, NotificationsBeforeTheQueueIsReadyAreIgnored) {
  ASSERT_TRUE(rig->mmio->Initialize(virtio::kDeviceIdBlock, 0).ok());
  driver::DriverQueue q = driver::DriverQueue::Create(rig->ram.memory(), rig->layout()).value();
  driver::VirtioBlkDriver d(*rig->mmio, q, GuestPhysAddr(testing::kScratchBase));
  ASSERT_TRUE(d.Submit(blk::kTypeIn, 0, Data(0), 512).ok());
  const std::vector<std::byte> before = rig->ram.Snapshot();
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  ASSERT_TRUE(rig->mmio->EnableQueue(0, rig->layout()).ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());  // ready, but no DRIVER_OK yet
  EXPECT_TRUE(rig->ram.Changes(before, rig->ram.Snapshot()).empty());
  EXPECT_EQ(rig->transport->ignored_notifications(), 2u);
  EXPECT_EQ(rig->transport->status() & virtio::kStatusDeviceNeedsReset, 0u);
  ASSERT_TRUE(rig->mmio->SetDriverOk().ok());
  ASSERT_TRUE(rig->mmio->Notify(0).ok());
  EXPECT_EQ(d.Complete()->status, blk::kStatusOk);
}

TEST_F(BlkNotStartedTest, QueueSizeNotAPowerOfTwo) {
  ASSERT_TRUE(rig->mmio->Initialize(virtio::kDeviceIdBlock, 0).ok());
  SplitQueue::Layout l = rig->layout();
  l.size = 12;
  const std::vector<std::byte> before = rig->ram.Snapshot();
  ASSERT_TRUE(rig->mmio->EnableQueue(0, l).ok());
  EXPECT_EQ(rig->mmio->ReadReg(mmio::kQueueReady).value(), 0u);
  EXPECT_EQ(rig->transport->needs_reset_reason(), QueueFault::kBadQueueSize);
  EXPECT_TRUE(rig->ram.Changes(before, rig->ram.Snapshot()).empty());
}

// A backend that fails on request.
class FailingBackend final : public BlockBackend {
 public:
  explicit FailingBackend(BlockBackend& inner) : inner_(inner) {}
  uint64_t sector_count() const override { return inner_.sector_count(); }
  bool read_only() const override { return false; }
  Result<void> Read(uint64_t sector, std::span<std::byte> out) override {
    if (sector >= fail_from) return Error::kIoError;
    return inner_.Read(sector, out);
  }
  Result<void> Write(uint64_t sector, std::span<const std::byte> data) override {
    if (sector >= fail_from) return Error::kIoError;
    return inner_.Write(sector, data);
  }
  Result<void> Flush() override { return fail_flush ? Result<void>(Error::kIoError) : Ok(); }
  uint64_t fail_from = ~uint64_t{0};
  bool fail_flush = false;

 private:
  BlockBackend& inner_;
};

TEST(BlkBackendErrors, BecomeIoErrorsWithExactUsedLengths) {
  testing::GuestRam ram;
  std::vector<std::byte> image(64 * 512);
  MemoryBlockBackend memory = MemoryBlockBackend::Create(image).value();
  FailingBackend backend(memory);
  VirtioBlk blk_device(backend, "x");
  testing::IrqRecorder irq;
  VirtioMmioTransport transport(ram.memory(), blk_device, IrqLine(&irq, 1));
  driver::VirtioMmioDriver mmio_driver(transport);
  ASSERT_TRUE(
      mmio_driver.Initialize(virtio::kDeviceIdBlock, virtio::FeatureBit(blk::kFeatureFlush)).ok());
  const SplitQueue::Layout layout = driver::LayoutRings(GuestPhysAddr(kRamBase), 8);
  driver::DriverQueue q = driver::DriverQueue::Create(ram.memory(), layout).value();
  ASSERT_TRUE(mmio_driver.EnableQueue(0, layout).ok());
  ASSERT_TRUE(mmio_driver.SetDriverOk().ok());
  driver::VirtioBlkDriver d(mmio_driver, q, GuestPhysAddr(testing::kScratchBase));

  // A 16 KiB read failing at its third 4 KiB chunk: 8 KiB arrived.
  backend.fail_from = 16;
  ASSERT_TRUE(d.Submit(blk::kTypeIn, 0, Data(0), 16384).ok());
  ASSERT_TRUE(mmio_driver.Notify(0).ok());
  const auto in = d.Complete().value();
  EXPECT_EQ(in.status, blk::kStatusIoErr);
  EXPECT_EQ(in.len, 8192u + 1);
  EXPECT_EQ(d.Write(16, Data(0), 512).value(), blk::kStatusIoErr);
  backend.fail_flush = true;
  EXPECT_EQ(d.Flush().value(), blk::kStatusIoErr);
  EXPECT_EQ(blk_device.stats().ioerr, 3u);
}

// A data buffer whose second page disappears at host level (the memfd
// behind guest RAM is truncated): the device reports IOERR with exactly the
// bytes that arrived, and survives.
TEST(BlkHostFaults, TruncatedGuestMemoryMidTransfer) {
  const int memfd = memfd_create("virtio_blk_test", 0);
  ASSERT_GE(memfd, 0);
  ASSERT_EQ(ftruncate(memfd, kRamSize + testing::kRam2Size), 0);
  {
    std::unique_ptr<BlkRig> rig = BlkRig::Create(BlkRigOptions{.memfd = memfd});
    const GuestPhysAddr data(kRamBase + kRamSize - 8192);
    ASSERT_TRUE(rig->driver->Submit(blk::kTypeIn, 0, data, 8192).ok());
    // Cut off the last page of RAM (and RAM2 behind it in the file).
    ASSERT_EQ(ftruncate(memfd, kRamSize - 4096), 0);
    ASSERT_TRUE(rig->mmio->Notify(0).ok());
    const auto done = rig->driver->Complete().value();
    EXPECT_EQ(done.status, blk::kStatusIoErr);
    EXPECT_EQ(done.len, 4096u + 1);
    EXPECT_EQ(rig->transport->status() & virtio::kStatusDeviceNeedsReset, 0u);
    EXPECT_EQ(rig->ram.Read(data, 4096),
              std::vector<std::byte>(rig->disk.begin(), rig->disk.begin() + 4096));
  }
  close(memfd);
}

TEST(MemoryBlockBackend, ChecksItsArguments) {
  std::vector<std::byte> image(4 * 512);
  EXPECT_EQ(MemoryBlockBackend::Create(std::span<std::byte>(image.data(), 100)).error(),
            Error::kInvalidArgs);
  EXPECT_EQ(MemoryBlockBackend::Create({}).error(), Error::kInvalidArgs);
  MemoryBlockBackend disk = MemoryBlockBackend::Create(image).value();
  std::vector<std::byte> buf(1024);
  EXPECT_TRUE(disk.Read(2, buf).ok());
  EXPECT_EQ(disk.Read(3, buf).error(), Error::kOutOfRange);
  EXPECT_EQ(disk.Read(~uint64_t{0}, buf).error(), Error::kOutOfRange);
  EXPECT_EQ(disk.Write(0, std::span<const std::byte>(buf.data(), 100)).error(), Error::kOutOfRange);
  MemoryBlockBackend ro = MemoryBlockBackend::Create(image, true).value();
  EXPECT_EQ(ro.Write(0, buf).error(), Error::kAccessDenied);
}

}  // namespace
}  // namespace hv::devices
