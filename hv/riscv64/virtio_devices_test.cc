// A VM's virtio devices on the host: guest RAM is hosted memory, the PLIC a
// recorder of line levels, the VM's console a string, and the guest the
// driver of //devices/driver reaching the devices through the VM's bus, as
// the exit path forwards trapped accesses.
#include <devices/driver/virtio_driver.h>
#include <gtest/gtest.h>
#include <guestmem/hosted_memory.h>
#include <hv/riscv64/virtio_devices.h>

#include <map>
#include <string>
#include <vector>

namespace hv::riscv64 {
namespace {

namespace virtio = devices::virtio;
using devices::driver::Buffer;
using devices::driver::DriverQueue;
using devices::driver::LayoutRings;
using devices::driver::VirtioBlkDriver;
using devices::driver::VirtioMmioDriver;

constexpr uint64_t kRamBase = 0x8000'0000;
constexpr uint64_t kRamSize = 1 << 20;
constexpr VirtioDevices::Slot kBlkSlot{GuestPhysAddr(0x1000'8000), 0x1000, 8};
constexpr VirtioDevices::Slot kConsoleSlot{GuestPhysAddr(0x1000'7000), 0x1000, 7};
constexpr uint64_t kDiskBytes = 64 << 10;

GuestPhysAddr Ram(uint64_t offset) { return GuestPhysAddr(kRamBase + offset); }

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

class Lines final : public devices::IrqSink {
 public:
  void SetIrqLevel(uint32_t irq, bool level) override { levels[irq] = level; }
  std::map<uint32_t, bool> levels;
};

class StringSink final : public devices::CharSink {
 public:
  void Write(std::span<const std::byte> bytes) override {
    for (std::byte b : bytes) text.push_back(static_cast<char>(b));
  }
  std::string text;
};

// The driver's view of one slot: accesses go through the VM's bus.
class BusWindow final : public devices::MmioDevice {
 public:
  BusWindow(devices::MmioBus& bus, GuestPhysAddr base) : bus_(bus), base_(base) {}
  Result<uint64_t> Read(uint64_t offset, size_t size) override {
    return bus_.Read(GuestPhysAddr(base_.value() + offset), size);
  }
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override {
    return bus_.Write(GuestPhysAddr(base_.value() + offset), size, value);
  }

 private:
  devices::MmioBus& bus_;
  GuestPhysAddr base_;
};

guestmem::HostedGuestMemory MakeRam() {
  const guestmem::HostedGuestMemory::RegionSpec spec{GuestPhysAddr(kRamBase), kRamSize};
  return guestmem::HostedGuestMemory::Create(std::span(&spec, 1)).value();
}

// The driver side of a virtio-console brought to DRIVER_OK: receive queue 0
// at RAM offset 0, transmit queue 1 at 0x1000, eight entries each.
struct ConsoleQueues {
  std::optional<DriverQueue> rx;
  std::optional<DriverQueue> tx;
};

ConsoleQueues StartConsole(VirtioMmioDriver& mmio, const guestmem::HostedGuestMemory& ram) {
  ConsoleQueues queues;
  EXPECT_TRUE(mmio.Initialize(virtio::kDeviceIdConsole, 0).ok());
  const devices::SplitQueue::Layout rx_layout = LayoutRings(Ram(0), 8);
  const devices::SplitQueue::Layout tx_layout = LayoutRings(Ram(0x1000), 8);
  Result<DriverQueue> rx = DriverQueue::Create(ram, rx_layout);
  Result<DriverQueue> tx = DriverQueue::Create(ram, tx_layout);
  if (!rx.ok() || !tx.ok()) {
    ADD_FAILURE() << "cannot lay out the console's queues";
    return queues;
  }
  queues.rx.emplace(std::move(*rx));
  queues.tx.emplace(std::move(*tx));
  EXPECT_TRUE(mmio.EnableQueue(0, rx_layout).ok());
  EXPECT_TRUE(mmio.EnableQueue(1, tx_layout).ok());
  EXPECT_TRUE(mmio.SetDriverOk().ok());
  return queues;
}

class VirtioDevicesTest : public ::testing::Test {
 protected:
  VirtioDevicesTest() : ram(MakeRam()), disk(kDiskBytes), devices("vm", ram, lines, console) {
    disk[0] = std::byte{'H'};  // the "image" the config put there
    EXPECT_TRUE(devices.AddBlock(kBlkSlot, disk, false, "serial-1", bus).ok());
    EXPECT_TRUE(devices.AddConsole(kConsoleSlot, Bytes("input\n"), "", bus).ok());
  }

  guestmem::HostedGuestMemory ram;
  std::vector<std::byte> disk;
  Lines lines;
  StringSink console;
  devices::MmioBus bus;
  VirtioDevices devices;
  BusWindow blk_window{bus, kBlkSlot.base};
  BusWindow console_window{bus, kConsoleSlot.base};
};

TEST_F(VirtioDevicesTest, TheDiskTakesWritesAndTheSlotLineFollowsInterruptStatus) {
  VirtioMmioDriver mmio(blk_window);
  ASSERT_TRUE(
      mmio.Initialize(virtio::kDeviceIdBlock, virtio::FeatureBit(virtio::blk::kFeatureFlush)).ok());
  const devices::SplitQueue::Layout layout = LayoutRings(Ram(0), 16);
  Result<DriverQueue> queue = DriverQueue::Create(ram, layout);
  ASSERT_TRUE(queue.ok());
  ASSERT_TRUE(mmio.EnableQueue(0, layout).ok());
  ASSERT_TRUE(mmio.SetDriverOk().ok());
  EXPECT_EQ(mmio.ReadConfig(0, 8).value(), kDiskBytes / 512);  // capacity in sectors
  VirtioBlkDriver blk(mmio, *queue, Ram(0x4000));

  std::vector<std::byte> data(1024);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 3 + 1);
  ASSERT_TRUE(ram.WriteBuffer(Ram(0x10000), data).ok());
  EXPECT_EQ(blk.Write(5, Ram(0x10000), 1024).value(), virtio::blk::kStatusOk);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), disk.begin() + 5 * 512));
  EXPECT_TRUE(lines.levels[kBlkSlot.irq]);
  EXPECT_EQ(mmio.TakeInterrupts().value(), virtio::mmio::kInterruptUsedBuffer);
  EXPECT_FALSE(lines.levels[kBlkSlot.irq]);

  EXPECT_EQ(blk.Read(0, Ram(0x20000), 512).value(), virtio::blk::kStatusOk);
  EXPECT_EQ(ram.ReadObj<uint8_t>(Ram(0x20000)).value(), 'H');
  EXPECT_EQ(blk.GetId(Ram(0x30000)).value(), virtio::blk::kStatusOk);
  std::array<char, 9> id{};
  ASSERT_TRUE(ram.ReadBuffer(Ram(0x30000), std::as_writable_bytes(std::span(id))).ok());
  EXPECT_EQ(std::string_view(id.data(), 9), std::string_view("serial-1\0", 9));
  EXPECT_EQ(blk.Flush().value(), virtio::blk::kStatusOk);
  EXPECT_EQ(blk.Read(kDiskBytes / 512, Ram(0x20000), 512).value(), virtio::blk::kStatusIoErr);

  const VirtioReport report = devices.Report();
  ASSERT_TRUE(report.blk.present);
  EXPECT_EQ(report.blk.slot, kBlkSlot.base);
  EXPECT_EQ(report.blk.disk.data(), disk.data());
  EXPECT_EQ(report.blk.disk.size(), kDiskBytes);
  EXPECT_EQ(report.blk.ok, 4u);
  EXPECT_EQ(report.blk.ioerr, 1u);
  EXPECT_NE(report.blk.status & virtio::kStatusDriverOk, 0u);
  EXPECT_EQ(report.blk.needs_resets, 0u);
  EXPECT_FALSE(devices.has_pending_work());
}

TEST_F(VirtioDevicesTest, ConsoleOutputReachesTheVmConsoleAndInputWaitsForBuffers) {
  VirtioMmioDriver mmio(console_window);
  ConsoleQueues queues = StartConsole(mmio, ram);
  ASSERT_FALSE(HasFailure()) << "the console did not start";
  std::optional<DriverQueue>& rx = queues.rx;
  std::optional<DriverQueue>& tx = queues.tx;

  ASSERT_TRUE(ram.WriteBuffer(Ram(0x10000), Bytes("hello\n")).ok());
  const Buffer out[] = {{Ram(0x10000), 6, false}};
  ASSERT_TRUE(tx->Submit(out).ok());
  ASSERT_TRUE(mmio.Notify(1).ok());
  EXPECT_EQ(console.text, "hello\n");
  EXPECT_TRUE(lines.levels[kConsoleSlot.irq]);
  ASSERT_TRUE(mmio.TakeInterrupts().ok());

  const Buffer in[] = {{Ram(0x20000), 64, true}};
  ASSERT_TRUE(rx->Submit(in).ok());
  ASSERT_TRUE(mmio.Notify(0).ok());
  const std::optional<virtio::VirtqUsedElem> used = rx->PopUsed().value();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->len, 6u);
  std::array<char, 6> got{};
  ASSERT_TRUE(ram.ReadBuffer(Ram(0x20000), std::as_writable_bytes(std::span(got))).ok());
  EXPECT_EQ(std::string_view(got.data(), got.size()), "input\n");
  EXPECT_TRUE(lines.levels[kConsoleSlot.irq]);

  const VirtioReport report = devices.Report();
  ASSERT_TRUE(report.console.present);
  EXPECT_EQ(report.console.bytes_out, 6u);
  EXPECT_EQ(report.console.bytes_in, 6u);
  EXPECT_FALSE(lines.levels[kBlkSlot.irq]);
}

// A machine reset: both devices back to status 0 with their queues off and
// the lines low; the disk keeps what was written.
TEST_F(VirtioDevicesTest, ResetStopsBothDevicesAndKeepsTheDisk) {
  VirtioMmioDriver console_mmio(console_window);
  ConsoleQueues queues = StartConsole(console_mmio, ram);
  ASSERT_FALSE(HasFailure()) << "the console did not start";
  ASSERT_TRUE(ram.WriteBuffer(Ram(0x10000), Bytes("hi")).ok());
  const Buffer out[] = {{Ram(0x10000), 2, false}};
  ASSERT_TRUE(queues.tx->Submit(out).ok());
  ASSERT_TRUE(console_mmio.Notify(1).ok());
  EXPECT_TRUE(lines.levels[kConsoleSlot.irq]);
  disk[100] = std::byte{0x42};

  devices.Reset();
  const VirtioReport report = devices.Report();
  EXPECT_EQ(report.console.status, 0u);
  EXPECT_EQ(report.blk.status, 0u);
  EXPECT_FALSE(lines.levels[kConsoleSlot.irq]);
  EXPECT_EQ(report.console.bytes_out, 2u);
  EXPECT_EQ(disk[0], std::byte{'H'});
  EXPECT_EQ(disk[100], std::byte{0x42});
  // A new driver starts from scratch.
  VirtioMmioDriver again(console_window);
  [[maybe_unused]] const ConsoleQueues restarted = StartConsole(again, ram);
  EXPECT_FALSE(HasFailure());
}

TEST_F(VirtioDevicesTest, EachEntryIntoNeedsResetIsCountedOnce) {
  VirtioMmioDriver mmio(blk_window);
  const devices::SplitQueue::Layout layout = LayoutRings(Ram(0), 16);
  for (uint32_t round = 1; round <= 2; ++round) {
    ASSERT_TRUE(mmio.Initialize(virtio::kDeviceIdBlock, 0).ok());
    Result<DriverQueue> queue = DriverQueue::Create(ram, layout);
    ASSERT_TRUE(queue.ok());
    ASSERT_TRUE(mmio.EnableQueue(0, layout).ok());
    ASSERT_TRUE(mmio.SetDriverOk().ok());
    // 0 -> 1 -> 2 -> 1 -> ...
    ASSERT_TRUE(queue->WriteDesc(0, {Ram(0x8000).value(), 16, virtio::kDescFlagNext, 1}).ok());
    ASSERT_TRUE(queue->WriteDesc(1, {Ram(0x9000).value(), 512, 3, 2}).ok());
    ASSERT_TRUE(queue->WriteDesc(2, {Ram(0xa000).value(), 1, 3, 1}).ok());
    ASSERT_TRUE(queue->Publish(0).ok());
    ASSERT_TRUE(mmio.Notify(0).ok());
    devices.Poll();
    devices.Poll();
    EXPECT_NE(mmio.Status().value() & virtio::kStatusDeviceNeedsReset, 0u);
    EXPECT_EQ(mmio.TakeInterrupts().value(), virtio::mmio::kInterruptConfigChange);
    EXPECT_EQ(devices.Report().blk.needs_resets, round);
  }
  ASSERT_TRUE(mmio.WriteReg(virtio::mmio::kStatus, 0).ok());
  devices.Poll();
  EXPECT_EQ(devices.Report().blk.status, 0u);
  EXPECT_EQ(devices.Report().blk.needs_resets, 2u);
}

TEST_F(VirtioDevicesTest, TheWholeSlotIsTheDevicesAndPastItsRegistersIsRefused) {
  EXPECT_EQ(blk_window.Read(0, 4).value(), virtio::mmio::kMagic);
  EXPECT_EQ(blk_window.Read(virtio::mmio::kDeviceId, 4).value(), virtio::kDeviceIdBlock);
  EXPECT_EQ(console_window.Read(virtio::mmio::kDeviceId, 4).value(), virtio::kDeviceIdConsole);
  EXPECT_EQ(blk_window.Read(0x800, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(blk_window.Write(0xffc, 4, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(bus.Read(GuestPhysAddr(kBlkSlot.base.value() + 0x1000), 4).error(), Error::kNotFound);
}

TEST(VirtioDevices, RefusesASecondDeviceABadDiskAndTooMuchInputOrTrigger) {
  guestmem::HostedGuestMemory ram = MakeRam();
  Lines lines;
  StringSink console;
  devices::MmioBus bus;
  VirtioDevices devices("vm", ram, lines, console);
  std::vector<std::byte> disk(4096);
  std::vector<std::byte> odd(1000);
  EXPECT_EQ(devices.AddBlock(kBlkSlot, odd, false, "", bus).error(), Error::kInvalidArgs);
  EXPECT_EQ(devices.AddBlock(kBlkSlot, {}, false, "", bus).error(), Error::kInvalidArgs);
  EXPECT_TRUE(devices.AddBlock(kBlkSlot, disk, false, "", bus).ok());
  EXPECT_EQ(devices.AddBlock(kConsoleSlot, disk, false, "", bus).error(), Error::kAlreadyExists);
  // The console in the block device's slot: the bus refuses the overlap.
  EXPECT_EQ(devices.AddConsole(kBlkSlot, {}, "", bus).error(), Error::kAlreadyExists);
  const std::vector<std::byte> input(devices::VirtioConsole::kInputBufferSize + 1);
  EXPECT_EQ(devices.AddConsole(kConsoleSlot, input, "", bus).error(), Error::kOutOfRange);
  const std::string long_trigger(VirtioConsoleConfig::kMaxInputAfter + 1, 'x');
  EXPECT_EQ(devices.AddConsole(kConsoleSlot, {}, long_trigger, bus).error(), Error::kOutOfRange);
  EXPECT_TRUE(devices.AddConsole(kConsoleSlot, {}, "", bus).ok());
  EXPECT_EQ(bus.size(), 2u);
  const VirtioReport report = devices.Report();
  EXPECT_TRUE(report.blk.present);
  EXPECT_TRUE(report.console.present);
}

// Input held back until the guest's output contains the trigger: receive
// buffers posted early stay empty, the trigger may be split across chains
// and preceded by a partial match, and the input arrives with the next Poll.
TEST(VirtioDevices, HeldBackInputWaitsForTheTriggerInTheOutput) {
  guestmem::HostedGuestMemory ram = MakeRam();
  Lines lines;
  StringSink console;
  devices::MmioBus bus;
  VirtioDevices devices("vm", ram, lines, console);
  ASSERT_TRUE(devices.AddConsole(kConsoleSlot, Bytes("reply\n"), "ready> ", bus).ok());
  BusWindow window(bus, kConsoleSlot.base);
  VirtioMmioDriver mmio(window);
  ConsoleQueues queues = StartConsole(mmio, ram);
  ASSERT_FALSE(HasFailure()) << "the console did not start";
  std::optional<DriverQueue>& rx = queues.rx;
  std::optional<DriverQueue>& tx = queues.tx;

  const Buffer in[] = {{Ram(0x20000), 64, true}};
  ASSERT_TRUE(rx->Submit(in).ok());
  ASSERT_TRUE(mmio.Notify(0).ok());
  devices.Poll();
  EXPECT_FALSE(rx->PopUsed().value().has_value());

  // "rea" then "dy" almost matches; "ready" then "> " completes it.
  uint64_t at = 0x10000;
  for (std::string_view piece : {"boot: rea", "dy ", "... ready", "> "}) {
    ASSERT_TRUE(ram.WriteBuffer(Ram(at), Bytes(piece)).ok());
    const Buffer out[] = {{Ram(at), static_cast<uint32_t>(piece.size()), false}};
    ASSERT_TRUE(tx->Submit(out).ok());
    ASSERT_TRUE(mmio.Notify(1).ok());
    ASSERT_TRUE(tx->PopUsed().value().has_value());
    at += 0x100;
    if (piece != "> ") {
      devices.Poll();
      EXPECT_FALSE(devices.has_pending_work());
      EXPECT_FALSE(rx->PopUsed().value().has_value()) << "released after " << console.text;
    }
  }
  EXPECT_EQ(console.text, "boot: ready ... ready> ");
  EXPECT_TRUE(devices.has_pending_work());
  devices.Poll();
  const std::optional<virtio::VirtqUsedElem> used = rx->PopUsed().value();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->len, 6u);
  std::array<char, 6> got{};
  ASSERT_TRUE(ram.ReadBuffer(Ram(0x20000), std::as_writable_bytes(std::span(got))).ok());
  EXPECT_EQ(std::string_view(got.data(), got.size()), "reply\n");
  EXPECT_EQ(devices.Report().console.bytes_in, 6u);
  EXPECT_FALSE(devices.has_pending_work());
}

TEST(VirtioDevices, ReportsNothingWithoutDevices) {
  guestmem::HostedGuestMemory ram = MakeRam();
  Lines lines;
  StringSink console;
  VirtioDevices devices("vm", ram, lines, console);
  devices.Poll();
  EXPECT_FALSE(devices.has_pending_work());
  const VirtioReport report = devices.Report();
  EXPECT_FALSE(report.blk.present);
  EXPECT_FALSE(report.console.present);
}

}  // namespace
}  // namespace hv::riscv64
