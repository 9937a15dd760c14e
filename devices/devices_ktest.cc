// The device models in a bare-metal image: the freestanding build of the
// library, run on the real architecture. "Guest RAM" is a buffer of the
// image behind a one-region accessor; the driver from //devices/driver
// plays the guest through the MMIO bus, as the hypervisor's exit handler
// will.
#include <devices/block_backend.h>
#include <devices/bus.h>
#include <devices/char_io.h>
#include <devices/driver/virtio_driver.h>
#include <devices/ns16550a.h>
#include <devices/virtio.h>
#include <devices/virtio_blk.h>
#include <devices/virtio_console.h>
#include <devices/virtio_mmio.h>
#include <guestmem/accessor.h>
#include <ktest/ktest.h>

namespace hv::devices {
namespace {

constexpr uint64_t kRamBase = 0x80000000;
constexpr size_t kRamSize = 128 << 10;
constexpr uint64_t kBlkBase = 0x10001000;
constexpr uint64_t kConsoleBase = 0x10002000;
constexpr uint64_t kUartBase = 0x10000000;

alignas(4096) std::byte g_ram[kRamSize];
alignas(512) std::byte g_disk[64 << 10];

// Guest RAM that is one buffer of this image.
class BufferGuestMemory final : public guestmem::GuestMemoryAccessor {
 public:
  Result<guestmem::Translation> TranslateAndGetLimit(GuestPhysAddr gpa) const override {
    if (gpa.value() < kRamBase || gpa.value() - kRamBase >= kRamSize) return Error::kOutOfRange;
    const uint64_t offset = gpa.value() - kRamBase;
    return guestmem::Translation{HostVirtFromPtr(g_ram + offset), kRamSize - offset};
  }
};

class RecordingSink final : public CharSink {
 public:
  void Write(std::span<const std::byte> bytes) override {
    for (std::byte b : bytes) {
      if (len < sizeof(text)) text[len++] = static_cast<char>(b);
    }
  }
  std::string_view view() const { return {text, len}; }
  char text[64] = {};
  size_t len = 0;
};

class LevelSink final : public IrqSink {
 public:
  void SetIrqLevel(uint32_t irq, bool level) override { levels[irq % 16] = level; }
  bool levels[16] = {};
};

// The driver reaches the device through the bus, at an offset from `base`.
class BusWindow final : public MmioDevice {
 public:
  BusWindow(MmioBus& bus, uint64_t base) : bus_(bus), base_(base) {}
  Result<uint64_t> Read(uint64_t offset, size_t size) override {
    return bus_.Read(GuestPhysAddr(base_ + offset), size);
  }
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override {
    return bus_.Write(GuestPhysAddr(base_ + offset), size, value);
  }

 private:
  MmioBus& bus_;
  uint64_t base_;
};

GuestPhysAddr Ram(uint64_t offset) { return GuestPhysAddr(kRamBase + offset); }

TEST(Devices, VirtioBlkWritesAndReadsBackThroughTheBus) {
  BufferGuestMemory memory;
  MemoryBlockBackend disk = MemoryBlockBackend::Create(g_disk).value();
  VirtioBlk blk(disk, "ktest");
  LevelSink plic;
  VirtioMmioTransport transport(memory, blk, IrqLine(&plic, 8));
  MmioBus bus;
  ASSERT_TRUE(
      bus.Register(GuestPhysAddr(kBlkBase), VirtioMmioTransport::kRegionSize, &transport).ok());
  BusWindow window(bus, kBlkBase);
  driver::VirtioMmioDriver mmio(window);
  ASSERT_TRUE(
      mmio.Initialize(virtio::kDeviceIdBlock, virtio::FeatureBit(virtio::kFeatureRingIndirectDesc) |
                                                  virtio::FeatureBit(virtio::kFeatureRingEventIdx))
          .ok());
  const SplitQueue::Layout layout = driver::LayoutRings(Ram(0), 32);
  Result<driver::DriverQueue> queue = driver::DriverQueue::Create(memory, layout);
  ASSERT_TRUE(queue.ok());
  ASSERT_TRUE(mmio.EnableQueue(0, layout).ok());
  ASSERT_TRUE(mmio.SetDriverOk().ok());
  driver::VirtioBlkDriver blk_driver(mmio, *queue, Ram(0x4000));

  for (size_t i = 0; i < 4096; ++i) g_ram[0x10000 + i] = static_cast<std::byte>(i * 7);
  Result<uint8_t> wrote = blk_driver.Write(3, Ram(0x10000), 4096);
  ASSERT_TRUE(wrote.ok());
  EXPECT_EQ(*wrote, virtio::blk::kStatusOk);
  EXPECT_TRUE(plic.levels[8]);
  Result<uint8_t> read = blk_driver.Read(3, Ram(0x12000), 4096);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, virtio::blk::kStatusOk);
  for (size_t i = 0; i < 4096; ++i) {
    ASSERT_EQ(g_ram[0x12000 + i], static_cast<std::byte>(i * 7)) << i;
  }
  // Past the end of the 128-sector disk.
  Result<uint8_t> beyond = blk_driver.Read(128, Ram(0x12000), 512);
  ASSERT_TRUE(beyond.ok());
  EXPECT_EQ(*beyond, virtio::blk::kStatusIoErr);
}

TEST(Devices, ALoopingChainSetsNeedsResetInsteadOfHanging) {
  BufferGuestMemory memory;
  MemoryBlockBackend disk = MemoryBlockBackend::Create(g_disk).value();
  VirtioBlk blk(disk);
  VirtioMmioTransport transport(memory, blk, IrqLine());
  driver::VirtioMmioDriver mmio(transport);
  ASSERT_TRUE(mmio.Initialize(virtio::kDeviceIdBlock, 0).ok());
  const SplitQueue::Layout layout = driver::LayoutRings(Ram(0), 8);
  Result<driver::DriverQueue> queue = driver::DriverQueue::Create(memory, layout);
  ASSERT_TRUE(queue.ok());
  ASSERT_TRUE(mmio.EnableQueue(0, layout).ok());
  ASSERT_TRUE(mmio.SetDriverOk().ok());
  ASSERT_TRUE(queue->WriteDesc(2, {Ram(0x10000).value(), 16, virtio::kDescFlagNext, 2}).ok());
  ASSERT_TRUE(queue->Publish(2).ok());
  ASSERT_TRUE(mmio.Notify(0).ok());
  EXPECT_EQ(transport.needs_reset_reason().value_or(QueueFault::kRingAccess),
            QueueFault::kChainTooLong);
  EXPECT_EQ(mmio.Status().value() & virtio::kStatusDeviceNeedsReset,
            virtio::kStatusDeviceNeedsReset);
}

TEST(Devices, VirtioConsoleTransmits) {
  BufferGuestMemory memory;
  RecordingSink out;
  VirtioConsole console(out);
  VirtioMmioTransport transport(memory, console, IrqLine());
  MmioBus bus;
  ASSERT_TRUE(
      bus.Register(GuestPhysAddr(kConsoleBase), VirtioMmioTransport::kRegionSize, &transport).ok());
  BusWindow window(bus, kConsoleBase);
  driver::VirtioMmioDriver mmio(window);
  ASSERT_TRUE(mmio.Initialize(virtio::kDeviceIdConsole, 0).ok());
  const SplitQueue::Layout rx = driver::LayoutRings(Ram(0), 8);
  const SplitQueue::Layout tx = driver::LayoutRings(Ram(0x2000), 8);
  Result<driver::DriverQueue> txq = driver::DriverQueue::Create(memory, tx);
  ASSERT_TRUE(txq.ok());
  ASSERT_TRUE(mmio.EnableQueue(0, rx).ok());
  ASSERT_TRUE(mmio.EnableQueue(1, tx).ok());
  ASSERT_TRUE(mmio.SetDriverOk().ok());
  const char kText[] = "from the guest";
  for (size_t i = 0; i < sizeof(kText) - 1; ++i) g_ram[0x10000 + i] = std::byte(kText[i]);
  const driver::Buffer chain[] = {{Ram(0x10000), sizeof(kText) - 1, false}};
  ASSERT_TRUE(txq->Submit(chain).ok());
  ASSERT_TRUE(mmio.Notify(1).ok());
  EXPECT_EQ(out.view(), std::string_view(kText));
}

TEST(Devices, Ns16550aOnTheBus) {
  RecordingSink out;
  LevelSink plic;
  Ns16550a uart(out, IrqLine(&plic, 10));
  MmioBus bus;
  ASSERT_TRUE(bus.Register(GuestPhysAddr(kUartBase), 0x100, &uart).ok());
  ASSERT_TRUE(bus.Write(GuestPhysAddr(kUartBase + uart::kRbrThrDll), 1, 'k').ok());
  ASSERT_TRUE(bus.Write(GuestPhysAddr(kUartBase + uart::kIerDlm), 1, uart::kIerThrEmpty).ok());
  EXPECT_TRUE(plic.levels[10]);
  EXPECT_EQ(bus.Read(GuestPhysAddr(kUartBase + uart::kIirFcr), 1).value(), uart::kIirThrEmpty);
  EXPECT_FALSE(plic.levels[10]);
  EXPECT_FALSE(bus.Read(GuestPhysAddr(kUartBase + 0x10), 1).ok());
  EXPECT_EQ(out.view(), std::string_view("k"));
}

}  // namespace
}  // namespace hv::devices
