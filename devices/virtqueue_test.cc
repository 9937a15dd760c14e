// SplitQueue against rings built in real guest memory (hosted, with a hole):
// the chain walk and every way a guest can break it, the byte cursors,
// interrupt suppression, avail_event and 16-bit index wraparound.
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtqueue.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "devices/testing/virtio_rig.h"

namespace hv::devices {
namespace {

using driver::Buffer;
using driver::DriverQueue;
using testing::GuestRam;
using testing::kDataBase;
using testing::kHoleBase;
using testing::kRamBase;
using testing::kRamSize;
using virtio::VirtqDesc;

constexpr uint16_t R = 0;
constexpr uint16_t W = virtio::kDescFlagWrite;
constexpr uint16_t N = virtio::kDescFlagNext;
constexpr uint16_t I = virtio::kDescFlagIndirect;

GuestPhysAddr Data(uint64_t offset) { return GuestPhysAddr(kDataBase + offset); }

struct QueueOptions {
  uint16_t size = 8;
  bool indirect = true;
  bool event_idx = false;
  int memfd = -1;
};

// Rings at the start of RAM, the driver's view and the device's.
class QueueEnv {
 public:
  explicit QueueEnv(QueueOptions o = {})
      : ram(o.memfd),
        layout(driver::LayoutRings(GuestPhysAddr(kRamBase), o.size)),
        driver(DriverQueue::Create(ram.memory(), layout).value()) {
    const Result<void, QueueFault> activated =
        queue.Activate(ram.memory(), layout, SplitQueue::kMaxSize, o.indirect, o.event_idx);
    EXPECT_TRUE(activated.ok());
  }

  // The used ring: the only place the queue itself writes.
  AddrRange<GuestPhysAddr> used_ring() const {
    return *AddrRange<GuestPhysAddr>::Create(layout.used, virtio::UsedRingBytes(layout.size, true));
  }

  GuestRam ram;
  SplitQueue::Layout layout;
  DriverQueue driver;
  SplitQueue queue;
  DescChain chain;
};

// Pops one chain expecting `fault`, and checks that the fault sticks, and
// that nothing at all was written to guest memory.
void ExpectFault(QueueEnv& env, QueueFault fault) {
  const std::vector<std::byte> before = env.ram.Snapshot();
  Result<bool, QueueFault> popped = env.queue.Pop(env.chain);
  ASSERT_FALSE(popped.ok());
  EXPECT_EQ(popped.error(), fault) << QueueFaultName(popped.error());
  EXPECT_EQ(env.queue.fault(), fault);
  Result<bool, QueueFault> again = env.queue.Pop(env.chain);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), fault);
  EXPECT_FALSE(env.queue.Push(0, 0).ok());
  EXPECT_TRUE(env.ram.Changes(before, env.ram.Snapshot()).empty());
}

TEST(SplitQueue, PopsAChainAsTheDriverBuiltIt) {
  QueueEnv env;
  const Buffer chain[] = {
      {Data(0), 10, false}, {Data(100), 20, false}, {Data(200), 30, true}, {Data(300), 0, true}};
  const uint16_t head = env.driver.Submit(chain).value();
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  EXPECT_EQ(env.chain.head(), head);
  ASSERT_EQ(env.chain.segments().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(env.chain.segments()[i].addr, chain[i].addr);
    EXPECT_EQ(env.chain.segments()[i].len, chain[i].len);
    EXPECT_EQ(env.chain.segments()[i].device_writable, chain[i].device_writable);
  }
  EXPECT_EQ(env.chain.readable_bytes(), 30u);
  EXPECT_EQ(env.chain.writable_bytes(), 30u);
  EXPECT_FALSE(env.chain.misordered());
  EXPECT_FALSE(env.queue.Pop(env.chain).value());
}

TEST(SplitQueue, PushPublishesTheElementAndTheIndex) {
  QueueEnv env;
  const Buffer b[] = {{Data(0), 8, true}};
  const uint16_t head = env.driver.Submit(b).value();
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  const std::vector<std::byte> before = env.ram.Snapshot();
  ASSERT_TRUE(env.queue.Push(head, 77).ok());
  EXPECT_EQ(env.driver.ReadUsedIdx().value(), 1);
  const virtio::VirtqUsedElem elem = env.driver.ReadUsedSlot(0).value();
  EXPECT_EQ(elem.id, head);
  EXPECT_EQ(elem.len, 77u);
  const AddrRange<GuestPhysAddr> allowed[] = {env.used_ring()};
  EXPECT_TRUE(env.ram.ChangesOutside(before, env.ram.Snapshot(), allowed).empty());
}

TEST(SplitQueue, AnEmptyRingWritesNothingWithoutEventIdx) {
  QueueEnv env;
  const std::vector<std::byte> before = env.ram.Snapshot();
  EXPECT_FALSE(env.queue.Pop(env.chain).value());
  EXPECT_TRUE(env.ram.Changes(before, env.ram.Snapshot()).empty());
}

TEST(SplitQueue, EventIdxPublishesAvailEventWhenTheRingRunsDry) {
  QueueEnv env({.event_idx = true});
  const Buffer b[] = {{Data(0), 8, true}};
  ASSERT_TRUE(env.driver.Submit(b).ok());
  ASSERT_TRUE(env.driver.Submit(b).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  EXPECT_FALSE(env.queue.Pop(env.chain).value());
  // "Notify me when you make entry 2 available."
  EXPECT_EQ(env.driver.ReadAvailEvent().value(), 2);
}

TEST(SplitQueue, EventIdxSeesAnEntryAddedWhenTheRingWasSeenEmpty) {
  QueueEnv env({.event_idx = true});
  EXPECT_FALSE(env.queue.Pop(env.chain).value());
  const Buffer b[] = {{Data(0), 8, true}};
  ASSERT_TRUE(env.driver.Submit(b).ok());
  EXPECT_TRUE(env.queue.HasAvailable().value());
  EXPECT_TRUE(env.queue.Pop(env.chain).value());
}

TEST(SplitQueue, IndirectTablesAreFollowedOneLevel) {
  QueueEnv env;
  const Buffer chain[] = {{Data(0), 16, false}, {Data(64), 512, true}, {Data(1024), 1, true}};
  const uint16_t head = env.driver.SubmitIndirect(chain, Data(4096)).value();
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  EXPECT_EQ(env.chain.head(), head);
  ASSERT_EQ(env.chain.segments().size(), 3u);
  EXPECT_EQ(env.chain.segments()[1].addr, Data(64));
  EXPECT_EQ(env.chain.readable_bytes(), 16u);
  EXPECT_EQ(env.chain.writable_bytes(), 513u);
}

TEST(SplitQueue, DirectDescriptorsMayPrecedeAnIndirectOne) {
  QueueEnv env;
  ASSERT_TRUE(env.ram.memory().WriteObj(Data(4096), VirtqDesc{Data(64).value(), 32, W, 0}).ok());
  // WRITE on the descriptor of the table itself means nothing (2.7.5.3.2).
  ASSERT_TRUE(env.driver.WriteDesc(0, {Data(0).value(), 16, R | N, 5}).ok());
  ASSERT_TRUE(env.driver.WriteDesc(5, {Data(4096).value(), 16, I | W, 0}).ok());
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  ASSERT_EQ(env.chain.segments().size(), 2u);
  EXPECT_FALSE(env.chain.segments()[0].device_writable);
  EXPECT_TRUE(env.chain.segments()[1].device_writable);
  EXPECT_EQ(env.chain.writable_bytes(), 32u);
}

TEST(SplitQueue, ReadableAfterWritableIsReportedAsMisordered) {
  QueueEnv env;
  const Buffer chain[] = {{Data(0), 16, false}, {Data(64), 1, true}, {Data(128), 16, false}};
  ASSERT_TRUE(env.driver.Submit(chain).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  EXPECT_TRUE(env.chain.misordered());
  EXPECT_TRUE(env.chain.has_device_readable());
  EXPECT_TRUE(env.chain.has_device_writable());
}

TEST(SplitQueue, AFullRingIsFineButOneMoreIsAJump) {
  QueueEnv env({.size = 4});
  const Buffer b[] = {{Data(0), 8, true}};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(env.driver.Submit(b).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(env.queue.Pop(env.chain).value());
  // The driver claims 5 new entries in a ring of 4.
  ASSERT_TRUE(env.driver.SetAvailIdx(4 + 5).ok());
  ExpectFault(env, QueueFault::kAvailIdxJump);
}

TEST(SplitQueue, HeadOutOfRange) {
  QueueEnv env;
  ASSERT_TRUE(env.driver.Publish(8).ok());
  ExpectFault(env, QueueFault::kHeadOutOfRange);
}

TEST(SplitQueue, NextOutOfRange) {
  QueueEnv env;
  ASSERT_TRUE(env.driver.WriteDesc(0, {Data(0).value(), 16, N, 8}).ok());
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ExpectFault(env, QueueFault::kNextOutOfRange);
}

TEST(SplitQueue, ALoopEndsAsChainTooLong) {
  QueueEnv env;
  ASSERT_TRUE(env.driver.WriteDesc(0, {Data(0).value(), 16, N, 1}).ok());
  ASSERT_TRUE(env.driver.WriteDesc(1, {Data(16).value(), 16, N, 2}).ok());
  ASSERT_TRUE(env.driver.WriteDesc(2, {Data(32).value(), 16, N, 0}).ok());
  ASSERT_TRUE(env.driver.Publish(1).ok());
  ExpectFault(env, QueueFault::kChainTooLong);
}

TEST(SplitQueue, ASelfLoopEndsAsChainTooLong) {
  QueueEnv env;
  ASSERT_TRUE(env.driver.WriteDesc(3, {Data(0).value(), 16, N | W, 3}).ok());
  ASSERT_TRUE(env.driver.Publish(3).ok());
  ExpectFault(env, QueueFault::kChainTooLong);
}

TEST(SplitQueue, AChainOfExactlyQueueSizeIsFine) {
  QueueEnv env({.size = 4});
  for (uint16_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(env.driver
                    .WriteDesc(i, {Data(16 * i).value(), 16, static_cast<uint16_t>(i < 3 ? N : 0),
                                   static_cast<uint16_t>(i + 1)})
                    .ok());
  }
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  EXPECT_EQ(env.chain.segments().size(), 4u);
}

TEST(SplitQueue, AnIndirectTableLongerThanTheQueueIsTooLong) {
  QueueEnv env({.size = 4});
  // Five linked entries in the table of a queue of four.
  for (uint16_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(env.ram.memory()
                    .WriteObj(Data(4096 + 16 * i), VirtqDesc{Data(16 * i).value(), 16,
                                                             static_cast<uint16_t>(i < 4 ? N : 0),
                                                             static_cast<uint16_t>(i + 1)})
                    .ok());
  }
  ASSERT_TRUE(env.driver.WriteDesc(0, {Data(4096).value(), 5 * 16, I, 0}).ok());
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ExpectFault(env, QueueFault::kChainTooLong);
}

TEST(SplitQueue, ALoopInsideAnIndirectTableIsTooLong) {
  QueueEnv env;
  ASSERT_TRUE(env.ram.memory().WriteObj(Data(4096), VirtqDesc{Data(0).value(), 16, N, 1}).ok());
  ASSERT_TRUE(env.ram.memory().WriteObj(Data(4112), VirtqDesc{Data(16).value(), 16, N, 0}).ok());
  ASSERT_TRUE(env.driver.WriteDesc(0, {Data(4096).value(), 32, I, 0}).ok());
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ExpectFault(env, QueueFault::kChainTooLong);
}

TEST(SplitQueue, NextOutsideTheIndirectTable) {
  QueueEnv env;
  // The table has two entries; `next` = 2 is past it (though < queue size).
  ASSERT_TRUE(env.ram.memory().WriteObj(Data(4096), VirtqDesc{Data(0).value(), 16, N, 2}).ok());
  ASSERT_TRUE(env.driver.WriteDesc(0, {Data(4096).value(), 32, I, 0}).ok());
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ExpectFault(env, QueueFault::kNextOutOfRange);
}

TEST(SplitQueue, NestedIndirect) {
  QueueEnv env;
  ASSERT_TRUE(env.ram.memory().WriteObj(Data(4096), VirtqDesc{Data(8192).value(), 16, I, 0}).ok());
  ASSERT_TRUE(env.driver.WriteDesc(0, {Data(4096).value(), 16, I, 0}).ok());
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ExpectFault(env, QueueFault::kNestedIndirect);
}

TEST(SplitQueue, IndirectWithoutTheFeature) {
  QueueEnv env({.indirect = false});
  const Buffer chain[] = {{Data(0), 16, false}};
  ASSERT_TRUE(env.driver.SubmitIndirect(chain, Data(4096)).ok());
  ExpectFault(env, QueueFault::kIndirectNotNegotiated);
}

TEST(SplitQueue, IndirectWithNext) {
  QueueEnv env;
  ASSERT_TRUE(env.ram.memory().WriteObj(Data(4096), VirtqDesc{Data(0).value(), 16, R, 0}).ok());
  ASSERT_TRUE(env.driver.WriteDesc(0, {Data(4096).value(), 16, I | N, 1}).ok());
  ASSERT_TRUE(env.driver.WriteDesc(1, {Data(64).value(), 1, W, 0}).ok());
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ExpectFault(env, QueueFault::kIndirectWithNext);
}

class BadIndirectTable : public ::testing::TestWithParam<std::pair<uint64_t, uint32_t>> {};

TEST_P(BadIndirectTable, StopsTheQueue) {
  QueueEnv env;
  const auto [addr, len] = GetParam();
  ASSERT_TRUE(env.driver.WriteDesc(0, {addr, len, I, 0}).ok());
  ASSERT_TRUE(env.driver.Publish(0).ok());
  ExpectFault(env, QueueFault::kBadIndirectTable);
}

INSTANTIATE_TEST_SUITE_P(
    SplitQueue, BadIndirectTable,
    ::testing::Values(std::pair<uint64_t, uint32_t>{kDataBase, 0},                  // empty
                      std::pair<uint64_t, uint32_t>{kDataBase, 24},                 // not 16n
                      std::pair<uint64_t, uint32_t>{kHoleBase, 32},                 // in the hole
                      std::pair<uint64_t, uint32_t>{kRamBase + kRamSize - 16, 32},  // runs off RAM
                      std::pair<uint64_t, uint32_t>{~uint64_t{0} - 15, 32}));       // wraps

TEST(SplitQueue, ActivationChecksSizeAlignmentAndPlacement) {
  GuestRam ram;
  SplitQueue queue;
  const auto activate = [&](SplitQueue::Layout l, uint16_t max = 256) {
    return queue.Activate(ram.memory(), l, max, true, true);
  };
  const SplitQueue::Layout good = driver::LayoutRings(GuestPhysAddr(kRamBase), 8);
  EXPECT_TRUE(activate(good).ok());
  for (uint16_t size : {0, 3, 6, 12}) {
    SplitQueue::Layout l = good;
    l.size = size;
    EXPECT_EQ(activate(l).error(), QueueFault::kBadQueueSize) << size;
  }
  EXPECT_EQ(activate(good, 4).error(), QueueFault::kBadQueueSize);
  SplitQueue::Layout big = driver::LayoutRings(GuestPhysAddr(kRamBase), 256);
  big.size = 512;
  EXPECT_EQ(activate(big, 512).error(), QueueFault::kBadQueueSize);

  SplitQueue::Layout l = good;
  l.desc = GuestPhysAddr(kRamBase + 8);
  EXPECT_EQ(activate(l).error(), QueueFault::kMisalignedRing);
  l = good;
  l.avail = GuestPhysAddr(good.avail.value() + 1);
  EXPECT_EQ(activate(l).error(), QueueFault::kMisalignedRing);
  l = good;
  l.used = GuestPhysAddr(good.used.value() + 2);
  EXPECT_EQ(activate(l).error(), QueueFault::kMisalignedRing);

  l = good;
  l.desc = GuestPhysAddr(kHoleBase);
  EXPECT_EQ(activate(l).error(), QueueFault::kRingOutsideRam);
  l = good;
  l.used = GuestPhysAddr(kRamBase + kRamSize - 8);  // runs off the end
  EXPECT_EQ(activate(l).error(), QueueFault::kRingOutsideRam);
  l = good;
  l.avail = GuestPhysAddr(~uint64_t{0} - 7);  // wraps
  EXPECT_EQ(activate(l).error(), QueueFault::kRingOutsideRam);
  EXPECT_FALSE(queue.active());
}

TEST(ChainCursors, WriterTouchesOnlyWritableBytesAndReaderOnlyReadable) {
  QueueEnv env;
  env.ram.Fill(Data(0), 4096, std::byte{0x11});
  const Buffer chain[] = {{Data(0), 8, false}, {Data(100), 4, true}, {Data(200), 4, true}};
  ASSERT_TRUE(env.driver.Submit(chain).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());

  const std::vector<std::byte> before = env.ram.Snapshot();
  std::vector<std::byte> in(100, std::byte{0xee});
  ChainWriter writer(env.ram.memory(), env.chain);
  EXPECT_EQ(writer.remain(), 8u);
  EXPECT_EQ(writer.Write(in).value(), 8u);  // never past the writable bytes
  EXPECT_EQ(writer.remain(), 0u);
  EXPECT_EQ(writer.Write(in).value(), 0u);
  const AddrRange<GuestPhysAddr> allowed[] = {*AddrRange<GuestPhysAddr>::Create(Data(100), 4),
                                              *AddrRange<GuestPhysAddr>::Create(Data(200), 4)};
  const std::vector<std::byte> after = env.ram.Snapshot();
  EXPECT_TRUE(env.ram.ChangesOutside(before, after, allowed).empty())
      << testing::Describe(env.ram.ChangesOutside(before, after, allowed));
  EXPECT_EQ(env.ram.Changes(before, after).size(), 2u);

  std::vector<std::byte> out(100);
  ChainReader reader(env.ram.memory(), env.chain);
  EXPECT_EQ(reader.Read(out).value(), 8u);
  EXPECT_EQ(out[7], std::byte{0x11});
}

TEST(ChainCursors, WindowsAcrossSegments) {
  QueueEnv env;
  const Buffer chain[] = {
      {Data(0), 3, false}, {Data(100), 3, false}, {Data(200), 3, true}, {Data(300), 3, true}};
  ASSERT_TRUE(env.driver.Submit(chain).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  const std::byte x{0x5a};
  ChainWriter writer(env.ram.memory(), env.chain, 4, 1);  // the 5th writable byte
  EXPECT_EQ(writer.remain(), 1u);
  EXPECT_EQ(writer.Write(std::span<const std::byte>(&x, 1)).value(), 1u);
  EXPECT_EQ(env.ram.Read(Data(301), 1)[0], x);

  env.ram.Write(Data(0), std::vector<std::byte>{std::byte{1}, std::byte{2}, std::byte{3}});
  env.ram.Write(Data(100), std::vector<std::byte>{std::byte{4}, std::byte{5}, std::byte{6}});
  ChainReader reader(env.ram.memory(), env.chain, 2, 3);
  std::vector<std::byte> out(8);
  EXPECT_EQ(reader.Read(out).value(), 3u);
  EXPECT_EQ(out[0], std::byte{3});
  EXPECT_EQ(out[2], std::byte{5});
  EXPECT_EQ(ChainReader(env.ram.memory(), env.chain, 6).remain(), 0u);
  EXPECT_EQ(ChainReader(env.ram.memory(), env.chain, 100).remain(), 0u);
}

TEST(DescChain, WritableByteAddrCountsOnlyWritableBytes) {
  QueueEnv env;
  const Buffer chain[] = {{Data(0), 8, false},
                          {Data(100), 4, true},
                          {Data(200), 0, true},
                          {GuestPhysAddr(~uint64_t{0} - 1), 4, true}};
  ASSERT_TRUE(env.driver.Submit(chain).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  EXPECT_EQ(env.chain.WritableByteAddr(0), Data(100));
  EXPECT_EQ(env.chain.WritableByteAddr(3), Data(103));
  EXPECT_EQ(env.chain.WritableByteAddr(5), GuestPhysAddr(~uint64_t{0}));
  EXPECT_EQ(env.chain.WritableByteAddr(6), std::nullopt);  // wraps
  EXPECT_EQ(env.chain.WritableByteAddr(8), std::nullopt);  // no such byte
}

TEST(ChainCursors, ReportExactProgressAtABufferOutsideRam) {
  QueueEnv env;
  const Buffer chain[] = {{Data(0), 4, true}, {GuestPhysAddr(kHoleBase), 4, true}};
  ASSERT_TRUE(env.driver.Submit(chain).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  EXPECT_FALSE(env.chain.BuffersInGuestRam(env.ram.memory()));
  std::vector<std::byte> in(8, std::byte{1});
  ChainWriter writer(env.ram.memory(), env.chain);
  mm::CopyResult r = writer.Write(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::kOutOfRange);
  EXPECT_EQ(r.error().done, 4u);
  EXPECT_EQ(writer.remain(), 4u);
}

TEST(SplitQueue, InterruptsWithoutEventIdxFollowNoInterrupt) {
  QueueEnv env;
  const Buffer b[] = {{Data(0), 8, true}};
  EXPECT_FALSE(env.queue.ShouldInterrupt().value());  // nothing pushed
  const uint16_t head = env.driver.Submit(b).value();
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  ASSERT_TRUE(env.queue.Push(head, 0).ok());
  EXPECT_TRUE(env.queue.ShouldInterrupt().value());
  EXPECT_FALSE(env.queue.ShouldInterrupt().value());  // already signalled

  ASSERT_TRUE(env.driver.SetAvailFlags(virtio::kAvailFlagNoInterrupt).ok());
  ASSERT_TRUE(env.driver.Submit(b).ok());
  ASSERT_TRUE(env.queue.Pop(env.chain).value());
  ASSERT_TRUE(env.queue.Push(env.chain.head(), 0).ok());
  EXPECT_FALSE(env.queue.ShouldInterrupt().value());
}

TEST(SplitQueue, InterruptsWithEventIdxFollowUsedEvent) {
  QueueEnv env({.event_idx = true});
  const Buffer b[] = {{Data(0), 8, true}};
  const auto complete = [&](int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(env.driver.Submit(b).ok());
      ASSERT_TRUE(env.queue.Pop(env.chain).value());
      ASSERT_TRUE(env.queue.Push(env.chain.head(), 0).ok());
      ASSERT_TRUE(env.driver.PopUsed().ok());
    }
  };
  // used_event = 0: interrupt when used->idx passes 0.
  complete(1);
  EXPECT_TRUE(env.queue.ShouldInterrupt().value());
  complete(1);  // used 2, still asking for 0: no
  EXPECT_FALSE(env.queue.ShouldInterrupt().value());
  ASSERT_TRUE(env.driver.SetUsedEvent(5).ok());
  complete(3);  // used 5: not past 5 yet
  EXPECT_FALSE(env.queue.ShouldInterrupt().value());
  complete(1);  // used 6
  EXPECT_TRUE(env.queue.ShouldInterrupt().value());
  // A batch that crosses the event in its middle.
  ASSERT_TRUE(env.driver.SetUsedEvent(7).ok());
  complete(3);  // 7, 8, 9
  EXPECT_TRUE(env.queue.ShouldInterrupt().value());
  // NO_INTERRUPT means nothing with EVENT_IDX.
  ASSERT_TRUE(env.driver.SetAvailFlags(virtio::kAvailFlagNoInterrupt).ok());
  ASSERT_TRUE(env.driver.SetUsedEvent(9).ok());
  complete(1);
  EXPECT_TRUE(env.queue.ShouldInterrupt().value());
}

TEST(SplitQueue, IndicesWrapAt65536) {
  QueueEnv env({.size = 4, .event_idx = true});
  const Buffer b[] = {{Data(0), 8, true}};
  int interrupts = 0;
  for (uint32_t i = 0; i < 70000; ++i) {
    ASSERT_TRUE(env.driver.SetUsedEvent(static_cast<uint16_t>(i)).ok());
    const uint16_t head = env.driver.Submit(b).value();
    ASSERT_TRUE(env.queue.Pop(env.chain).value()) << i;
    ASSERT_EQ(env.chain.head(), head);
    ASSERT_TRUE(env.queue.Push(head, i).ok());
    interrupts += env.queue.ShouldInterrupt().value() ? 1 : 0;
    const std::optional<virtio::VirtqUsedElem> used = env.driver.PopUsed().value();
    ASSERT_TRUE(used.has_value());
    ASSERT_EQ(used->len, i);
  }
  EXPECT_FALSE(env.queue.Pop(env.chain).value());
  EXPECT_EQ(env.queue.last_avail_idx(), static_cast<uint16_t>(70000));
  EXPECT_EQ(env.queue.used_idx(), static_cast<uint16_t>(70000));
  EXPECT_EQ(env.driver.ReadAvailEvent().value(), static_cast<uint16_t>(70000));
  EXPECT_EQ(interrupts, 70000);  // each completion crossed the event set for it
}

TEST(SplitQueue, HostFaultsOnTheRingsStopTheQueue) {
  const int memfd = memfd_create("virtqueue_test", 0);
  ASSERT_GE(memfd, 0);
  ASSERT_EQ(ftruncate(memfd, kRamSize + testing::kRam2Size), 0);
  {
    QueueEnv env({.memfd = memfd});
    const Buffer b[] = {{Data(0), 8, true}};
    ASSERT_TRUE(env.driver.Submit(b).ok());
    // The file behind guest RAM shrinks: the rings now SIGBUS on access.
    ASSERT_EQ(ftruncate(memfd, 0), 0);
    Result<bool, QueueFault> popped = env.queue.Pop(env.chain);
    ASSERT_FALSE(popped.ok());
    EXPECT_EQ(popped.error(), QueueFault::kRingAccess);
  }
  close(memfd);
}

TEST(InGuestRam, HolesEndsAndWraps) {
  GuestRam ram;
  EXPECT_TRUE(InGuestRam(ram.memory(), GuestPhysAddr(kRamBase), kRamSize));
  EXPECT_FALSE(InGuestRam(ram.memory(), GuestPhysAddr(kRamBase), kRamSize + 1));
  EXPECT_FALSE(InGuestRam(ram.memory(), GuestPhysAddr(kHoleBase), 1));
  EXPECT_TRUE(InGuestRam(ram.memory(), GuestPhysAddr(kHoleBase), 0));
  EXPECT_FALSE(InGuestRam(ram.memory(), GuestPhysAddr(~uint64_t{0}), 2));
  EXPECT_FALSE(InGuestRam(ram.memory(), GuestPhysAddr(kRamBase - 1), 2));
}

}  // namespace
}  // namespace hv::devices
