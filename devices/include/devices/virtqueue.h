// The device side of a split virtqueue (virtio 1.2, 2.7): taking descriptor
// chains from the available ring, moving bytes to and from their buffers,
// returning them through the used ring, and deciding when the driver wants
// an interrupt.
//
// Everything here is read from guest memory the guest can change at any
// time, so every value is checked and every walk is bounded:
//
//   - a chain has at most queue-size buffer descriptors, counting those in an
//     indirect table (a loop ends as kChainTooLong);
//   - a `next` must name a descriptor of its table, an avail entry one of the
//     queue, and avail->idx may not run more than queue-size entries ahead;
//   - an indirect table is only followed when VIRTIO_F_INDIRECT_DESC was
//     negotiated, only one level deep, only without NEXT on the descriptor
//     that points at it, and only when its length is a non-zero multiple of
//     16 lying in guest RAM;
//   - each descriptor is read once into a DescChain snapshot, so the guest
//     cannot change a chain while the device works on it;
//   - buffers are reached only through guestmem, ChainReader only reads
//     device-readable buffers and ChainWriter only writes device-writable
//     ones, never past their lengths.
//
// A violation the device cannot pin on one request is a QueueFault: the
// queue stops (every later call returns the same fault) and the transport
// sets DEVICE_NEEDS_RESET. Per-request problems (a bad header, a buffer
// outside guest RAM) are the device model's to report in its request status.
//
// Memory ordering with the driver: avail->idx is read before the ring entry
// and descriptors it publishes (acquire fence), and a used element is
// written before used->idx (release fence); see the fences in the .cc.
//
// Not thread-safe: the owner serializes calls (one device lock).
#ifndef DEVICES_VIRTQUEUE_H_
#define DEVICES_VIRTQUEUE_H_

#include <devices/virtio.h>
#include <guestmem/accessor.h>
#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::devices {

// A guest error that stops a queue (and makes the device need a reset).
enum class QueueFault : uint8_t {
  // Found when the driver enables the queue.
  kBadQueueSize = 1,  // zero, above the device's maximum, or not a power of two
  kMisalignedRing,    // a ring not aligned as 2.7.2 requires
  kRingOutsideRam,    // a ring not wholly inside guest RAM
  // Found while walking the rings.
  kAvailIdxJump,           // avail->idx more than queue-size entries ahead
  kHeadOutOfRange,         // an avail entry naming a descriptor >= queue size
  kNextOutOfRange,         // a `next` outside its descriptor table
  kChainTooLong,           // more buffer descriptors than the queue size (a loop)
  kNestedIndirect,         // INDIRECT inside an indirect table
  kIndirectNotNegotiated,  // INDIRECT without VIRTIO_F_INDIRECT_DESC
  kIndirectWithNext,       // INDIRECT and NEXT on one descriptor
  kBadIndirectTable,       // indirect length 0, not a multiple of 16, or outside guest RAM
  kRingAccess,             // ring memory became unreadable/unwritable (host fault)
  // Found by a device model.
  kUnanswerableRequest,  // no device-writable byte in guest RAM to put a status in
};

// A stable name ("kChainTooLong"...) for logs and test messages.
const char* QueueFaultName(QueueFault fault);

// True if every byte of [gpa, gpa + len) is guest RAM (an empty range is);
// false for holes, addresses past RAM and ranges that wrap.
bool InGuestRam(const guestmem::GuestMemoryAccessor& memory, GuestPhysAddr gpa, uint64_t len);

// One buffer of a chain, as the descriptor named it.
struct DescSegment {
  GuestPhysAddr addr;
  uint32_t len = 0;
  bool device_writable = false;
};

// A snapshot of one descriptor chain. Filled by SplitQueue::Pop.
class DescChain {
 public:
  static constexpr size_t kMaxSegments = 256;

  uint16_t head() const { return head_; }
  std::span<const DescSegment> segments() const { return {segments_.data(), count_}; }
  // Sums of the lengths of the device-readable and -writable segments (no
  // overflow: at most 256 segments of less than 4 GiB).
  uint64_t readable_bytes() const { return readable_bytes_; }
  uint64_t writable_bytes() const { return writable_bytes_; }
  // True if a device-readable segment follows a device-writable one, which
  // 2.7.4.2 forbids the driver.
  bool misordered() const { return misordered_; }
  // Whether any segment (even an empty one) has that direction.
  bool has_device_readable() const { return seen_readable_; }
  bool has_device_writable() const { return seen_writable_; }
  // True if every segment lies in guest RAM.
  bool BuffersInGuestRam(const guestmem::GuestMemoryAccessor& memory) const;
  // The guest address of device-writable byte `index` (counting only
  // device-writable segments), or nullopt if there is no such byte or its
  // address would wrap.
  std::optional<GuestPhysAddr> WritableByteAddr(uint64_t index) const;

 private:
  friend class SplitQueue;
  static_assert(kMaxSegments * 0xffffffffull < (uint64_t{1} << 40));

  void Start(uint16_t head);
  // REQUIRES: count_ < kMaxSegments.
  void Append(const DescSegment& segment);

  std::array<DescSegment, kMaxSegments> segments_{};
  size_t count_ = 0;
  uint16_t head_ = 0;
  uint64_t readable_bytes_ = 0;
  uint64_t writable_bytes_ = 0;
  bool misordered_ = false;
  bool seen_readable_ = false;
  bool seen_writable_ = false;
};

// A cursor over one direction of a chain: the device-readable or the
// device-writable bytes as one stream, optionally a window [offset,
// offset + len) of it.
class ChainCursor {
 public:
  uint64_t remain() const { return remain_; }

 protected:
  ChainCursor(const guestmem::GuestMemoryAccessor& memory, const DescChain& chain, bool writable,
              uint64_t offset, uint64_t len);

  // Calls copy(gpa, byte offset into the caller's buffer, chunk) ->
  // CopyResult for each contiguous piece of the next `total` bytes (at most
  // remain()), advancing by exactly the bytes done.
  template <typename Copy>
  mm::CopyResult Transfer(size_t total, Copy copy);

  const guestmem::GuestMemoryAccessor& memory_;

 private:
  // Moves to the next segment of our direction with bytes left.
  void SkipEmpty();

  const DescChain& chain_;
  bool writable_;
  size_t segment_ = 0;
  uint64_t segment_offset_ = 0;
  uint64_t remain_ = 0;
};

// Reads the device-readable bytes of a chain.
class ChainReader final : public ChainCursor {
 public:
  ChainReader(const guestmem::GuestMemoryAccessor& memory, const DescChain& chain,
              uint64_t offset = 0, uint64_t len = ~uint64_t{0})
      : ChainCursor(memory, chain, /*writable=*/false, offset, len) {}

  // Copies min(remain(), out.size()) bytes into `out` and returns the count,
  // or the error (kOutOfRange for a buffer outside guest RAM, kPageFault for
  // a host fault) with the exact bytes copied; advances by that many.
  mm::CopyResult Read(std::span<std::byte> out);
};

// Writes the device-writable bytes of a chain; never more than they hold.
class ChainWriter final : public ChainCursor {
 public:
  ChainWriter(const guestmem::GuestMemoryAccessor& memory, const DescChain& chain,
              uint64_t offset = 0, uint64_t len = ~uint64_t{0})
      : ChainCursor(memory, chain, /*writable=*/true, offset, len) {}

  // Copies min(remain(), in.size()) bytes of `in`; results as Read.
  mm::CopyResult Write(std::span<const std::byte> in);
};

class SplitQueue {
 public:
  static constexpr uint16_t kMaxSize = DescChain::kMaxSegments;

  // Where the driver put the rings (guest-physical) and how many entries
  // they have.
  struct Layout {
    uint16_t size = 0;
    GuestPhysAddr desc;
    GuestPhysAddr avail;
    GuestPhysAddr used;
  };

  SplitQueue() = default;
  SplitQueue(const SplitQueue&) = delete;
  SplitQueue& operator=(const SplitQueue&) = delete;

  // Starts using the rings of `layout` with indices at zero. `max_size`
  // (<= kMaxSize) is what the device offered. Fails, leaving the queue
  // inactive, with kBadQueueSize, kMisalignedRing or kRingOutsideRam.
  // `memory` must outlive the activation.
  Result<void, QueueFault> Activate(const guestmem::GuestMemoryAccessor& memory,
                                    const Layout& layout, uint16_t max_size, bool indirect,
                                    bool event_idx);
  // Back to inactive, forgetting indices and any fault.
  void Reset();

  bool active() const { return memory_ != nullptr; }
  const Layout& layout() const { return layout_; }
  std::optional<QueueFault> fault() const { return fault_; }

  // Takes the next available chain into `chain`: true if there was one,
  // false if the ring is empty. With EVENT_IDX, an empty ring publishes
  // avail_event (the next index the device wants a notification for) and
  // looks again, so a driver adding a buffer concurrently is not missed.
  // A fault stops the queue.
  // REQUIRES: active().
  Result<bool, QueueFault> Pop(DescChain& chain);

  // True if the avail ring holds an entry Pop would take (without taking it).
  Result<bool, QueueFault> HasAvailable();

  // Returns chain `head` to the driver with `len` bytes written into it.
  // REQUIRES: active(); head came from Pop.
  Result<void, QueueFault> Push(uint16_t head, uint32_t len);

  // Whether the driver wants an interrupt for the entries pushed since the
  // previous call: with EVENT_IDX, if used->idx crossed used_event; without
  // it, unless VIRTQ_AVAIL_F_NO_INTERRUPT is set. False if nothing was
  // pushed. REQUIRES: active().
  Result<bool, QueueFault> ShouldInterrupt();

  // True if entries were pushed since the last ShouldInterrupt.
  bool has_unsignalled_used() const { return used_idx_ != signalled_used_; }
  uint16_t last_avail_idx() const { return last_avail_idx_; }
  uint16_t used_idx() const { return used_idx_; }

 private:
  // Stops the queue; returns `fault` for the caller to return.
  QueueFault Fail(QueueFault fault);
  // Reads avail->idx into avail_idx_; kAvailIdxJump if it is too far ahead.
  Result<void, QueueFault> LoadAvailIdx();
  Result<void, QueueFault> Walk(uint16_t head, DescChain& chain);

  const guestmem::GuestMemoryAccessor* memory_ = nullptr;
  Layout layout_;
  bool indirect_ = false;
  bool event_idx_ = false;
  uint16_t last_avail_idx_ = 0;
  uint16_t avail_idx_ = 0;  // the last avail->idx read
  uint16_t used_idx_ = 0;
  uint16_t signalled_used_ = 0;
  std::optional<QueueFault> fault_;
};

}  // namespace hv::devices

#endif  // DEVICES_VIRTQUEUE_H_
