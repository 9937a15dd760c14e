// Host test rigs for the device models: guest RAM with a hole (hosted
// memory), snapshots to prove which guest bytes a device changed, an
// interrupt recorder, and a virtio-blk or virtio-console device wired to its
// transport with a driver (//devices/driver) ready to play the guest.
//
// Shared by the unit tests, the fuzzers and the benchmark; no GoogleTest
// here, so the fuzzers can link it. Setup failures are HV_CHECKs: they are
// bugs of the rig, not of the code under test.
#ifndef DEVICES_TESTING_VIRTIO_RIG_H_
#define DEVICES_TESTING_VIRTIO_RIG_H_

#include <devices/block_backend.h>
#include <devices/bus.h>
#include <devices/char_io.h>
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_blk.h>
#include <devices/virtio_console.h>
#include <devices/virtio_mmio.h>
#include <guestmem/hosted_memory.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hv::devices::testing {

// Guest-physical memory map of every rig:
//   [kRamBase, +kRamSize)    RAM: rings, scratch, data
//   [kHoleBase, ...)         nothing (between the two regions)
//   [kRam2Base, +kRam2Size)  RAM, a second region
inline constexpr uint64_t kRamBase = 0x40000000;
inline constexpr uint64_t kRamSize = 2 << 20;
inline constexpr uint64_t kHoleBase = 0x48000000;
inline constexpr uint64_t kRam2Base = 0x50000000;
inline constexpr uint64_t kRam2Size = 64 << 10;
// Where rigs put things inside RAM.
inline constexpr uint64_t kRingsBase = kRamBase;  // queue i at + i * kRingsStride
inline constexpr uint64_t kRingsStride = 0x4000;
inline constexpr uint64_t kScratchBase = kRamBase + 0x10000;  // 128 B per descriptor
inline constexpr uint64_t kDataBase = kRamBase + 0x20000;     // to the end of RAM
inline constexpr uint64_t kDataSize = kRamBase + kRamSize - kDataBase;

class IrqRecorder final : public IrqSink {
 public:
  void SetIrqLevel(uint32_t irq, bool level) override;
  bool level = false;
  uint32_t last_irq = 0;
  int raises = 0;  // low-to-high transitions
};

// Collects everything written to it.
class StringSink final : public CharSink {
 public:
  void Write(std::span<const std::byte> bytes) override;
  std::string text;
};

// Counts bytes only (for the benchmark).
class CountingSink final : public CharSink {
 public:
  void Write(std::span<const std::byte> bytes) override { bytes_ += bytes.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

class GuestRam {
 public:
  // Anonymous memory, or MAP_SHARED over `memfd` (RAM at offset 0, RAM2
  // after it) when memfd >= 0.
  explicit GuestRam(int memfd = -1);

  guestmem::HostedGuestMemory& memory() { return memory_; }
  const guestmem::HostedGuestMemory& memory() const { return memory_; }

  void Write(GuestPhysAddr gpa, std::span<const std::byte> bytes);
  std::vector<std::byte> Read(GuestPhysAddr gpa, size_t len) const;
  void Fill(GuestPhysAddr gpa, size_t len, std::byte value);

  // Every byte of guest RAM, region after region.
  std::vector<std::byte> Snapshot() const;
  // The same into `out`, reusing its storage (for loops).
  void SnapshotInto(std::vector<std::byte>& out) const;
  // The guest ranges where two snapshots differ, merged.
  std::vector<AddrRange<GuestPhysAddr>> Changes(const std::vector<std::byte>& before,
                                                const std::vector<std::byte>& after) const;
  // The changes that do not lie inside any of `allowed`.
  std::vector<AddrRange<GuestPhysAddr>> ChangesOutside(
      const std::vector<std::byte>& before, const std::vector<std::byte>& after,
      std::span<const AddrRange<GuestPhysAddr>> allowed) const;

 private:
  guestmem::HostedGuestMemory memory_;
};

std::string Describe(std::span<const AddrRange<GuestPhysAddr>> ranges);

// A virtio-blk device on a RAM disk, driven through its transport.
struct BlkRigOptions {
  uint16_t queue_size = 16;
  // Driver features to ask for (VERSION_1 is always added).
  uint64_t features = virtio::FeatureBit(virtio::kFeatureRingIndirectDesc) |
                      virtio::FeatureBit(virtio::kFeatureRingEventIdx) |
                      virtio::FeatureBit(virtio::blk::kFeatureFlush);
  uint64_t disk_sectors = 2048;
  bool read_only = false;
  std::string id = "hv-test-disk";
  // Bring the device up to DRIVER_OK with queue 0 enabled.
  bool start = true;
  int memfd = -1;
};

class BlkRig {
 public:
  static std::unique_ptr<BlkRig> Create(const BlkRigOptions& options = {});

  SplitQueue::Layout layout() const {
    return driver::LayoutRings(GuestPhysAddr(kRingsBase), queue_size);
  }
  // Brings the device up: Initialize, EnableQueue(0), DRIVER_OK. HV_CHECKs.
  void Start();

  BlkRigOptions options;
  uint16_t queue_size;
  GuestRam ram;
  std::vector<std::byte> disk;
  std::optional<MemoryBlockBackend> backend;
  std::optional<VirtioBlk> blk;
  IrqRecorder irq;
  std::optional<VirtioMmioTransport> transport;
  std::optional<driver::VirtioMmioDriver> mmio;
  std::optional<driver::DriverQueue> queue;
  std::optional<driver::VirtioBlkDriver> driver;
  uint64_t negotiated = 0;

 private:
  explicit BlkRig(const BlkRigOptions& o);
};

// A virtio-console device with its output collected.
struct ConsoleRigOptions {
  uint16_t queue_size = 16;
  uint64_t features = virtio::FeatureBit(virtio::kFeatureRingIndirectDesc) |
                      virtio::FeatureBit(virtio::kFeatureRingEventIdx) |
                      virtio::FeatureBit(virtio::console::kFeatureEmergWrite);
  bool start = true;
};

class ConsoleRig {
 public:
  static std::unique_ptr<ConsoleRig> Create(const ConsoleRigOptions& options = {});

  SplitQueue::Layout layout(size_t queue) const {
    return driver::LayoutRings(GuestPhysAddr(kRingsBase + queue * kRingsStride), queue_size);
  }
  void Start();

  ConsoleRigOptions options;
  uint16_t queue_size;
  GuestRam ram;
  StringSink output;
  std::optional<VirtioConsole> console;
  IrqRecorder irq;
  std::optional<VirtioMmioTransport> transport;
  std::optional<driver::VirtioMmioDriver> mmio;
  std::optional<driver::DriverQueue> rx;
  std::optional<driver::DriverQueue> tx;
  uint64_t negotiated = 0;

 private:
  explicit ConsoleRig(const ConsoleRigOptions& o);
};

}  // namespace hv::devices::testing

#endif  // DEVICES_TESTING_VIRTIO_RIG_H_
