// A hostile virtio driver: each test breaks a queue of its virtio-blk (or
// virtio-console) the way docs/devices.md says a guest may not, and checks
// the answer it must get: DEVICE_NEEDS_RESET with the configuration-change
// interrupt status and notifications ignored from then on (a descriptor
// loop, rings outside RAM, a status byte outside RAM, an avail index jump,
// a looping transmit chain), or IOERR for a data buffer outside RAM; and
// that after a reset the device works again. The hypervisor prints each
// reset with its reason and the test image checks it counted 4 (virtio-blk)
// and 1 (virtio-console), while another VM uses its own devices unharmed.
#include <devices/driver/direct_access.h>
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_mmio.h>
#include <ktest/ktest.h>

#include "testing/guests/riscv64/virtio_guest_support.h"

namespace {

namespace virtio = hv::devices::virtio;
namespace drv = hv::devices::driver;
using hv::Error;
using hv::GuestPhysAddr;
using hv::Result;
using hv::guests::Gpa;
using hv::guests::GuestRam;
using hv::guests::VirtioSlot;

constexpr uint16_t kQueueSize = 16;

alignas(4096) std::byte g_blk_rings[4096];
alignas(4096) std::byte g_blk_scratch[drv::VirtioBlkDriver::kSlotBytes * kQueueSize];
alignas(4096) std::byte g_data[4096];
alignas(4096) std::byte g_rx_rings[4096];
alignas(4096) std::byte g_tx_rings[4096];
alignas(64) std::byte g_tx_buffer[128];

std::optional<drv::MmioWindow> g_blk_regs;
std::optional<drv::VirtioMmioDriver> g_blk_mmio;
std::optional<drv::DriverQueue> g_blk_queue;
std::optional<drv::VirtioBlkDriver> g_blk;
std::optional<drv::MmioWindow> g_console_regs;
std::optional<drv::VirtioMmioDriver> g_console_mmio;
std::optional<drv::DriverQueue> g_tx;

// The first byte past guest RAM.
uint64_t RamEnd() {
  const hv::guests::VirtioMachine* m = hv::guests::ProbeVirtioMachine();
  return m == nullptr ? 0 : m->ram_base + m->ram_size;
}

// Resets the block device and brings it up as far as `stage` says.
enum class Stage { kFeatures, kLive };
Result<void> StartBlk(Stage stage = Stage::kLive) {
  const hv::guests::VirtioMachine* m = hv::guests::ProbeVirtioMachine();
  const VirtioSlot* slot = m == nullptr ? nullptr : m->Find(virtio::kDeviceIdBlock);
  if (slot == nullptr) return Error::kNotFound;
  g_blk_regs.emplace(slot->base, slot->size);
  g_blk_mmio.emplace(*g_blk_regs);
  HV_TRY(g_blk_mmio->Initialize(virtio::kDeviceIdBlock, 0));
  if (stage == Stage::kFeatures) return hv::Ok();
  const hv::devices::SplitQueue::Layout layout = drv::LayoutRings(Gpa(g_blk_rings), kQueueSize);
  g_blk_queue.emplace(HV_TRY(drv::DriverQueue::Create(GuestRam(), layout)));
  HV_TRY(g_blk_mmio->EnableQueue(0, layout));
  HV_TRY(g_blk_mmio->SetDriverOk());
  g_blk.emplace(*g_blk_mmio, *g_blk_queue, Gpa(g_blk_scratch));
  return hv::Ok();
}

Result<void> StartConsole() {
  const hv::guests::VirtioMachine* m = hv::guests::ProbeVirtioMachine();
  const VirtioSlot* slot = m == nullptr ? nullptr : m->Find(virtio::kDeviceIdConsole);
  if (slot == nullptr) return Error::kNotFound;
  g_console_regs.emplace(slot->base, slot->size);
  g_console_mmio.emplace(*g_console_regs);
  HV_TRY(g_console_mmio->Initialize(virtio::kDeviceIdConsole, 0));
  const hv::devices::SplitQueue::Layout rx = drv::LayoutRings(Gpa(g_rx_rings), kQueueSize);
  const hv::devices::SplitQueue::Layout tx = drv::LayoutRings(Gpa(g_tx_rings), kQueueSize);
  HV_TRY(drv::DriverQueue::Create(GuestRam(), rx));
  HV_TRY(g_console_mmio->EnableQueue(virtio::console::kReceiveQueue, rx));
  g_tx.emplace(HV_TRY(drv::DriverQueue::Create(GuestRam(), tx)));
  HV_TRY(g_console_mmio->EnableQueue(virtio::console::kTransmitQueue, tx));
  return g_console_mmio->SetDriverOk();
}

bool NeedsReset(drv::VirtioMmioDriver& mmio) {
  return (mmio.Status().value() & virtio::kStatusDeviceNeedsReset) != 0;
}

// The block device answers a well-formed read of sector 0 with OK.
void ExpectBlkWorks() {
  ASSERT_TRUE(g_blk.has_value());
  EXPECT_EQ(g_blk->Read(0, Gpa(g_data), 512).value_or(0xee), virtio::blk::kStatusOk);
  EXPECT_FALSE(NeedsReset(*g_blk_mmio));
}

// The block device needs a reset (and said so with the configuration-change
// interrupt); after one it works again.
void ExpectBlkNeedsResetThenRecovers() {
  EXPECT_TRUE(NeedsReset(*g_blk_mmio));
  EXPECT_NE(g_blk_mmio->TakeInterrupts().value() & virtio::mmio::kInterruptConfigChange, 0u);
  ASSERT_TRUE(StartBlk().ok());
  ExpectBlkWorks();
}

void WriteHeader(uint32_t type, uint64_t sector) {
  ASSERT_TRUE(
      GuestRam().WriteObj(Gpa(g_blk_scratch), virtio::blk::ReqHeader{type, 0, sector}).ok());
}

TEST(HostileBlk, ADescriptorLoopNeedsResetAndLaterNotificationsAreIgnored) {
  ASSERT_TRUE(StartBlk().ok());
  WriteHeader(virtio::blk::kTypeIn, 0);
  const uint64_t header = Gpa(g_blk_scratch).value();
  // 0 -> 1 -> 2 -> 1 -> 2 ...
  ASSERT_TRUE(g_blk_queue->WriteDesc(0, {header, 16, virtio::kDescFlagNext, 1}).ok());
  ASSERT_TRUE(g_blk_queue
                  ->WriteDesc(1, {Gpa(g_data).value(), 512,
                                  virtio::kDescFlagNext | virtio::kDescFlagWrite, 2})
                  .ok());
  ASSERT_TRUE(
      g_blk_queue->WriteDesc(2, {header + 16, 1, virtio::kDescFlagNext | virtio::kDescFlagWrite, 1})
          .ok());
  ASSERT_TRUE(g_blk_queue->Publish(0).ok());
  ASSERT_TRUE(g_blk_mmio->Notify(0).ok());
  EXPECT_TRUE(NeedsReset(*g_blk_mmio));
  EXPECT_EQ(g_blk_queue->ReadUsedIdx().value(), 0);
  // A good request now is not looked at.
  const drv::Buffer good[] = {{GuestPhysAddr(header + 512), 16, false},
                              {GuestPhysAddr(header + 528), 1, true}};
  ASSERT_TRUE(g_blk_queue->Submit(good).ok());
  ASSERT_TRUE(g_blk_mmio->Notify(0).ok());
  EXPECT_EQ(g_blk_queue->ReadUsedIdx().value(), 0);
  ExpectBlkNeedsResetThenRecovers();
}

TEST(HostileBlk, RingsOutsideRamNeedResetWhenTheQueueIsEnabled) {
  ASSERT_TRUE(StartBlk(Stage::kFeatures).ok());
  ASSERT_NE(RamEnd(), 0u);
  ASSERT_TRUE(
      g_blk_mmio->EnableQueue(0, drv::LayoutRings(GuestPhysAddr(RamEnd()), kQueueSize)).ok());
  ASSERT_TRUE(g_blk_mmio->WriteReg(virtio::mmio::kQueueSel, 0).ok());
  EXPECT_EQ(g_blk_mmio->ReadReg(virtio::mmio::kQueueReady).value(), 0u);
  ExpectBlkNeedsResetThenRecovers();
}

TEST(HostileBlk, AStatusByteOutsideRamNeedsReset) {
  ASSERT_TRUE(StartBlk().ok());
  WriteHeader(virtio::blk::kTypeIn, 0);
  const drv::Buffer chain[] = {{Gpa(g_blk_scratch), 16, false}, {GuestPhysAddr(RamEnd()), 1, true}};
  ASSERT_TRUE(g_blk_queue->Submit(chain).ok());
  ASSERT_TRUE(g_blk_mmio->Notify(0).ok());
  EXPECT_EQ(g_blk_queue->ReadUsedIdx().value(), 0);  // nowhere to answer
  ExpectBlkNeedsResetThenRecovers();
}

TEST(HostileBlk, AnAvailIndexRunningAheadNeedsReset) {
  ASSERT_TRUE(StartBlk().ok());
  ASSERT_TRUE(g_blk_queue->SetAvailIdx(kQueueSize + 1).ok());
  ASSERT_TRUE(g_blk_mmio->Notify(0).ok());
  ExpectBlkNeedsResetThenRecovers();
}

TEST(HostileBlk, ADataBufferOutsideRamIsAnIoErrorAndTheDeviceCarriesOn) {
  ASSERT_TRUE(StartBlk().ok());
  // 512 bytes from 256 bytes before the end of RAM.
  EXPECT_EQ(g_blk->Read(0, GuestPhysAddr(RamEnd() - 256), 512).value_or(0xee),
            virtio::blk::kStatusIoErr);
  EXPECT_FALSE(NeedsReset(*g_blk_mmio));
  ExpectBlkWorks();
}

TEST(HostileConsole, ALoopingTransmitChainNeedsResetThenTheConsoleWorksAgain) {
  ASSERT_TRUE(StartConsole().ok());
  ASSERT_TRUE(g_tx->WriteDesc(0, {Gpa(g_tx_buffer).value(), 4, virtio::kDescFlagNext, 0}).ok());
  ASSERT_TRUE(g_tx->Publish(0).ok());
  ASSERT_TRUE(g_console_mmio->Notify(virtio::console::kTransmitQueue).ok());
  EXPECT_TRUE(NeedsReset(*g_console_mmio));
  EXPECT_NE(g_console_mmio->TakeInterrupts().value() & virtio::mmio::kInterruptConfigChange, 0u);

  ASSERT_TRUE(StartConsole().ok());
  constexpr std::string_view kLine = "via virtio-console: working again after the reset\n";
  for (size_t i = 0; i < kLine.size(); ++i) g_tx_buffer[i] = static_cast<std::byte>(kLine[i]);
  const drv::Buffer line{Gpa(g_tx_buffer), static_cast<uint32_t>(kLine.size()), false};
  ASSERT_TRUE(g_tx->Submit(std::span(&line, 1)).ok());
  ASSERT_TRUE(g_console_mmio->Notify(virtio::console::kTransmitQueue).ok());
  const std::optional<virtio::VirtqUsedElem> used = g_tx->PopUsed().value();
  EXPECT_TRUE(used.has_value());
  EXPECT_FALSE(NeedsReset(*g_console_mmio));
}

}  // namespace
