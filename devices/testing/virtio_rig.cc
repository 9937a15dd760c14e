#include "devices/testing/virtio_rig.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace hv::devices::testing {

namespace {

guestmem::HostedGuestMemory MakeMemory(int memfd) {
  const guestmem::HostedGuestMemory::RegionSpec specs[] = {
      {GuestPhysAddr(kRamBase), kRamSize, memfd, 0},
      {GuestPhysAddr(kRam2Base), kRam2Size, memfd, memfd < 0 ? 0 : kRamSize},
  };
  Result<guestmem::HostedGuestMemory> memory = guestmem::HostedGuestMemory::Create(specs);
  HV_CHECK(memory.ok(), "cannot map test guest memory: %s", ErrorName(memory.error()));
  return std::move(memory).value();
}

}  // namespace

void IrqRecorder::SetIrqLevel(uint32_t irq, bool new_level) {
  if (new_level && !level) ++raises;
  level = new_level;
  last_irq = irq;
}

void StringSink::Write(std::span<const std::byte> bytes) {
  for (std::byte b : bytes) text.push_back(static_cast<char>(b));
}

GuestRam::GuestRam(int memfd) : memory_(MakeMemory(memfd)) {}

void GuestRam::Write(GuestPhysAddr gpa, std::span<const std::byte> bytes) {
  HV_CHECK(memory_.WriteBuffer(gpa, bytes).ok(), "rig write outside guest RAM");
}

std::vector<std::byte> GuestRam::Read(GuestPhysAddr gpa, size_t len) const {
  std::vector<std::byte> out(len);
  HV_CHECK(memory_.ReadBuffer(gpa, out).ok(), "rig read outside guest RAM");
  return out;
}

void GuestRam::Fill(GuestPhysAddr gpa, size_t len, std::byte value) {
  const std::vector<std::byte> bytes(len, value);
  Write(gpa, bytes);
}

std::vector<std::byte> GuestRam::Snapshot() const {
  std::vector<std::byte> out;
  SnapshotInto(out);
  return out;
}

void GuestRam::SnapshotInto(std::vector<std::byte>& out) const {
  size_t total = 0;
  for (const auto& region : memory_.regions()) total += region.size;
  out.resize(total);
  size_t at = 0;
  for (const auto& region : memory_.regions()) {
    HV_CHECK(memory_.ReadBuffer(region.base, std::span(out).subspan(at, region.size)).ok(),
             "snapshot of guest RAM");
    at += region.size;
  }
}

std::vector<AddrRange<GuestPhysAddr>> GuestRam::Changes(const std::vector<std::byte>& before,
                                                        const std::vector<std::byte>& after) const {
  HV_CHECK(before.size() == after.size(), "snapshots of different sizes");
  std::vector<AddrRange<GuestPhysAddr>> changes;
  size_t offset = 0;
  for (const auto& region : memory_.regions()) {
    size_t i = 0;
    while (i < region.size) {
      // Skip equal blocks quickly; most of guest RAM does not change.
      constexpr size_t kBlock = 256;
      // SAFETY: both snapshots hold every region (sizes checked above) and
      // [offset + i, + kBlock) lies inside this region's part.
      if (i % kBlock == 0 && i + kBlock <= region.size &&
          std::memcmp(before.data() + offset + i, after.data() + offset + i, kBlock) == 0) {
        i += kBlock;
        continue;
      }
      if (before[offset + i] == after[offset + i]) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < region.size && before[offset + j] != after[offset + j]) ++j;
      changes.push_back(
          *AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(region.base.value() + i), j - i));
      i = j;
    }
    offset += region.size;
  }
  return changes;
}

std::vector<AddrRange<GuestPhysAddr>> GuestRam::ChangesOutside(
    const std::vector<std::byte>& before, const std::vector<std::byte>& after,
    std::span<const AddrRange<GuestPhysAddr>> allowed) const {
  std::vector<AddrRange<GuestPhysAddr>> outside;
  for (const auto& change : Changes(before, after)) {
    // Byte by byte: a change may span an allowed range and its neighbour.
    for (uint64_t i = 0; i < change.size(); ++i) {
      const GuestPhysAddr gpa(change.start().value() + i);
      const bool ok = std::any_of(allowed.begin(), allowed.end(),
                                  [gpa](const auto& range) { return range.Contains(gpa); });
      if (ok) continue;
      if (!outside.empty() && outside.back().end() == gpa) {
        outside.back() =
            *AddrRange<GuestPhysAddr>::Create(outside.back().start(), outside.back().size() + 1);
      } else {
        outside.push_back(*AddrRange<GuestPhysAddr>::Create(gpa, 1));
      }
    }
  }
  return outside;
}

std::string Describe(std::span<const AddrRange<GuestPhysAddr>> ranges) {
  std::string out;
  for (const auto& r : ranges) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "[%#llx, +%llu) ",
                  static_cast<unsigned long long>(r.start().value()),
                  static_cast<unsigned long long>(r.size()));
    out += buf;
  }
  return out;
}

BlkRig::BlkRig(const BlkRigOptions& o)
    : options(o), queue_size(o.queue_size), ram(o.memfd), disk(o.disk_sectors * 512) {
  for (size_t i = 0; i < disk.size(); ++i)
    disk[i] = static_cast<std::byte>((i * 7 + i / 512) & 0xff);
  Result<MemoryBlockBackend> b = MemoryBlockBackend::Create(disk, o.read_only);
  HV_CHECK(b.ok(), "bad rig disk");
  backend.emplace(*b);
  blk.emplace(*backend, o.id);
  transport.emplace(ram.memory(), *blk, IrqLine(&irq, 8));
  mmio.emplace(*transport);
}

std::unique_ptr<BlkRig> BlkRig::Create(const BlkRigOptions& options) {
  std::unique_ptr<BlkRig> rig(new BlkRig(options));
  if (options.start) rig->Start();
  return rig;
}

void BlkRig::Start() {
  Result<uint64_t> features = mmio->Initialize(virtio::kDeviceIdBlock, options.features);
  HV_CHECK(features.ok(), "blk Initialize: %s", ErrorName(features.error()));
  negotiated = *features;
  Result<driver::DriverQueue> q = driver::DriverQueue::Create(ram.memory(), layout());
  HV_CHECK(q.ok(), "blk rings");
  queue.emplace(*q);
  HV_CHECK(mmio->EnableQueue(0, layout()).ok(), "blk EnableQueue");
  HV_CHECK(mmio->SetDriverOk().ok(), "blk DRIVER_OK");
  driver.emplace(*mmio, *queue, GuestPhysAddr(kScratchBase));
}

ConsoleRig::ConsoleRig(const ConsoleRigOptions& o) : options(o), queue_size(o.queue_size) {
  console.emplace(output);
  transport.emplace(ram.memory(), *console, IrqLine(&irq, 9));
  mmio.emplace(*transport);
}

std::unique_ptr<ConsoleRig> ConsoleRig::Create(const ConsoleRigOptions& options) {
  std::unique_ptr<ConsoleRig> rig(new ConsoleRig(options));
  if (options.start) rig->Start();
  return rig;
}

void ConsoleRig::Start() {
  Result<uint64_t> features = mmio->Initialize(virtio::kDeviceIdConsole, options.features);
  HV_CHECK(features.ok(), "console Initialize: %s", ErrorName(features.error()));
  negotiated = *features;
  Result<driver::DriverQueue> r = driver::DriverQueue::Create(ram.memory(), layout(0));
  Result<driver::DriverQueue> t = driver::DriverQueue::Create(ram.memory(), layout(1));
  HV_CHECK(r.ok() && t.ok(), "console rings");
  rx.emplace(*r);
  tx.emplace(*t);
  HV_CHECK(mmio->EnableQueue(0, layout(0)).ok(), "console EnableQueue(0)");
  HV_CHECK(mmio->EnableQueue(1, layout(1)).ok(), "console EnableQueue(1)");
  HV_CHECK(mmio->SetDriverOk().ok(), "console DRIVER_OK");
}

}  // namespace hv::devices::testing
