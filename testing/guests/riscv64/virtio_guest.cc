// A bare-metal guest with a small virtio driver (//devices/driver on its own
// registers and RAM): finds the virtio-mmio devices in its device tree,
// drives the virtio-console (output the hypervisor prints as "[vm] ...",
// input it was given) and the virtio-blk (capacity, id, flush, bad
// requests; a pattern written on several runs of sectors and read back),
// and takes the completion interrupts through the PLIC: on hart 0 with a
// trap handler that claims and completes them, and on hart 1 as the
// wake-up of a WFI. What it writes and prints is in virtio_guest_spec.h;
// the test image checks the disk and the console counts after the run.
//
// Runs on two harts (virt_guest_smp2.dts): hart 1 only for the WFI test
// (virtio_waiter.S). The MMU stays off, so guest-physical addresses are the
// guest's pointers.
#include <arch/riscv64/csr.h>
#include <arch/riscv64/sbi.h>
#include <arch/riscv64/trap.h>
#include <board/config.h>
#include <devices/driver/direct_access.h>
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_mmio.h>
#include <hv/base/format.h>
#include <ktest/ktest.h>

#include "testing/guests/riscv64/virtio_guest_spec.h"
#include "testing/guests/riscv64/virtio_guest_support.h"

extern "C" {
void virtio_guest_waiter_entry();
// Written by hart 1 (virtio_waiter.S).
volatile uint64_t virtio_guest_waiter[4];
}

namespace {

namespace rv = hv::arch::riscv64;
namespace sbi = hv::arch::riscv64::sbi;
namespace virtio = hv::devices::virtio;
namespace drv = hv::devices::driver;
namespace spec = hv::guests::virtio_spec;
using hv::Error;
using hv::GuestPhysAddr;
using hv::Result;
using hv::guests::Gpa;
using hv::guests::GuestPlic;
using hv::guests::GuestRam;
using hv::guests::VirtioMachine;
using hv::guests::VirtioSlot;

constexpr uint64_t kSeiInterrupt = rv::kScauseInterrupt | 9;
constexpr uint64_t kStiInterrupt = rv::kScauseInterrupt | 5;
constexpr uint64_t kSieSeie = 1 << 9;
constexpr uint64_t kSieStie = 1 << 5;
constexpr uint64_t kTicksPerMs = 10'000;  // timebase 10 MHz
constexpr uint16_t kQueueSize = 16;

constexpr uint32_t kHart0Context = GuestPlic::kHart0Context;
constexpr uint32_t kHart1Context = GuestPlic::kHart1Context;

// Guest memory the driver uses: rings, request scratch, data buffers.
alignas(4096) std::byte g_blk_rings[4096];
alignas(4096) std::byte g_blk_scratch[drv::VirtioBlkDriver::kSlotBytes * kQueueSize];
alignas(4096) std::byte g_data[16 * spec::kSectorSize];
alignas(4096) std::byte g_readback[16 * spec::kSectorSize];
alignas(4096) std::byte g_rx_rings[4096];
alignas(4096) std::byte g_tx_rings[4096];
alignas(64) std::byte g_tx_buffer[256];
alignas(64) std::byte g_rx_buffer[256];

uint64_t Now() { return HV_CSR_READ(time); }

// The machine and its two devices, once probed.
const VirtioMachine* g_machine = nullptr;
const VirtioSlot* g_blk_slot = nullptr;
const VirtioSlot* g_console_slot = nullptr;

const VirtioMachine* FindMachine() {
  if (g_machine == nullptr) {
    g_machine = hv::guests::ProbeVirtioMachine();
    if (g_machine != nullptr) {
      g_blk_slot = g_machine->Find(virtio::kDeviceIdBlock);
      g_console_slot = g_machine->Find(virtio::kDeviceIdConsole);
    }
  }
  return g_machine;
}

std::optional<drv::MmioWindow> g_blk_regs;
std::optional<drv::MmioWindow> g_console_regs;
std::optional<drv::VirtioMmioDriver> g_blk_mmio;
std::optional<drv::VirtioMmioDriver> g_console_mmio;
std::optional<drv::DriverQueue> g_blk_queue;
std::optional<drv::VirtioBlkDriver> g_blk;
std::optional<drv::DriverQueue> g_rx;
std::optional<drv::DriverQueue> g_tx;
GuestPlic g_plic;

// Resets and brings up the block device: VERSION_1, FLUSH and indirect
// descriptors, one queue of kQueueSize in guest RAM. Returns the features.
Result<uint64_t> SetUpBlk() {
  if (FindMachine() == nullptr || g_blk_slot == nullptr) return Error::kNotFound;
  g_blk_regs.emplace(g_blk_slot->base, g_blk_slot->size);
  g_blk_mmio.emplace(*g_blk_regs);
  const uint64_t features = HV_TRY(g_blk_mmio->Initialize(
      virtio::kDeviceIdBlock, virtio::FeatureBit(virtio::blk::kFeatureFlush) |
                                  virtio::FeatureBit(virtio::kFeatureRingIndirectDesc)));
  const hv::devices::SplitQueue::Layout layout = drv::LayoutRings(Gpa(g_blk_rings), kQueueSize);
  HV_CHECK(drv::RingBytes(kQueueSize) <= sizeof(g_blk_rings), "rings too large");
  g_blk_queue.emplace(HV_TRY(drv::DriverQueue::Create(GuestRam(), layout)));
  HV_TRY(g_blk_mmio->EnableQueue(0, layout));
  HV_TRY(g_blk_mmio->SetDriverOk());
  g_blk.emplace(*g_blk_mmio, *g_blk_queue, Gpa(g_blk_scratch));
  return features;
}

// Brings up the console once: VERSION_1, receive queue 0, transmit queue 1.
Result<void> SetUpConsole() {
  if (g_tx.has_value()) return hv::Ok();
  if (FindMachine() == nullptr || g_console_slot == nullptr) return Error::kNotFound;
  g_console_regs.emplace(g_console_slot->base, g_console_slot->size);
  g_console_mmio.emplace(*g_console_regs);
  HV_TRY(g_console_mmio->Initialize(virtio::kDeviceIdConsole, 0));
  const hv::devices::SplitQueue::Layout rx = drv::LayoutRings(Gpa(g_rx_rings), kQueueSize);
  const hv::devices::SplitQueue::Layout tx = drv::LayoutRings(Gpa(g_tx_rings), kQueueSize);
  g_rx.emplace(HV_TRY(drv::DriverQueue::Create(GuestRam(), rx)));
  HV_TRY(g_console_mmio->EnableQueue(virtio::console::kReceiveQueue, rx));
  g_tx.emplace(HV_TRY(drv::DriverQueue::Create(GuestRam(), tx)));
  HV_TRY(g_console_mmio->EnableQueue(virtio::console::kTransmitQueue, tx));
  return g_console_mmio->SetDriverOk();
}

// Polls `queue` for its next used element (the device answers during the
// notification; a few polls cover a slower one).
Result<virtio::VirtqUsedElem> WaitUsed(drv::DriverQueue& queue) {
  for (int i = 0; i < 1000; ++i) {
    const std::optional<virtio::VirtqUsedElem> used = HV_TRY(queue.PopUsed());
    if (used.has_value()) return *used;
  }
  return Error::kTimedOut;
}

// Prints `line` through the virtio-console and waits until it is consumed.
Result<void> ConsolePrint(std::string_view line) {
  HV_TRY(SetUpConsole());
  if (line.size() > sizeof(g_tx_buffer)) return Error::kInvalidArgs;
  for (size_t i = 0; i < line.size(); ++i) g_tx_buffer[i] = static_cast<std::byte>(line[i]);
  const drv::Buffer buffer{Gpa(g_tx_buffer), static_cast<uint32_t>(line.size()), false};
  HV_TRY(g_tx->Submit(std::span(&buffer, 1)));
  HV_TRY(g_console_mmio->Notify(virtio::console::kTransmitQueue));
  HV_TRY(WaitUsed(*g_tx));
  return hv::Ok();
}

// Interrupts taken on hart 0.
volatile int g_blk_interrupts = 0;
volatile uint32_t g_blk_interrupt_bits = 0;
volatile int g_other_interrupts = 0;
volatile bool g_timed_out = false;

void OnInterrupt(uint64_t scause, rv::TrapFrame&) {
  if (scause == kStiInterrupt) {
    sbi::Call(sbi::kExtTime, 0, ~uint64_t{0});
    g_timed_out = true;
    return;
  }
  HV_CHECK(scause == kSeiInterrupt, "unexpected interrupt %#lx", scause);
  const uint32_t source = g_plic.Claim(kHart0Context);
  if (g_blk_slot != nullptr && source == g_blk_slot->irq) {
    // Acknowledge the device before completing, or its line (still high)
    // would pend the source again.
    g_blk_interrupt_bits = g_blk_interrupt_bits | g_blk_mmio->TakeInterrupts().value();
    g_blk_interrupts = g_blk_interrupts + 1;
  } else {
    g_other_interrupts = g_other_interrupts + 1;
  }
  if (source != 0) g_plic.Complete(kHart0Context, source);
}

// Waits in WFI (interrupts off, taken right after each wake-up) until hart
// 0 has taken more than `before` block-device interrupts or 100 ms passed.
// True only if the interrupt ended the wait (not the 100 ms timer).
bool WaitForBlkInterrupt(int before) {
  g_timed_out = false;
  sbi::Call(sbi::kExtTime, 0, Now() + 100 * kTicksPerMs);
  while (g_blk_interrupts <= before && !g_timed_out) {
    rv::Wfi();
    HV_CSR_SET(sstatus, rv::kSstatusSie);
    HV_CSR_CLEAR(sstatus, rv::kSstatusSie);
  }
  sbi::Call(sbi::kExtTime, 0, ~uint64_t{0});
  return g_blk_interrupts > before && !g_timed_out;
}

// One request, completed by the device's interrupt: submit, notify, wait in
// WFI for the interrupt, then take the used element.
Result<uint8_t> RequestByInterrupt(uint32_t type, uint64_t sector, const void* data, uint32_t len,
                                   bool indirect) {
  const int before = g_blk_interrupts;
  const uint16_t head = HV_TRY(g_blk->Submit(type, sector, Gpa(data), len, indirect));
  HV_TRY(g_blk_mmio->Notify(0));
  if (!WaitForBlkInterrupt(before)) return Error::kTimedOut;
  const drv::VirtioBlkDriver::Completion done = HV_TRY(g_blk->Complete());
  if (done.head != head) return Error::kOutOfRange;
  const uint32_t data_written = type == virtio::blk::kTypeIn ? len : 0;
  if (done.len != data_written + 1) return Error::kIoError;
  return done.status;
}

void Fill(std::byte* buf, uint64_t sector, uint32_t count) {
  for (uint64_t s = 0; s < count; ++s) {
    for (uint64_t i = 0; i < spec::kSectorSize; ++i) {
      buf[s * spec::kSectorSize + i] = static_cast<std::byte>(spec::PatternByte(sector + s, i));
    }
  }
}

bool StartsWithImageText(const std::byte* buf) {
  for (size_t i = 0; i < spec::kImageText.size(); ++i) {
    if (buf[i] != static_cast<std::byte>(spec::kImageText[i])) return false;
  }
  return true;
}

TEST(VirtioGuest, FindsABlockDeviceAndAConsoleInTheDeviceTree) {
  const VirtioMachine* m = FindMachine();
  ASSERT_TRUE(m != nullptr);
  EXPECT_EQ(m->num_slots, hv::board::kVirtioMmioSlots);
  int blk = 0;
  int console = 0;
  for (size_t i = 0; i < m->num_slots; ++i) {
    const VirtioSlot& slot = m->slots[i];
    EXPECT_EQ(slot.base, hv::board::kVirtioMmioBase + i * hv::board::kVirtioMmioStride);
    EXPECT_EQ(slot.irq, i + 1);
    blk += slot.device_id == virtio::kDeviceIdBlock ? 1 : 0;
    console += slot.device_id == virtio::kDeviceIdConsole ? 1 : 0;
    if (slot.device_id != virtio::kDeviceIdBlock && slot.device_id != virtio::kDeviceIdConsole) {
      EXPECT_EQ(slot.device_id, 0u) << "slot " << i;
    }
  }
  EXPECT_EQ(blk, 1);
  EXPECT_EQ(console, 1);
  ASSERT_TRUE(g_blk_slot != nullptr && g_console_slot != nullptr);
  hv::Printf("virtio-blk at %#lx (irq %u), virtio-console at %#lx (irq %u)\n", g_blk_slot->base,
             g_blk_slot->irq, g_console_slot->base, g_console_slot->irq);
}

TEST(VirtioConsole, PrintsThroughTheHypervisorAndReadsItsInput) {
  ASSERT_TRUE(SetUpConsole().ok());
  ASSERT_TRUE(ConsolePrint(spec::kConsoleLines[0]).ok());
  // The hypervisor's input waits in the device for a receive buffer.
  const drv::Buffer buffer{Gpa(g_rx_buffer), sizeof(g_rx_buffer), true};
  ASSERT_TRUE(g_rx->Submit(std::span(&buffer, 1)).ok());
  ASSERT_TRUE(g_console_mmio->Notify(virtio::console::kReceiveQueue).ok());
  Result<virtio::VirtqUsedElem> used = WaitUsed(*g_rx);
  ASSERT_TRUE(used.ok());
  ASSERT_EQ(used->len, spec::kConsoleInput.size());
  for (size_t i = 0; i < spec::kConsoleInput.size(); ++i) {
    ASSERT_EQ(static_cast<uint8_t>(g_rx_buffer[i]), static_cast<uint8_t>(spec::kConsoleInput[i]))
        << "byte " << i;
  }
  EXPECT_EQ(g_console_mmio->Status().value() & virtio::kStatusDeviceNeedsReset, 0u);
  EXPECT_TRUE(ConsolePrint(spec::kConsoleLines[1]).ok());
}

TEST(VirtioBlk, ReportsCapacityIdAndFlushesAndRefusesBadRequests) {
  Result<uint64_t> features = SetUpBlk();
  ASSERT_TRUE(features.ok());
  EXPECT_NE(*features & virtio::FeatureBit(virtio::kFeatureVersion1), 0u);
  EXPECT_NE(*features & virtio::FeatureBit(virtio::blk::kFeatureFlush), 0u);
  EXPECT_NE(*features & virtio::FeatureBit(virtio::kFeatureRingIndirectDesc), 0u);
  EXPECT_EQ(g_blk_mmio->ReadConfig(0, 8).value(), spec::kDiskSectors);
  EXPECT_EQ(g_blk_mmio->ReadConfig(20, 4).value(), spec::kSectorSize);  // blk_size

  EXPECT_EQ(g_blk->GetId(Gpa(g_data)).value(), virtio::blk::kStatusOk);
  for (size_t i = 0; i < virtio::blk::kIdBytes; ++i) {
    const auto want = static_cast<uint8_t>(i < spec::kSerial.size() ? spec::kSerial[i] : '\0');
    ASSERT_EQ(static_cast<uint8_t>(g_data[i]), want) << "id byte " << i;
  }
  EXPECT_EQ(g_blk->Flush().value(), virtio::blk::kStatusOk);
  // Past the end, across the end, and a request type the device lacks.
  EXPECT_EQ(g_blk->Read(spec::kDiskSectors, Gpa(g_data), 512).value(), virtio::blk::kStatusIoErr);
  EXPECT_EQ(g_blk->Write(spec::kDiskSectors - 1, Gpa(g_data), 1024).value(),
            virtio::blk::kStatusIoErr);
  const uint16_t head = g_blk->Submit(11 /* DISCARD */, 0, GuestPhysAddr(0), 0).value();
  ASSERT_TRUE(g_blk_mmio->Notify(0).ok());
  const drv::VirtioBlkDriver::Completion discard = g_blk->Complete().value();
  EXPECT_EQ(discard.head, head);
  EXPECT_EQ(discard.status, virtio::blk::kStatusUnsupp);
  EXPECT_EQ(g_blk_mmio->Status().value() & virtio::kStatusDeviceNeedsReset, 0u);
  EXPECT_TRUE(ConsolePrint(spec::kConsoleLines[2]).ok());
}

TEST(VirtioBlk, WritesAndReadsBackSectorsWithCompletionsByInterrupt) {
  ASSERT_TRUE(SetUpBlk().ok());
  const uint32_t irq = g_blk_slot->irq;
  rv::SetInterruptHandler(OnInterrupt);
  g_blk_interrupts = 0;
  g_blk_interrupt_bits = 0;
  g_other_interrupts = 0;
  g_plic.SetPriority(irq, 1);
  g_plic.SetThreshold(kHart0Context, 0);
  g_plic.Enable(kHart1Context, irq, false);
  g_plic.Enable(kHart0Context, irq, true);
  HV_CSR_SET(sie, kSieSeie | kSieStie);
  int requests = 0;

  // Sector 0 came with the disk image.
  for (std::byte& b : g_readback) b = std::byte{0};
  EXPECT_EQ(RequestByInterrupt(virtio::blk::kTypeIn, 0, g_readback, 512, false).value_or(0xee),
            virtio::blk::kStatusOk);
  ++requests;
  EXPECT_TRUE(StartsWithImageText(g_readback));

  bool indirect = false;
  for (const spec::Run& run : spec::kRuns) {
    Fill(g_data, run.sector, run.count);
    const uint32_t bytes = run.count * static_cast<uint32_t>(spec::kSectorSize);
    EXPECT_EQ(RequestByInterrupt(virtio::blk::kTypeOut, run.sector, g_data, bytes, indirect)
                  .value_or(0xee),
              virtio::blk::kStatusOk)
        << "write at sector " << run.sector;
    ++requests;
    indirect = !indirect;
  }
  uint64_t verified = 0;
  for (const spec::Run& run : spec::kRuns) {
    const uint32_t bytes = run.count * static_cast<uint32_t>(spec::kSectorSize);
    for (uint32_t i = 0; i < bytes; ++i) g_readback[i] = std::byte{0};
    EXPECT_EQ(RequestByInterrupt(virtio::blk::kTypeIn, run.sector, g_readback, bytes, indirect)
                  .value_or(0xee),
              virtio::blk::kStatusOk)
        << "read at sector " << run.sector;
    ++requests;
    indirect = !indirect;
    Fill(g_data, run.sector, run.count);
    for (uint32_t i = 0; i < bytes; ++i) {
      ASSERT_EQ(g_readback[i], g_data[i])
          << "sector " << run.sector + i / 512 << " byte " << i % 512;
    }
    verified += run.count;
  }
  HV_CSR_CLEAR(sie, kSieSeie | kSieStie);
  g_plic.Enable(kHart0Context, irq, false);
  EXPECT_EQ(g_blk_interrupts, requests);
  EXPECT_EQ(g_blk_interrupt_bits, virtio::mmio::kInterruptUsedBuffer);
  EXPECT_EQ(g_other_interrupts, 0);
  EXPECT_EQ(g_plic.Claim(kHart0Context), 0u);  // nothing left pending
  hv::Printf("%lu sectors verified, %d requests, %d completion interrupts\n", verified, requests,
             g_blk_interrupts);
  EXPECT_TRUE(ConsolePrint(spec::kConsoleLines[3]).ok());
}

TEST(VirtioBlk, ACompletionWakesTheSecondHartWaitingInWfi) {
  ASSERT_TRUE(SetUpBlk().ok());
  const uint32_t irq = g_blk_slot->irq;
  g_plic.SetPriority(irq, 1);
  g_plic.Enable(kHart0Context, irq, false);
  g_plic.SetThreshold(kHart1Context, 0);
  g_plic.Enable(kHart1Context, irq, true);
  for (volatile uint64_t& field : virtio_guest_waiter) field = 0;

  ASSERT_EQ(
      sbi::Call(sbi::kExtHsm, 0, 1, reinterpret_cast<uintptr_t>(&virtio_guest_waiter_entry)).error,
      sbi::kSuccess);
  // Hart 1 runs when this one's time slice ends, and waits.
  const uint64_t start = Now();
  while (virtio_guest_waiter[0] == 0 && Now() - start < 200 * kTicksPerMs) {
  }
  ASSERT_EQ(virtio_guest_waiter[0], 1u);

  for (std::byte& b : g_readback) b = std::byte{0};
  const uint16_t head = g_blk->Submit(virtio::blk::kTypeIn, 0, Gpa(g_readback), 512).value();
  const uint64_t notified = Now();
  ASSERT_TRUE(g_blk_mmio->Notify(0).ok());
  while (virtio_guest_waiter[1] == 0 && Now() - notified < 200 * kTicksPerMs) {
  }
  const uint64_t woken_after = Now() - notified;
  EXPECT_EQ(virtio_guest_waiter[1], irq);            // hart 1 claimed the block device
  EXPECT_GE(virtio_guest_waiter[2], 1u);             // after at least one WFI
  EXPECT_EQ(virtio_guest_waiter[3], kSeiInterrupt);  // taken as an external interrupt
  EXPECT_EQ(g_blk_mmio->TakeInterrupts().value(), virtio::mmio::kInterruptUsedBuffer);
  g_plic.Complete(kHart1Context, irq);
  g_plic.Enable(kHart1Context, irq, false);

  const drv::VirtioBlkDriver::Completion done = g_blk->Complete().value();
  EXPECT_EQ(done.head, head);
  EXPECT_EQ(done.status, virtio::blk::kStatusOk);
  EXPECT_TRUE(StartsWithImageText(g_readback));
  // Hart 1 stops once it has recorded the claim.
  const uint64_t stop_wait = Now();
  while (sbi::Call(sbi::kExtHsm, 2, 1).value != 1 && Now() - stop_wait < 200 * kTicksPerMs) {
  }
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 2, 1).value, 1);  // STOPPED
  hv::Printf("hart 1 woke after %lu WFI(s), %lu us after the notification\n",
             virtio_guest_waiter[2], woken_after / 10);
  EXPECT_TRUE(ConsolePrint(spec::kConsoleLines[4]).ok());
}

}  // namespace
