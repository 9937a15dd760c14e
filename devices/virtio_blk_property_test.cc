// Random virtio-blk requests, valid and invalid, against a reference model.
//
// Each request is generated as a list of buffers (header, data, status, in
// any split, sometimes misdirected, misordered, truncated, outside guest RAM
// or without a status byte) and submitted directly or through an indirect
// table. The model decides from the buffer list alone, following the rules
// in virtio_blk.h, whether the device must answer (with which status, used
// length, disk contents and guest data) or ask for a reset; the device must
// agree exactly, and change no guest byte outside the device-writable
// buffers and its used ring.
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_blk.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "devices/testing/virtio_rig.h"

namespace hv::devices {
namespace {

namespace blk = virtio::blk;
using driver::Buffer;
using testing::BlkRig;
using testing::BlkRigOptions;
using Range = AddrRange<GuestPhysAddr>;

constexpr uint64_t kCapacity = 256;  // sectors
constexpr uint16_t kQueueSize = 64;
constexpr char kId[] = "property-disk-id-long";  // 21 chars: truncated to 20

// The reference model's idea of guest RAM: the rig's two regions.
bool ModelInRam(uint64_t addr, uint64_t len) {
  if (len == 0) return true;
  const auto inside = [&](uint64_t base, uint64_t size) {
    return addr >= base && addr - base <= size && len <= size - (addr - base);
  };
  return inside(testing::kRamBase, testing::kRamSize) ||
         inside(testing::kRam2Base, testing::kRam2Size);
}

struct Expected {
  bool needs_reset = false;
  uint8_t status = 0;
  uint32_t used_len = 0;
  // For an answered request: the device-writable bytes as they must read
  // afterwards (data then status), or nullopt where they may be anything
  // (never: the model knows every byte).
  std::vector<std::byte> writable_after;
};

// Where the status byte of `buffers` is, if any: the last device-writable
// byte.
std::optional<uint64_t> StatusAddr(const std::vector<Buffer>& buffers) {
  for (auto it = buffers.rbegin(); it != buffers.rend(); ++it) {
    if (it->device_writable && it->len > 0) return it->addr.value() + it->len - 1;
  }
  return std::nullopt;
}

// The reference model. `readable` are the device-readable bytes the guest
// supplied (in order), `writable_before` the device-writable bytes before the
// request; `disk` is updated for a successful write.
Expected Model(const std::vector<Buffer>& buffers, const std::vector<std::byte>& readable,
               const std::vector<std::byte>& writable_before, std::vector<std::byte>& disk) {
  Expected e;
  e.writable_after = writable_before;
  const std::optional<uint64_t> status = StatusAddr(buffers);
  if (!status.has_value() || !ModelInRam(*status, 1)) {
    e.needs_reset = true;
    return e;
  }
  const auto answer = [&](uint8_t s, const std::vector<std::byte>& data) {
    e.status = s;
    e.used_len = static_cast<uint32_t>(data.size() + 1);
    std::copy(data.begin(), data.end(), e.writable_after.begin());
    e.writable_after.back() = std::byte{s};
    return e;
  };
  bool seen_writable = false;
  bool misordered = false;
  bool all_in_ram = true;
  for (const Buffer& b : buffers) {
    if (b.device_writable) seen_writable = true;
    if (!b.device_writable && seen_writable) misordered = true;
    if (!ModelInRam(b.addr.value(), b.len)) all_in_ram = false;
  }
  if (misordered || !all_in_ram || readable.size() < 16) return answer(blk::kStatusIoErr, {});
  blk::ReqHeader header;
  // SAFETY: readable holds at least sizeof(header) bytes (checked above);
  // ReqHeader is a Pod.
  std::memcpy(&header, readable.data(), sizeof(header));
  const uint64_t data_out = readable.size() - 16;
  const uint64_t data_in = writable_before.size() - 1;
  const auto in_range = [&](uint64_t bytes) {
    return bytes % 512 == 0 && header.sector <= kCapacity &&
           bytes / 512 <= kCapacity - header.sector;
  };
  switch (header.type) {
    case blk::kTypeIn: {
      if (data_out != 0 || !in_range(data_in)) return answer(blk::kStatusIoErr, {});
      const auto from = disk.begin() + static_cast<ptrdiff_t>(header.sector * 512);
      return answer(blk::kStatusOk,
                    std::vector<std::byte>(from, from + static_cast<ptrdiff_t>(data_in)));
    }
    case blk::kTypeOut:
      if (data_in != 0 || !in_range(data_out)) return answer(blk::kStatusIoErr, {});
      std::copy(readable.begin() + 16, readable.end(),
                disk.begin() + static_cast<ptrdiff_t>(header.sector * 512));
      return answer(blk::kStatusOk, {});
    case blk::kTypeFlush:
      if (data_in != 0 || data_out != 0) return answer(blk::kStatusIoErr, {});
      return answer(blk::kStatusOk, {});
    case blk::kTypeGetId: {
      if (data_out != 0 || data_in == 0) return answer(blk::kStatusIoErr, {});
      std::vector<std::byte> id(std::min<uint64_t>(20, data_in));
      // SAFETY: id.size() <= 20 < sizeof(kId).
      std::memcpy(id.data(), kId, id.size());
      return answer(blk::kStatusOk, id);
    }
    default:
      return answer(blk::kStatusUnsupp, {});
  }
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }
  uint64_t Next() { return rng_(); }

  // A fresh, non-overlapping place in the data area for `len` bytes.
  GuestPhysAddr Place(uint64_t len) {
    const GuestPhysAddr at(testing::kDataBase + next_);
    next_ += (len + 63) & ~uint64_t{63};
    HV_CHECK(next_ <= testing::kDataSize, "property test ran out of data area");
    return at;
  }
  void ResetPlaces() { next_ = 0; }

 private:
  std::mt19937_64 rng_;
  uint64_t next_ = 0;
};

// The device-writable bytes of `buffers` in order; bytes outside guest RAM
// read as zero.
std::vector<std::byte> WritableBytes(const testing::GuestRam& ram,
                                     const std::vector<Buffer>& buffers) {
  std::vector<std::byte> out;
  for (const Buffer& b : buffers) {
    if (!b.device_writable) continue;
    if (ModelInRam(b.addr.value(), b.len)) {
      const std::vector<std::byte> bytes = ram.Read(b.addr, b.len);
      out.insert(out.end(), bytes.begin(), bytes.end());
      continue;
    }
    for (uint64_t i = 0; i < b.len; ++i) {
      const uint64_t addr = b.addr.value() + i;
      out.push_back(ModelInRam(addr, 1) ? ram.Read(GuestPhysAddr(addr), 1)[0] : std::byte{0});
    }
  }
  return out;
}

struct Request {
  std::vector<Buffer> buffers;
  std::vector<std::byte> readable;  // what the device-readable buffers hold
  bool indirect = false;
};

// Splits [addr, addr + len) into 1..3 buffers.
void AddSplit(Generator& g, std::vector<Buffer>& out, GuestPhysAddr addr, uint32_t len,
              bool writable) {
  const int pieces = len < 3 ? 1 : 1 + g.Pick(3);
  uint32_t done = 0;
  for (int i = 0; i < pieces; ++i) {
    const uint32_t left = len - done;
    const uint32_t take = i + 1 == pieces ? left : 1 + static_cast<uint32_t>(g.Next() % left);
    if (take == 0) break;
    out.push_back(Buffer{GuestPhysAddr(addr.value() + done), take, writable});
    done += take;
    if (done == len) break;
  }
}

Request Generate(Generator& g, testing::GuestRam& ram) {
  g.ResetPlaces();
  Request r;
  const int kind = g.Pick(100);
  const uint32_t type = kind < 40   ? blk::kTypeIn
                        : kind < 75 ? blk::kTypeOut
                        : kind < 83 ? blk::kTypeFlush
                        : kind < 91 ? blk::kTypeGetId
                                    : static_cast<uint32_t>(g.Next());
  uint32_t data_len = 512 * static_cast<uint32_t>(g.Pick(9));
  if (type == blk::kTypeFlush) data_len = g.Chance(80) ? 0 : 512;
  if (type == blk::kTypeGetId) data_len = g.Chance(80) ? 20 : static_cast<uint32_t>(g.Pick(40));
  if (g.Chance(8)) data_len = static_cast<uint32_t>(g.Pick(5000));
  const uint64_t sectors = data_len / 512;
  uint64_t sector = sectors <= kCapacity ? g.Next() % (kCapacity - sectors + 1) : 0;
  if (g.Chance(10)) {
    const uint64_t wild[] = {kCapacity - sectors + 1 + static_cast<uint64_t>(g.Pick(4)), kCapacity,
                             ~uint64_t{0}, uint64_t{1} << 55, g.Next()};
    sector = wild[g.Pick(5)];
  }

  // Header (readable, maybe short, maybe misdirected).
  blk::ReqHeader header{type, 0, sector};
  const GuestPhysAddr header_at = g.Place(16);
  ram.Write(header_at, mm::AsBytes(header));
  uint32_t header_len = g.Chance(4) ? static_cast<uint32_t>(g.Pick(16)) : 16;
  AddSplit(g, r.buffers, header_at, header_len, /*writable=*/g.Chance(3));

  // Data, in the direction of the type (or not).
  bool data_writable = type != blk::kTypeOut;
  if (g.Chance(8)) data_writable = !data_writable;
  if (data_len > 0) {
    // One byte more, in case the status byte joins the last data buffer.
    GuestPhysAddr data_at = g.Place(data_len + 1);
    if (g.Chance(4)) {
      const uint64_t bad[] = {testing::kHoleBase, testing::kRamBase + testing::kRamSize - 256,
                              ~uint64_t{0} - 100, testing::kRam2Base - 512};
      data_at = GuestPhysAddr(bad[g.Pick(4)]);
    } else {
      std::vector<std::byte> fill(data_len);
      for (auto& b : fill) b = static_cast<std::byte>(g.Next());
      ram.Write(data_at, fill);
    }
    AddSplit(g, r.buffers, data_at, data_len, data_writable);
  }

  // The status byte: its own descriptor, or sharing the last data one, or
  // missing, or outside RAM.
  const int status_kind = g.Pick(100);
  if (status_kind < 80 || (status_kind < 90 && !(data_len > 0 && data_writable))) {
    r.buffers.push_back(Buffer{g.Place(1), 1, true});
  } else if (status_kind < 90) {
    r.buffers.back().len += 1;
  } else if (status_kind < 95) {
    r.buffers.push_back(Buffer{GuestPhysAddr(testing::kHoleBase + 4096), 1, true});
  }
  // Misordered: move a readable buffer to the end.
  if (g.Chance(4) && r.buffers.size() > 1 && !r.buffers.front().device_writable) {
    std::rotate(r.buffers.begin(), r.buffers.begin() + 1, r.buffers.end());
  }
  r.indirect = g.Chance(30);
  if (r.buffers.empty()) r.buffers.push_back(Buffer{header_at, 0, false});

  for (const Buffer& b : r.buffers) {
    if (b.device_writable || !ModelInRam(b.addr.value(), b.len)) continue;
    const std::vector<std::byte> bytes = ram.Read(b.addr, b.len);
    r.readable.insert(r.readable.end(), bytes.begin(), bytes.end());
  }
  return r;
}

TEST(VirtioBlkProperty, RandomRequestsMatchTheReferenceModel) {
  std::unique_ptr<BlkRig> rig =
      BlkRig::Create(BlkRigOptions{.queue_size = kQueueSize, .disk_sectors = kCapacity, .id = kId});
  std::vector<std::byte> model_disk = rig->disk;
  Generator g(20240531);
  int answered = 0, resets = 0, ok = 0;
  constexpr int kIterations = 3000;
  std::vector<std::byte> before, after;
  for (int i = 0; i < kIterations; ++i) {
    Request r = Generate(g, rig->ram);
    SCOPED_TRACE(::testing::Message() << "request " << i << " with " << r.buffers.size()
                                      << " buffers" << (r.indirect ? " (indirect)" : ""));
    const std::vector<std::byte> writable_before = WritableBytes(rig->ram, r.buffers);
    // The device may write its writable buffers that are in RAM, and the
    // status byte even when the rest of its buffer is not.
    std::vector<Range> allowed;
    for (const Buffer& b : r.buffers) {
      if (b.device_writable && ModelInRam(b.addr.value(), b.len)) {
        allowed.push_back(*Range::Create(b.addr, b.len));
      }
    }
    if (const std::optional<uint64_t> status = StatusAddr(r.buffers);
        status.has_value() && ModelInRam(*status, 1)) {
      allowed.push_back(*Range::Create(GuestPhysAddr(*status), 1));
    }
    const Expected expected = Model(r.buffers, r.readable, writable_before, model_disk);

    const GuestPhysAddr table = g.Place(16 * r.buffers.size());
    rig->ram.SnapshotInto(before);
    Result<uint16_t> head =
        r.indirect ? rig->queue->SubmitIndirect(r.buffers, table) : rig->queue->Submit(r.buffers);
    ASSERT_TRUE(head.ok());
    allowed.push_back(*Range::Create(rig->layout().desc, virtio::DescTableBytes(kQueueSize)));
    allowed.push_back(
        *Range::Create(rig->layout().avail, virtio::AvailRingBytes(kQueueSize, true)));
    allowed.push_back(*Range::Create(rig->layout().used, virtio::UsedRingBytes(kQueueSize, true)));
    if (r.indirect) allowed.push_back(*Range::Create(table, 16 * r.buffers.size()));
    ASSERT_TRUE(rig->mmio->Notify(0).ok());
    rig->ram.SnapshotInto(after);
    const std::vector<Range> stray = rig->ram.ChangesOutside(before, after, allowed);
    ASSERT_TRUE(stray.empty()) << testing::Describe(stray);
    ASSERT_EQ(rig->disk, model_disk);

    const std::optional<virtio::VirtqUsedElem> used = rig->queue->PopUsed().value();
    const bool needs_reset = (rig->transport->status() & virtio::kStatusDeviceNeedsReset) != 0;
    ASSERT_EQ(needs_reset, expected.needs_reset);
    if (expected.needs_reset) {
      ASSERT_FALSE(used.has_value());
      ASSERT_EQ(rig->transport->needs_reset_reason(), QueueFault::kUnanswerableRequest);
      rig->Start();
      ++resets;
      continue;
    }
    ASSERT_TRUE(used.has_value());
    ASSERT_EQ(used->id, *head);
    ASSERT_EQ(used->len, expected.used_len);
    const std::vector<std::byte> writable_after = WritableBytes(rig->ram, r.buffers);
    ASSERT_EQ(writable_after.back(), std::byte{expected.status});
    ASSERT_EQ(writable_after, expected.writable_after);
    ++answered;
    ok += expected.status == blk::kStatusOk ? 1 : 0;
  }
  // The generator must exercise every outcome.
  EXPECT_GT(ok, kIterations / 4);
  EXPECT_GT(answered - ok, kIterations / 10);
  EXPECT_GT(resets, kIterations / 50);
  EXPECT_EQ(rig->blk->stats().ok, static_cast<uint64_t>(ok));
}

}  // namespace
}  // namespace hv::devices
