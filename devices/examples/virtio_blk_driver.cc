// Embedding the device models in a Linux process: a VMM with guest RAM and
// a disk in memfds, a virtio-blk device on its MMIO bus, and in the same
// process the guest's side: a virtio driver that builds its virtqueue in
// guest RAM, reaches the registers through the bus (as trapped loads and
// stores would), submits requests and checks the results, including what
// happens when it hands the device a broken chain.
//
//   ./bazelw run //devices/examples:virtio_blk_driver
//
// Prints each step and "virtio_blk_driver: OK" at the end; exits 1 on the
// first check that fails.
#include <devices/bus.h>
#include <devices/driver/virtio_driver.h>
#include <devices/file_block_backend.h>
#include <devices/virtio.h>
#include <devices/virtio_blk.h>
#include <devices/virtio_mmio.h>
#include <guestmem/hosted_memory.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using hv::GuestPhysAddr;
using hv::devices::driver::DriverQueue;
using hv::devices::driver::VirtioBlkDriver;
using hv::devices::driver::VirtioMmioDriver;
namespace blk = hv::devices::virtio::blk;
namespace virtio = hv::devices::virtio;

constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kRamSize = 2 << 20;
constexpr uint64_t kDiskSize = 1 << 20;
constexpr uint64_t kBlkMmioBase = 0x10001000;
constexpr uint32_t kBlkIrq = 1;
// Where the guest puts things in its RAM.
constexpr uint64_t kRings = kRamBase;
constexpr uint64_t kScratch = kRamBase + 0x10000;
constexpr uint64_t kWriteBuffer = kRamBase + 0x100000;
constexpr uint64_t kReadBuffer = kRamBase + 0x180000;
constexpr uint32_t kChunk = 4096;
constexpr uint32_t kTotal = 64 * 1024;

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "virtio_blk_driver: FAILED: %s\n", what);
  std::exit(1);
}

template <typename T>
T Must(hv::Result<T> result, const char* what) {
  Check(result.ok(), what);
  return std::move(result).value();
}

void Must(hv::Result<void> result, const char* what) { Check(result.ok(), what); }

// The VMM's interrupt controller, reduced to counting raised lines.
class InterruptController final : public hv::devices::IrqSink {
 public:
  void SetIrqLevel(uint32_t irq, bool level) override {
    if (irq == kBlkIrq && level) ++raised;
    pending = level;
  }
  int raised = 0;
  bool pending = false;
};

// The guest's view of a device's registers: every access goes through the
// VMM's bus at the device's guest-physical address.
class GuestRegisters final : public hv::devices::MmioDevice {
 public:
  GuestRegisters(hv::devices::MmioBus& bus, uint64_t base) : bus_(bus), base_(base) {}
  hv::Result<uint64_t> Read(uint64_t offset, size_t size) override {
    return bus_.Read(GuestPhysAddr(base_ + offset), size);
  }
  hv::Result<void> Write(uint64_t offset, size_t size, uint64_t value) override {
    return bus_.Write(GuestPhysAddr(base_ + offset), size, value);
  }

 private:
  hv::devices::MmioBus& bus_;
  uint64_t base_;
};

int MakeMemfd(const char* name, uint64_t size) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  Check(fd >= 0 && ftruncate(fd, static_cast<off_t>(size)) == 0, "memfd");
  return fd;
}

// Negotiation and queue setup, as a guest driver does after every reset.
void StartDevice(VirtioMmioDriver& regs, DriverQueue& queue) {
  const uint64_t features = Must(
      regs.Initialize(virtio::kDeviceIdBlock, virtio::FeatureBit(virtio::kFeatureRingIndirectDesc) |
                                                  virtio::FeatureBit(virtio::kFeatureRingEventIdx) |
                                                  virtio::FeatureBit(blk::kFeatureFlush)),
      "feature negotiation");
  Check((features & virtio::FeatureBit(virtio::kFeatureVersion1)) != 0, "VERSION_1");
  queue = Must(DriverQueue::Create(queue.memory(), queue.layout()), "rings");
  Must(regs.EnableQueue(0, queue.layout()), "queue setup");
  Must(regs.SetDriverOk(), "DRIVER_OK");
}

}  // namespace

int main() {
  // ---- The VMM ----------------------------------------------------------
  const int ram_fd = MakeMemfd("guest-ram", kRamSize);
  const hv::guestmem::HostedGuestMemory::RegionSpec ram_spec[] = {
      {GuestPhysAddr(kRamBase), kRamSize, ram_fd, 0}};
  hv::guestmem::HostedGuestMemory ram =
      Must(hv::guestmem::HostedGuestMemory::Create(ram_spec), "guest RAM");
  const int disk_fd = MakeMemfd("disk", kDiskSize);
  hv::devices::FileBlockBackend disk = Must(hv::devices::FileBlockBackend::Create(disk_fd), "disk");
  hv::devices::VirtioBlk blk_device(disk, "example-disk");
  InterruptController plic;
  hv::devices::VirtioMmioTransport blk_mmio(ram, blk_device, hv::devices::IrqLine(&plic, kBlkIrq));
  hv::devices::MmioBus bus;
  Must(bus.Register(GuestPhysAddr(kBlkMmioBase), hv::devices::VirtioMmioTransport::kRegionSize,
                    &blk_mmio),
       "bus registration");
  std::printf("vmm: guest RAM [%#llx, +%llu KiB) in a memfd, virtio-blk at %#llx, irq %u\n",
              static_cast<unsigned long long>(kRamBase),
              static_cast<unsigned long long>(kRamSize >> 10),
              static_cast<unsigned long long>(kBlkMmioBase), kBlkIrq);

  // ---- The guest's driver -------------------------------------------------
  GuestRegisters window(bus, kBlkMmioBase);
  VirtioMmioDriver regs(window);
  const uint32_t capacity_low = static_cast<uint32_t>(Must(regs.ReadConfig(0, 4), "capacity"));
  DriverQueue queue =
      Must(DriverQueue::Create(ram, hv::devices::driver::LayoutRings(GuestPhysAddr(kRings), 64)),
           "rings");
  StartDevice(regs, queue);
  VirtioBlkDriver driver(regs, queue, GuestPhysAddr(kScratch));
  std::printf("guest: virtio-blk ready, %u sectors, queue of %u\n",
              static_cast<uint32_t>(Must(regs.ReadConfig(0, 4), "capacity")), queue.size());
  Check(capacity_low == kDiskSize / 512, "capacity in config space");

  // Fill 64 KiB of guest RAM and write it to sectors 0..127 in 4 KiB
  // requests, half of them through indirect descriptors, 8 per notification.
  std::vector<std::byte> pattern(kTotal);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::byte>((i * 31) >> 3);
  Check(ram.WriteBuffer(GuestPhysAddr(kWriteBuffer), pattern).ok(), "fill write buffer");
  int requests = 0;
  for (uint32_t off = 0; off < kTotal; off += 8 * kChunk) {
    for (uint32_t i = 0; i < 8; ++i) {
      const uint32_t at = off + i * kChunk;
      Must(driver.Submit(blk::kTypeOut, at / 512, GuestPhysAddr(kWriteBuffer + at), kChunk,
                         /*indirect=*/i % 2 == 1),
           "submit write");
    }
    Must(regs.Notify(0), "notify");
    for (int i = 0; i < 8; ++i) {
      Check(Must(driver.Complete(), "complete write").status == blk::kStatusOk, "write status");
      ++requests;
    }
    Must(regs.TakeInterrupts(), "interrupt ack");
  }
  std::printf("guest: wrote %u KiB in %d requests\n", kTotal >> 10, requests);
  Check(Must(driver.Flush(), "flush") == blk::kStatusOk, "flush status");

  // The disk memfd holds the data now.
  std::vector<std::byte> on_disk(kTotal);
  Check(pread(disk_fd, on_disk.data(), on_disk.size(), 0) == static_cast<ssize_t>(kTotal),
        "pread disk");
  Check(on_disk == pattern, "disk contents");

  // Read it back elsewhere, and look at the result through a second mapping
  // of the guest RAM memfd, as another process sharing it would.
  for (uint32_t at = 0; at < kTotal; at += kChunk) {
    Check(Must(driver.Read(at / 512, GuestPhysAddr(kReadBuffer + at), kChunk), "read") ==
              blk::kStatusOk,
          "read status");
    ++requests;
  }
  void* view = mmap(nullptr, kRamSize, PROT_READ, MAP_SHARED, ram_fd, 0);
  Check(view != MAP_FAILED, "second mapping of guest RAM");
  // SAFETY: `view` maps the whole guest RAM memfd read-only and nothing
  // truncates it while this process runs; kReadBuffer + kTotal is inside.
  const bool same = std::memcmp(static_cast<const std::byte*>(view) + (kReadBuffer - kRamBase),
                                pattern.data(), kTotal) == 0;
  munmap(view, kRamSize);
  Check(same, "read-back data in guest RAM");
  std::printf("guest: read back %u KiB, identical\n", kTotal >> 10);

  char id[21] = {};
  Check(Must(driver.GetId(GuestPhysAddr(kReadBuffer), 20), "get id") == blk::kStatusOk, "id");
  Check(ram.ReadBuffer(GuestPhysAddr(kReadBuffer), std::as_writable_bytes(std::span(id, 20))).ok(),
        "read id");
  std::printf("guest: device id \"%s\"\n", id);
  Check(std::strcmp(id, "example-disk") == 0, "device id");
  Check(Must(driver.Read(kDiskSize / 512, GuestPhysAddr(kReadBuffer), 512), "read past end") ==
            blk::kStatusIoErr,
        "IOERR past the end of the disk");
  std::printf("guest: a read past the end gets IOERR\n");

  // A hostile guest: a descriptor whose `next` is itself. The device does
  // not loop; it asks for a reset, and works again after one.
  Must(queue.WriteDesc(7, {kWriteBuffer, 16, virtio::kDescFlagNext, 7}), "write desc");
  Must(queue.Publish(7), "publish");
  Must(regs.Notify(0), "notify");
  Check((Must(regs.Status(), "status") & virtio::kStatusDeviceNeedsReset) != 0,
        "DEVICE_NEEDS_RESET after a looping chain");
  Check((Must(regs.TakeInterrupts(), "interrupts") & virtio::mmio::kInterruptConfigChange) != 0,
        "configuration change interrupt");
  std::printf("guest: a looping chain made the device ask for a reset\n");
  StartDevice(regs, queue);
  Check(Must(driver.Read(0, GuestPhysAddr(kReadBuffer), 512), "read after reset") == blk::kStatusOk,
        "read after reset");
  ++requests;

  std::printf("virtio_blk_driver: OK (%d requests, %d interrupts, %llu ok, %llu ioerr)\n", requests,
              plic.raised, static_cast<unsigned long long>(blk_device.stats().ok),
              static_cast<unsigned long long>(blk_device.stats().ioerr));
  close(disk_fd);
  close(ram_fd);
  return 0;
}
