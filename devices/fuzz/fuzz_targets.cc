#include "devices/fuzz/fuzz_targets.h"

#include <devices/block_backend.h>
#include <devices/bus.h>
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_blk.h>
#include <devices/virtio_mmio.h>
#include <devices/virtqueue.h>
#include <guestmem/hosted_memory.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

namespace hv::devices::fuzz {
namespace {

using virtio::VirtqDesc;

// A small guest, so that every input can be checked against a snapshot:
//   [kRamBase, +64 KiB)   rings at the start, the input's data area after
//   [kRam2Base, +4 KiB)   a second region behind a hole
constexpr uint64_t kRamBase = 0x10000;
constexpr uint64_t kRamSize = 0x10000;
constexpr uint64_t kRam2Base = 0x30000;
constexpr uint64_t kRam2Size = 0x1000;
constexpr uint64_t kDataArea = kRamBase + 0x2000;
// Bytes a consumer reads from or writes to one chain, at most.
constexpr uint64_t kConsumeLimit = 64 << 10;
// Operations per input, at most (each is bounded work).
constexpr int kMaxOps = 128;

guestmem::HostedGuestMemory& Memory() {
  static guestmem::HostedGuestMemory* memory = [] {
    const guestmem::HostedGuestMemory::RegionSpec specs[] = {{GuestPhysAddr(kRamBase), kRamSize},
                                                             {GuestPhysAddr(kRam2Base), kRam2Size}};
    Result<guestmem::HostedGuestMemory> created = guestmem::HostedGuestMemory::Create(specs);
    HV_CHECK(created.ok(), "fuzz guest memory");
    return new guestmem::HostedGuestMemory(std::move(created).value());
  }();
  return *memory;
}

void Put(GuestPhysAddr at, std::span<const uint8_t> bytes) {
  HV_CHECK(Memory().WriteBuffer(at, std::as_bytes(bytes)).ok(), "fuzz input outside guest RAM");
}

void ClearMemory() {
  static const std::array<uint8_t, 4096> kZeros{};
  for (const auto& region : Memory().regions()) {
    for (uint64_t off = 0; off < region.size; off += kZeros.size()) {
      Put(GuestPhysAddr(region.base.value() + off), kZeros);
    }
  }
}

void Snapshot(std::vector<std::byte>& out) {
  out.resize(kRamSize + kRam2Size);
  HV_CHECK(Memory().ReadBuffer(GuestPhysAddr(kRamBase), std::span(out).first(kRamSize)).ok(),
           "snapshot");
  HV_CHECK(Memory().ReadBuffer(GuestPhysAddr(kRam2Base), std::span(out).subspan(kRamSize)).ok(),
           "snapshot");
}

uint64_t SnapshotAddr(size_t index) {
  return index < kRamSize ? kRamBase + index : kRam2Base + (index - kRamSize);
}

// The input, consumed front to back; reads past its end yield zeros.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ == size_; }
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  uint32_t U32() { return U16() | (uint32_t{U16()} << 16); }
  std::span<const uint8_t> Take(size_t n) {
    n = std::min(n, size_ - at_);
    const std::span<const uint8_t> out(data_ + at_, n);
    at_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

// A second, independent walk of a chain, written for clarity, to compare
// SplitQueue's with.
struct RefOutcome {
  enum Kind { kEmpty, kFault, kChain } kind = kEmpty;
  uint16_t head = 0;
  std::vector<DescSegment> segments;
};

// The device reads avail->idx again only once it has used up the entries of
// the last read (`cached`); a jump is judged at that read. The mirror does
// the same: true if the read value was a jump.
bool RefLoadAvailIdx(const SplitQueue::Layout& l, uint16_t last_avail, uint16_t& cached) {
  if (last_avail != cached) return false;
  const uint16_t idx = Memory().ReadObj<uint16_t>(GuestPhysAddr(l.avail.value() + 2)).value();
  if (static_cast<uint16_t>(idx - last_avail) > l.size) return true;
  cached = idx;
  return false;
}

RefOutcome RefPop(const SplitQueue::Layout& l, uint16_t last_avail, uint16_t& cached,
                  bool indirect) {
  const guestmem::GuestMemoryAccessor& m = Memory();
  RefOutcome out;
  if (RefLoadAvailIdx(l, last_avail, cached)) return {RefOutcome::kFault};
  if (last_avail == cached) return {RefOutcome::kEmpty};
  out.head =
      m.ReadObj<uint16_t>(GuestPhysAddr(l.avail.value() + 4 + 2 * (last_avail % l.size))).value();
  if (out.head >= l.size) return {RefOutcome::kFault};
  uint64_t table = l.desc.value();
  uint64_t entries = l.size;
  uint64_t index = out.head;
  bool nested = false;
  for (;;) {
    const Result<VirtqDesc> d = m.ReadObj<VirtqDesc>(GuestPhysAddr(table + 16 * index));
    if (!d.ok()) return {RefOutcome::kFault};
    if (d->flags & virtio::kDescFlagIndirect) {
      const bool table_ok =
          d->len != 0 && d->len % 16 == 0 && InGuestRam(m, GuestPhysAddr(d->addr), d->len);
      if (nested || !indirect || (d->flags & virtio::kDescFlagNext) || !table_ok) {
        return {RefOutcome::kFault};
      }
      nested = true;
      table = d->addr;
      entries = d->len / 16;
      index = 0;
      continue;
    }
    if (out.segments.size() == l.size) return {RefOutcome::kFault};
    out.segments.push_back(
        DescSegment{GuestPhysAddr(d->addr), d->len, (d->flags & virtio::kDescFlagWrite) != 0});
    if ((d->flags & virtio::kDescFlagNext) == 0) break;
    if (d->next >= entries) return {RefOutcome::kFault};
    index = d->next;
  }
  out.kind = RefOutcome::kChain;
  return out;
}

// Reads what the device may read of `chain` and fills what it may write
// with 0xa5; returns the bytes written.
uint32_t Consume(const DescChain& chain) {
  static std::array<std::byte, 4096> buffer;
  ChainReader reader(Memory(), chain, 0, kConsumeLimit);
  uint64_t read = 0;
  while (reader.remain() != 0) {
    mm::CopyResult r = reader.Read(buffer);
    read += r.ok() ? r.value() : r.error().done;
    if (!r.ok()) break;
  }
  HV_CHECK(read <= chain.readable_bytes(), "read %llu of %llu readable bytes",
           static_cast<unsigned long long>(read),
           static_cast<unsigned long long>(chain.readable_bytes()));
  buffer.fill(std::byte{0xa5});
  ChainWriter writer(Memory(), chain, 0, kConsumeLimit);
  uint64_t written = 0;
  while (writer.remain() != 0) {
    mm::CopyResult r = writer.Write(buffer);
    written += r.ok() ? r.value() : r.error().done;
    if (!r.ok()) break;
  }
  HV_CHECK(written <= chain.writable_bytes(), "wrote past the writable bytes");
  return static_cast<uint32_t>(written);
}

bool Allowed(uint64_t addr, const SplitQueue::Layout& l, const DescChain* chain) {
  if (addr >= l.used.value() && addr - l.used.value() < virtio::UsedRingBytes(l.size, true)) {
    return true;
  }
  if (chain == nullptr) return false;
  for (const DescSegment& s : chain->segments()) {
    if (s.device_writable && addr >= s.addr.value() && addr - s.addr.value() < s.len) return true;
  }
  return false;
}

}  // namespace

void FuzzVirtqueue(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t config = in.Byte();
  const auto queue_size = static_cast<uint16_t>(1u << (config & 7));
  const bool indirect = (config & 8) != 0;
  const bool event_idx = (config & 16) != 0;
  ClearMemory();
  const SplitQueue::Layout layout = driver::LayoutRings(GuestPhysAddr(kRamBase), queue_size);
  Put(layout.desc, in.Take(virtio::DescTableBytes(queue_size)));
  Put(layout.avail, in.Take(virtio::AvailRingBytes(queue_size, true)));
  Put(GuestPhysAddr(kDataArea), in.Take(size_t{in.Byte()} * 16));

  SplitQueue queue;
  HV_CHECK(queue.Activate(Memory(), layout, SplitQueue::kMaxSize, indirect, event_idx).ok(),
           "activation of a valid layout failed");
  static DescChain chain;
  std::vector<std::byte> before, after;
  uint16_t cached_avail_idx = 0;
  const bool scripted = !in.empty();
  for (int op = 0; op < kMaxOps && !queue.fault().has_value(); ++op) {
    if (scripted && in.empty()) break;
    const uint8_t code = scripted ? in.Byte() : 0;
    Snapshot(before);
    bool popped = false;
    switch (code % 4) {
      case 0: {
        const RefOutcome expected =
            RefPop(layout, queue.last_avail_idx(), cached_avail_idx, indirect);
        const Result<bool, QueueFault> r = queue.Pop(chain);
        if (!r.ok()) {
          HV_CHECK(expected.kind == RefOutcome::kFault,
                   "SplitQueue faulted (%s), reference did not", QueueFaultName(r.error()));
          break;
        }
        if (!*r) {
          HV_CHECK(expected.kind == RefOutcome::kEmpty, "SplitQueue saw an empty ring");
          if (!scripted) op = kMaxOps;
          break;
        }
        HV_CHECK(expected.kind == RefOutcome::kChain,
                 "SplitQueue popped what the reference did not");
        HV_CHECK(chain.head() == expected.head && chain.head() < queue_size, "wrong head");
        HV_CHECK(chain.segments().size() == expected.segments.size(), "segment count differs");
        uint64_t readable = 0, writable = 0;
        for (size_t i = 0; i < expected.segments.size(); ++i) {
          const DescSegment& a = chain.segments()[i];
          const DescSegment& b = expected.segments[i];
          HV_CHECK(a.addr == b.addr && a.len == b.len && a.device_writable == b.device_writable,
                   "segment %zu differs", i);
          (a.device_writable ? writable : readable) += a.len;
        }
        HV_CHECK(readable == chain.readable_bytes() && writable == chain.writable_bytes(),
                 "byte counts differ");
        const uint32_t written = Consume(chain);
        HV_CHECK(queue.Push(chain.head(), written).ok(), "push onto a valid used ring failed");
        popped = true;
        break;
      }
      case 1:
        (void)queue.ShouldInterrupt();
        break;
      case 2: {
        const GuestPhysAddr idx(layout.avail.value() + virtio::kRingIdxOffset);
        const uint16_t now = Memory().ReadObj<uint16_t>(idx).value();
        HV_CHECK(Memory().WriteObj(idx, static_cast<uint16_t>(now + in.Byte())).ok(), "avail");
        Snapshot(before);  // the guest's write, not the device's
        break;
      }
      case 3: {
        const bool jump = RefLoadAvailIdx(layout, queue.last_avail_idx(), cached_avail_idx);
        const Result<bool, QueueFault> has = queue.HasAvailable();
        HV_CHECK(has.ok() != jump, "HasAvailable and the reference disagree on a jump");
        if (has.ok()) {
          HV_CHECK(*has == (queue.last_avail_idx() != cached_avail_idx), "HasAvailable is wrong");
        }
        break;
      }
    }
    Snapshot(after);
    constexpr size_t kBlock = 512;
    for (size_t i = 0; i < after.size(); ++i) {
      // Whole equal blocks at once: this loop is most of a run otherwise.
      // SAFETY: both snapshots have after.size() bytes; the block is inside.
      if (i % kBlock == 0 && i + kBlock <= after.size() &&
          std::memcmp(before.data() + i, after.data() + i, kBlock) == 0) {
        i += kBlock - 1;
        continue;
      }
      if (before[i] == after[i]) continue;
      HV_CHECK(Allowed(SnapshotAddr(i), layout, popped ? &chain : nullptr),
               "the device changed guest byte %#llx",
               static_cast<unsigned long long>(SnapshotAddr(i)));
    }
  }
}

namespace {

class LevelRecorder final : public IrqSink {
 public:
  void SetIrqLevel(uint32_t, bool new_level) override { level = new_level; }
  bool level = false;
};

void CheckTransport(const VirtioMmioTransport& transport, const LevelRecorder& irq) {
  HV_CHECK(irq.level == (transport.interrupt_status() != 0), "interrupt line out of sync");
  const bool needs_reset = (transport.status() & virtio::kStatusDeviceNeedsReset) != 0;
  HV_CHECK(needs_reset == transport.needs_reset_reason().has_value(),
           "DEVICE_NEEDS_RESET without a reason, or a reason without it");
}

}  // namespace

void FuzzBlk(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t config = in.Byte();
  const auto queue_size = static_cast<uint16_t>(1u << std::min(config & 7, 6));
  uint64_t features = 0;
  if (config & 8) features |= virtio::FeatureBit(virtio::kFeatureRingIndirectDesc);
  if (config & 16) features |= virtio::FeatureBit(virtio::kFeatureRingEventIdx);
  if (config & 32) features |= virtio::FeatureBit(virtio::blk::kFeatureFlush);
  const bool read_only = (config & 64) != 0;

  ClearMemory();
  static std::vector<std::byte> disk(64 * 512);
  for (size_t i = 0; i < disk.size(); ++i) disk[i] = static_cast<std::byte>(i);
  MemoryBlockBackend backend = MemoryBlockBackend::Create(disk, read_only).value();
  VirtioBlk blk(backend, "fuzz");
  LevelRecorder irq;
  VirtioMmioTransport transport(Memory(), blk, IrqLine(&irq, 1));
  driver::VirtioMmioDriver mmio(transport);
  HV_CHECK(mmio.Initialize(virtio::kDeviceIdBlock, features).ok(), "negotiation");
  const SplitQueue::Layout layout = driver::LayoutRings(GuestPhysAddr(kRamBase), queue_size);
  HV_CHECK(driver::DriverQueue::Create(Memory(), layout).ok(), "rings");
  HV_CHECK(mmio.EnableQueue(0, layout).ok() && mmio.SetDriverOk().ok(), "queue setup");

  Put(layout.desc, in.Take(virtio::DescTableBytes(queue_size)));
  Put(GuestPhysAddr(layout.avail.value() + virtio::kRingEntriesOffset), in.Take(2 * queue_size));
  const uint16_t avail_flags = in.U16();
  const uint16_t used_event = in.U16();
  const uint16_t avail_idx = in.Byte();
  HV_CHECK(Memory().WriteObj(layout.avail, avail_flags).ok(), "avail flags");
  HV_CHECK(Memory()
               .WriteObj(GuestPhysAddr(layout.avail.value() + virtio::UsedEventOffset(queue_size)),
                         used_event)
               .ok(),
           "used_event");
  Put(GuestPhysAddr(kDataArea), in.Take(size_t{in.Byte()} * 32));
  const GuestPhysAddr idx_at(layout.avail.value() + virtio::kRingIdxOffset);
  HV_CHECK(Memory().WriteObj(idx_at, avail_idx).ok(), "avail idx");

  (void)mmio.Notify(0);
  CheckTransport(transport, irq);
  for (int op = 0; op < kMaxOps && !in.empty(); ++op) {
    const uint8_t kind = in.Byte();
    const uint8_t reg = in.Byte();
    const uint32_t value = in.U32();
    const uint64_t offset = (uint64_t{reg} * 4) % VirtioMmioTransport::kRegionSize;
    switch (kind % 6) {
      case 0:
        (void)transport.Write(virtio::mmio::kQueueNotify, 4, reg % 3);
        break;
      case 1:
        (void)transport.Write(offset, 4, value);
        break;
      case 2:
        (void)transport.Read(offset, 4);
        break;
      case 3: {
        const uint16_t now = Memory().ReadObj<uint16_t>(idx_at).value();
        HV_CHECK(Memory().WriteObj(idx_at, static_cast<uint16_t>(now + reg)).ok(), "avail idx");
        (void)transport.Write(virtio::mmio::kQueueNotify, 4, 0);
        break;
      }
      case 4: {
        const GuestPhysAddr slot(layout.avail.value() + virtio::kRingEntriesOffset +
                                 2 * (reg % queue_size));
        HV_CHECK(Memory().WriteObj(slot, static_cast<uint16_t>(value)).ok(), "avail slot");
        break;
      }
      case 5: {
        // Any width at any offset.
        const size_t width = size_t{1} << (value & 3);
        const uint64_t at = reg * uint64_t{2} % VirtioMmioTransport::kRegionSize;
        if (value & 4) {
          (void)transport.Write(at, width, value >> 8);
        } else {
          (void)transport.Read(at, width);
        }
        transport.Poll();
        break;
      }
    }
    CheckTransport(transport, irq);
  }
  transport.Poll();
  CheckTransport(transport, irq);
}

}  // namespace hv::devices::fuzz
