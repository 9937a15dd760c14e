// Virtio 1.2 vocabulary shared by the transport, the queues and the device
// models: device status bits, feature bits, device types and the layouts the
// guest puts in its memory.
//
// Every guest-visible layout is a Pod with its size and the absence of
// padding checked at compile time. Virtio 1.x structures are little-endian;
// both of our architectures are too, which is asserted below, so the
// structures are read and written as they are.
#ifndef DEVICES_VIRTIO_H_
#define DEVICES_VIRTIO_H_

#include <hv/base/std.h>

namespace hv::devices::virtio {

static_assert(std::endian::native == std::endian::little,
              "virtio layouts are little-endian; a big-endian host needs conversions");

// Device status (2.1).
inline constexpr uint32_t kStatusAcknowledge = 1;
inline constexpr uint32_t kStatusDriver = 2;
inline constexpr uint32_t kStatusDriverOk = 4;
inline constexpr uint32_t kStatusFeaturesOk = 8;
inline constexpr uint32_t kStatusDeviceNeedsReset = 64;
inline constexpr uint32_t kStatusFailed = 128;

// Reserved feature bits (6), as bit numbers.
inline constexpr unsigned kFeatureRingIndirectDesc = 28;
inline constexpr unsigned kFeatureRingEventIdx = 29;
inline constexpr unsigned kFeatureVersion1 = 32;

constexpr uint64_t FeatureBit(unsigned bit) { return uint64_t{1} << bit; }

// Device types (5).
inline constexpr uint32_t kDeviceIdBlock = 2;
inline constexpr uint32_t kDeviceIdConsole = 3;

// Split virtqueue (2.7).
inline constexpr uint16_t kDescFlagNext = 1;
inline constexpr uint16_t kDescFlagWrite = 2;
inline constexpr uint16_t kDescFlagIndirect = 4;
inline constexpr uint16_t kAvailFlagNoInterrupt = 1;
inline constexpr uint16_t kUsedFlagNoNotify = 1;

// Ring alignment the driver must respect (2.7.2 table).
inline constexpr uint64_t kDescAlign = 16;
inline constexpr uint64_t kAvailAlign = 2;
inline constexpr uint64_t kUsedAlign = 4;

struct VirtqDesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(VirtqDesc) == 16);
static_assert(std::has_unique_object_representations_v<VirtqDesc>);

struct VirtqUsedElem {
  uint32_t id;
  uint32_t len;
};
static_assert(sizeof(VirtqUsedElem) == 8);
static_assert(std::has_unique_object_representations_v<VirtqUsedElem>);

// Byte offsets inside the rings of a queue of `size` entries:
//   avail: flags u16, idx u16, ring[size] u16, used_event u16
//   used:  flags u16, idx u16, ring[size] VirtqUsedElem, avail_event u16
inline constexpr uint64_t kRingFlagsOffset = 0;
inline constexpr uint64_t kRingIdxOffset = 2;
inline constexpr uint64_t kRingEntriesOffset = 4;
constexpr uint64_t AvailRingBytes(uint16_t size, bool event_idx) {
  return kRingEntriesOffset + 2 * uint64_t{size} + (event_idx ? 2 : 0);
}
constexpr uint64_t UsedRingBytes(uint16_t size, bool event_idx) {
  return kRingEntriesOffset + sizeof(VirtqUsedElem) * uint64_t{size} + (event_idx ? 2 : 0);
}
constexpr uint64_t DescTableBytes(uint16_t size) { return sizeof(VirtqDesc) * uint64_t{size}; }
constexpr uint64_t UsedEventOffset(uint16_t size) {
  return kRingEntriesOffset + 2 * uint64_t{size};
}
constexpr uint64_t AvailEventOffset(uint16_t size) {
  return kRingEntriesOffset + sizeof(VirtqUsedElem) * uint64_t{size};
}

// True if an index moving from `old_idx` to `new_idx` crossed `event_idx`
// (2.7.7.2 / 2.7.10: vring_need_event), all modulo 2^16.
constexpr bool NeedEvent(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event_idx - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

// Block device (5.2).
namespace blk {

inline constexpr unsigned kFeatureSegMax = 2;
inline constexpr unsigned kFeatureRo = 5;
inline constexpr unsigned kFeatureBlkSize = 6;
inline constexpr unsigned kFeatureFlush = 9;

inline constexpr uint32_t kTypeIn = 0;
inline constexpr uint32_t kTypeOut = 1;
inline constexpr uint32_t kTypeFlush = 4;
inline constexpr uint32_t kTypeGetId = 8;

inline constexpr uint8_t kStatusOk = 0;
inline constexpr uint8_t kStatusIoErr = 1;
inline constexpr uint8_t kStatusUnsupp = 2;

inline constexpr uint32_t kSectorSize = 512;
inline constexpr size_t kIdBytes = 20;

// The device-readable header every request starts with.
struct ReqHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
static_assert(sizeof(ReqHeader) == 16);
static_assert(std::has_unique_object_representations_v<ReqHeader>);

// struct virtio_blk_config up to the write-zeroes fields.
struct Config {
  uint64_t capacity;  // in 512-byte sectors
  uint32_t size_max;
  uint32_t seg_max;
  uint16_t geometry_cylinders;
  uint8_t geometry_heads;
  uint8_t geometry_sectors;
  uint32_t blk_size;
  uint8_t physical_block_exp;
  uint8_t alignment_offset;
  uint16_t min_io_size;
  uint32_t opt_io_size;
  uint8_t writeback;
  uint8_t unused0;
  uint16_t num_queues;
  uint32_t max_discard_sectors;
  uint32_t max_discard_seg;
  uint32_t discard_sector_alignment;
  uint32_t max_write_zeroes_sectors;
  uint32_t max_write_zeroes_seg;
  uint8_t write_zeroes_may_unmap;
  uint8_t unused1[7];  // three in the spec; four more pad to the 8-byte alignment
};
static_assert(sizeof(Config) == 0x40);
static_assert(offsetof(Config, blk_size) == 0x14);
static_assert(offsetof(Config, num_queues) == 0x22);
static_assert(std::has_unique_object_representations_v<Config>);

}  // namespace blk

// Console device (5.3).
namespace console {

inline constexpr unsigned kFeatureSize = 0;
inline constexpr unsigned kFeatureMultiport = 1;
inline constexpr unsigned kFeatureEmergWrite = 2;

// Port 0's queues (no multiport).
inline constexpr size_t kReceiveQueue = 0;
inline constexpr size_t kTransmitQueue = 1;

struct Config {
  uint16_t cols;
  uint16_t rows;
  uint32_t max_nr_ports;
  uint32_t emerg_wr;
};
static_assert(sizeof(Config) == 12);
static_assert(offsetof(Config, emerg_wr) == 8);
static_assert(std::has_unique_object_representations_v<Config>);

}  // namespace console

}  // namespace hv::devices::virtio

#endif  // DEVICES_VIRTIO_H_
