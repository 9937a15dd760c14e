// Seed inputs for the fuzz targets, built from the input formats in
// fuzz_targets.cc: each reaches a different part of the code (good chains,
// indirect tables, every kind of broken chain, register traffic).
#include <devices/virtio.h>
#include <devices/virtio_mmio.h>

#include <cstring>
#include <vector>

#include "devices/fuzz/fuzz_targets.h"

namespace hv::devices::fuzz {
namespace {

using virtio::VirtqDesc;

constexpr uint16_t kNext = virtio::kDescFlagNext;
constexpr uint16_t kWrite = virtio::kDescFlagWrite;
constexpr uint16_t kIndirect = virtio::kDescFlagIndirect;
// Must match fuzz_targets.cc.
constexpr uint64_t kDataArea = 0x12000;
constexpr uint64_t kRam2Base = 0x30000;

class Builder {
 public:
  Builder& U8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  Builder& U16(uint16_t v) { return U8(v & 0xff).U8(v >> 8); }
  Builder& U32(uint32_t v) { return U16(v & 0xffff).U16(v >> 16); }
  Builder& U64(uint64_t v) { return U32(v & 0xffffffff).U32(v >> 32); }
  Builder& Desc(const VirtqDesc& d) { return U64(d.addr).U32(d.len).U16(d.flags).U16(d.next); }
  // A descriptor table of `size` entries, the first ones given.
  Builder& Table(uint16_t size, std::initializer_list<VirtqDesc> descs) {
    for (const VirtqDesc& d : descs) Desc(d);
    for (size_t i = descs.size(); i < size; ++i) Desc({});
    return *this;
  }
  Builder& Zeros(size_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

// Virtqueue input: config, table, avail ring (flags, idx, ring, used_event),
// data-area length / 16, data area, ops.
std::vector<uint8_t> Virtqueue(uint8_t size_log2, bool indirect, bool event_idx,
                               std::initializer_list<VirtqDesc> table, uint16_t avail_idx,
                               std::initializer_list<uint16_t> ring, std::vector<uint8_t> data,
                               std::initializer_list<uint8_t> ops) {
  const uint16_t size = static_cast<uint16_t>(1u << size_log2);
  Builder b;
  b.U8(static_cast<uint8_t>(size_log2 | (indirect ? 8 : 0) | (event_idx ? 16 : 0)));
  b.Table(size, table);
  b.U16(0).U16(avail_idx);
  for (uint16_t head : ring) b.U16(head);
  b.Zeros(2 * (size - ring.size()) + 2);
  data.resize((data.size() + 15) / 16 * 16);
  b.U8(static_cast<uint8_t>(data.size() / 16));
  for (uint8_t byte : data) b.U8(byte);
  for (uint8_t op : ops) b.U8(op);
  return b.Take();
}

std::vector<uint8_t> IndirectTable(std::initializer_list<VirtqDesc> descs, size_t at = 0) {
  Builder b;
  b.Zeros(at);
  for (const VirtqDesc& d : descs) b.Desc(d);
  return b.Take();
}

}  // namespace

std::vector<std::vector<uint8_t>> VirtqueueSeeds() {
  const uint64_t d = kDataArea;
  return {
      // A request-like chain, popped, then interrupts and a second pop.
      Virtqueue(3, true, true,
                {{d, 16, kNext, 1}, {d + 64, 512, kNext | kWrite, 2}, {d + 1024, 1, kWrite, 0}}, 1,
                {0}, {}, {0, 1, 0, 3}),
      // Two chains and a wrap of a queue of 2.
      Virtqueue(1, false, false, {{d, 8, 0, 0}, {d + 8, 8, kWrite, 0}}, 2, {0, 1}, {},
                {0, 0, 1, 2, 2, 0, 0, 1}),
      // An indirect table in the data area.
      Virtqueue(
          2, true, false, {{d + 0x100, 48, kIndirect, 0}}, 1, {0},
          IndirectTable(
              {{d, 16, kNext, 1}, {d + 64, 32, kNext | kWrite, 2}, {kRam2Base, 16, kWrite, 0}},
              0x100),
          {0}),
      // A loop, nested indirect, indirect with next, a bad table length.
      Virtqueue(2, true, false, {{d, 16, kNext, 1}, {d, 16, kNext, 0}}, 1, {0}, {}, {0}),
      Virtqueue(2, true, false, {{d, 16, kIndirect, 0}}, 1, {0},
                IndirectTable({{d, 16, kIndirect, 0}}), {0}),
      Virtqueue(2, true, false, {{d, 16, kIndirect | kNext, 1}, {d, 1, kWrite, 0}}, 1, {0},
                IndirectTable({{d + 32, 4, 0, 0}}), {0}),
      Virtqueue(2, true, false, {{d, 24, kIndirect, 0}}, 1, {0}, {}, {0}),
      // Indirect tables of exactly the queue size and one more.
      Virtqueue(1, true, false, {{d + 0x40, 32, kIndirect, 0}}, 1, {0},
                IndirectTable({{d, 4, kNext, 1}, {d + 8, 4, kWrite, 0}}, 0x40), {0}),
      Virtqueue(
          1, true, false, {{d + 0x40, 48, kIndirect, 0}}, 1, {0},
          IndirectTable({{d, 4, kNext, 1}, {d + 8, 4, kNext, 2}, {d + 16, 4, kWrite, 0}}, 0x40),
          {0}),
      // Heads and nexts out of range; an avail index jump.
      Virtqueue(2, false, false, {{d, 16, kNext, 9}}, 2, {3, 7}, {}, {0, 0}),
      Virtqueue(2, false, true, {{d, 16, 0, 0}}, 40, {0}, {}, {3, 0}),
      // Buffers outside RAM and a huge length.
      Virtqueue(3, false, false, {{0x20000, 16, kNext | kWrite, 1}, {d, 0xffffffff, kWrite, 0}}, 1,
                {0}, {}, {0}),
  };
}

namespace {

// Blk input: config, table, avail ring entries, avail flags, used_event,
// avail idx, data-area length / 32, data area, ops of 6 bytes.
std::vector<uint8_t> Blk(uint8_t config, uint16_t size, std::initializer_list<VirtqDesc> table,
                         std::initializer_list<uint16_t> ring, uint8_t avail_idx,
                         std::vector<uint8_t> data, std::vector<uint8_t> ops) {
  Builder b;
  b.U8(config);
  b.Table(size, table);
  for (uint16_t head : ring) b.U16(head);
  b.Zeros(2 * (size - ring.size()));
  b.U16(0).U16(0).U8(avail_idx);
  data.resize((data.size() + 31) / 32 * 32);
  b.U8(static_cast<uint8_t>(data.size() / 32));
  for (uint8_t byte : data) b.U8(byte);
  for (uint8_t op : ops) b.U8(op);
  return b.Take();
}

std::vector<uint8_t> Headers(std::initializer_list<std::pair<uint32_t, uint64_t>> headers) {
  Builder b;
  for (const auto& [type, sector] : headers) b.U32(type).U32(0).U64(sector);
  return b.Take();
}

// One 6-byte op.
std::vector<uint8_t> Op(uint8_t kind, uint8_t reg, uint32_t value) {
  return {kind,
          reg,
          static_cast<uint8_t>(value),
          static_cast<uint8_t>(value >> 8),
          static_cast<uint8_t>(value >> 16),
          static_cast<uint8_t>(value >> 24)};
}

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

constexpr uint8_t kIndirectBit = 8;
constexpr uint8_t kEventIdxBit = 16;
constexpr uint8_t kFlushBit = 32;
constexpr uint8_t kReadOnlyBit = 64;
constexpr uint8_t kReg(uint64_t offset) { return static_cast<uint8_t>(offset / 4); }

}  // namespace

std::vector<std::vector<uint8_t>> BlkSeeds() {
  const uint64_t d = kDataArea;
  const uint64_t status = d + 0x80;
  const uint64_t buffer = d + 0x200;
  const std::vector<uint8_t> ack = Concat({Op(2, kReg(virtio::mmio::kInterruptStatus), 0),
                                           Op(1, kReg(virtio::mmio::kInterruptAck), 3)});
  return {
      // Read, write, flush, get-id and an unknown type, one after another.
      Blk(4 | kIndirectBit | kEventIdxBit | kFlushBit, 16,
          {{d, 16, kNext, 1},
           {buffer, 1024, kNext | kWrite, 2},
           {status, 1, kWrite, 0},
           {d + 16, 16, kNext, 4},
           {buffer, 512, kNext, 5},
           {status + 1, 1, kWrite, 0},
           {d + 32, 16, kNext, 7},
           {status + 2, 1, kWrite, 0},
           {d + 48, 16, kNext, 9},
           {buffer, 20, kNext | kWrite, 10},
           {status + 3, 1, kWrite, 0},
           {d + 64, 16, kNext, 12},
           {status + 4, 1, kWrite, 0}},
          {0, 3, 6, 8, 11}, 5, Headers({{0, 2}, {1, 60}, {4, 0}, {8, 0}, {0x99, 0}}), ack),
      // Indirect request, then more requests as the index moves.
      Blk(2 | kIndirectBit, 4, {{d + 0x100, 48, virtio::kDescFlagIndirect, 0}}, {0, 0, 0, 0}, 1,
          Concat(
              {Headers({{0, 5}}), std::vector<uint8_t>(0x100 - 16),
               IndirectTable(
                   {{d, 16, kNext, 1}, {buffer, 512, kNext | kWrite, 2}, {status, 1, kWrite, 0}})}),
          Concat({Op(3, 1, 0), Op(3, 2, 0), ack})),
      // Out-of-range sector on a read-only disk, a write to it, short header.
      Blk(2 | kReadOnlyBit, 4,
          {{d, 16, kNext, 1},
           {buffer, 512, kNext | kWrite, 2},
           {status, 1, kWrite, 0},
           {d + 16, 8, kNext, 2}},
          {0, 3}, 2, Headers({{0, 64}, {1, 0}}), ack),
      // A loop: DEVICE_NEEDS_RESET, then a reset and a fresh status walk.
      Blk(1, 2, {{d, 16, kNext, 1}, {buffer, 512, kNext | kWrite, 0}}, {0}, 1, Headers({{0, 0}}),
          Concat({Op(1, kReg(virtio::mmio::kStatus), 0), Op(1, kReg(virtio::mmio::kStatus), 1),
                  Op(1, kReg(virtio::mmio::kStatus), 3), Op(1, kReg(virtio::mmio::kStatus), 11),
                  Op(1, kReg(virtio::mmio::kQueueReady), 1), Op(1, kReg(virtio::mmio::kStatus), 15),
                  Op(0, 0, 0)})),
      // Register traffic of every width, config reads, queue reselection.
      Blk(0, 1, {}, {}, 0, {},
          Concat({Op(5, 0x80, 2), Op(5, 0x81, 3), Op(5, 0x84, 0x1234505), Op(2, 0x40, 0),
                  Op(1, kReg(virtio::mmio::kQueueSel), 1),
                  Op(2, kReg(virtio::mmio::kQueueNumMax), 0),
                  Op(1, kReg(virtio::mmio::kQueueReady), 0), Op(4, 0, 7), Op(0, 0, 0)})),
  };
}

}  // namespace hv::devices::fuzz
