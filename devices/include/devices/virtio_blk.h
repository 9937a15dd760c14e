// virtio-blk (virtio 1.2, 5.2) over a BlockBackend: one request queue;
// read, write, flush and get-id; capacity, seg_max and blk_size in the
// configuration space; VIRTIO_BLK_F_RO for a read-only backend; indirect
// descriptors and event index.
//
// A request is a chain whose device-readable bytes are the 16-byte header
// and, for a write, the data, and whose device-writable bytes are, for a
// read or get-id, the data and then one status byte (the last writable
// byte). Descriptor boundaries do not matter (any layout). Every request the
// device can answer is answered in the used ring, with its status byte set
// and the used length = data bytes written + 1. Checks, in this order:
//
//   1. The chain walk (SplitQueue); a QueueFault sets DEVICE_NEEDS_RESET.
//   2. No writable byte, or the last one outside guest RAM: nowhere to put
//      the status, so the request cannot be answered: DEVICE_NEEDS_RESET
//      (kUnanswerableRequest), nothing returned.
//   3. IOERR, with no data moved, if: a readable segment follows a writable
//      one; any segment is not wholly in guest RAM; fewer than 16 readable
//      bytes; the header cannot be read.
//   4. By type:
//      IN      IOERR if readable bytes follow the header, the data length is
//              not a multiple of 512, or the sectors run past the capacity
//              (overflow-checked).
//      OUT     IOERR as IN with the directions swapped (writable bytes besides
//              the status), and on a read-only disk (no data written).
//      FLUSH   UNSUPP unless VIRTIO_BLK_F_FLUSH was negotiated; IOERR if it
//              carries data.
//      GET_ID  IOERR if readable bytes follow the header or there is no data
//              buffer; writes min(20, data length) bytes of the id.
//      other   UNSUPP.
//   5. A backend error, or a host-level fault on a buffer, during the
//      transfer: IOERR (with the data bytes written so far counted).
#ifndef DEVICES_VIRTIO_BLK_H_
#define DEVICES_VIRTIO_BLK_H_

#include <devices/block_backend.h>
#include <devices/virtio.h>
#include <devices/virtio_mmio.h>
#include <devices/virtqueue.h>
#include <hv/base/std.h>

namespace hv::devices {

class VirtioBlk final : public VirtioDevice {
 public:
  // Requests handled per call of ProcessQueue before yielding to Poll.
  static constexpr size_t kBudget = 4 * SplitQueue::kMaxSize;

  struct Stats {
    uint64_t ok = 0;
    uint64_t ioerr = 0;
    uint64_t unsupp = 0;
  };

  // `backend` must outlive the device. `id` (at most 20 bytes are used) is
  // what GET_ID returns, NUL-padded.
  explicit VirtioBlk(BlockBackend& backend, std::string_view id = {});

  uint32_t device_id() const override { return virtio::kDeviceIdBlock; }
  uint64_t device_features() const override;
  size_t queue_count() const override { return 1; }
  std::span<const std::byte> config() const override;
  bool ProcessQueue(size_t queue) override;
  void Reset() override {}

  const Stats& stats() const { return stats_; }

 private:
  struct Outcome {
    uint8_t status;
    uint64_t data_written;
  };

  Outcome Execute(const DescChain& chain);
  Outcome ExecuteIn(const DescChain& chain, uint64_t sector);
  Outcome ExecuteOut(const DescChain& chain, uint64_t sector);
  Outcome ExecuteGetId(const DescChain& chain);
  bool SectorsInRange(uint64_t sector, uint64_t bytes) const;

  BlockBackend& backend_;
  virtio::blk::Config config_{};
  std::array<std::byte, virtio::blk::kIdBytes> id_{};
  DescChain chain_;
  std::array<std::byte, 4096> bounce_{};
  Stats stats_;
};

}  // namespace hv::devices

#endif  // DEVICES_VIRTIO_BLK_H_
