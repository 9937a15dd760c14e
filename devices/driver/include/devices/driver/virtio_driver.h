// The driver side of virtio-mmio and split virtqueues, as small as it can be:
// what a guest's virtio driver does, over a GuestMemoryAccessor (for the
// rings and buffers) and an MmioDevice (for the registers).
//
// Tests, fuzzers, the benchmark and the embedding example use it to play the
// guest against the device models in the same process; it is freestanding,
// so a bare-metal guest can use it too. Besides well-formed use (Submit,
// PopUsed) it gives raw access to every ring field, so tests can build the
// malformed queues a hostile guest would.
//
// Everything returns the errors of the accessor or the registers; a device
// that does not answer is kTimedOut.
#ifndef DEVICES_DRIVER_VIRTIO_DRIVER_H_
#define DEVICES_DRIVER_VIRTIO_DRIVER_H_

#include <devices/bus.h>
#include <devices/virtio.h>
#include <devices/virtio_mmio.h>
#include <devices/virtqueue.h>
#include <guestmem/accessor.h>
#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::devices::driver {

// Rings for `size` entries from `base` (16-byte aligned): the descriptor
// table, then the avail ring, then the used ring at the next 4-byte
// boundary, all with the event-index fields. RingBytes is the total.
SplitQueue::Layout LayoutRings(GuestPhysAddr base, uint16_t size);
uint64_t RingBytes(uint16_t size);

// One buffer of a chain the driver builds.
struct Buffer {
  GuestPhysAddr addr;
  uint32_t len = 0;
  bool device_writable = false;
};

// A split virtqueue seen from the driver.
class DriverQueue {
 public:
  static constexpr uint16_t kMaxSize = SplitQueue::kMaxSize;

  // Zeroes the rings at `layout`. kInvalidArgs for a size of 0, above
  // kMaxSize or not a power of two; accessor errors otherwise.
  static Result<DriverQueue> Create(const guestmem::GuestMemoryAccessor& memory,
                                    const SplitQueue::Layout& layout);

  const SplitQueue::Layout& layout() const { return layout_; }
  uint16_t size() const { return layout_.size; }
  const guestmem::GuestMemoryAccessor& memory() const { return *memory_; }

  // Well-formed use: takes free descriptors for `buffers`, links them, puts
  // the head in the avail ring and publishes it. kNoMemory if too few
  // descriptors are free; kInvalidArgs for an empty chain.
  Result<uint16_t> Submit(std::span<const Buffer> buffers);
  // The same chain as one indirect descriptor: the table is written at
  // `table` (16 bytes per buffer, caller-owned guest memory).
  Result<uint16_t> SubmitIndirect(std::span<const Buffer> buffers, GuestPhysAddr table);
  // The next used element the device returned, if any; frees its
  // descriptors (for chains made by Submit/SubmitIndirect).
  Result<std::optional<virtio::VirtqUsedElem>> PopUsed();
  size_t free_descriptors() const { return free_count_; }
  // The head the next Submit/SubmitIndirect will use, if any is free.
  std::optional<uint16_t> next_head() const {
    return free_count_ == 0 ? std::nullopt : std::optional<uint16_t>(free_head_);
  }

  // Raw access, for building what a well-behaved driver would not.
  Result<void> WriteDesc(uint16_t index, const virtio::VirtqDesc& desc);
  // Writes `head` into avail slot avail_idx % size and advances avail->idx
  // by one (the descriptors must already be in place).
  Result<void> Publish(uint16_t head);
  Result<void> WriteAvailSlot(uint16_t slot, uint16_t head);
  Result<void> SetAvailIdx(uint16_t idx);
  uint16_t avail_idx() const { return avail_idx_; }
  Result<void> SetAvailFlags(uint16_t flags);
  Result<void> SetUsedEvent(uint16_t idx);
  Result<uint16_t> ReadUsedIdx() const;
  Result<uint16_t> ReadAvailEvent() const;
  Result<virtio::VirtqUsedElem> ReadUsedSlot(uint16_t slot) const;
  uint16_t last_used_idx() const { return last_used_; }

 private:
  DriverQueue(const guestmem::GuestMemoryAccessor& memory, const SplitQueue::Layout& layout);

  Result<uint16_t> AllocChain(size_t count);
  void FreeChain(uint16_t head);

  const guestmem::GuestMemoryAccessor* memory_;
  SplitQueue::Layout layout_;
  uint16_t avail_idx_ = 0;
  uint16_t last_used_ = 0;
  // Free list and chain links, kept on our side (the guest-memory copies are
  // the device's to read, not ours to trust).
  std::array<uint16_t, kMaxSize> next_{};
  std::array<uint16_t, kMaxSize> chain_len_{};
  uint16_t free_head_ = 0;
  size_t free_count_ = 0;
};

// The registers of one virtio-mmio device.
class VirtioMmioDriver {
 public:
  explicit VirtioMmioDriver(MmioDevice& regs) : regs_(&regs) {}

  Result<uint32_t> ReadReg(uint64_t offset);
  Result<void> WriteReg(uint64_t offset, uint32_t value);

  // Resets the device, checks magic, version 2 and `device_id` (kNotFound
  // otherwise), sets ACKNOWLEDGE and DRIVER, accepts `wanted` & offered plus
  // VERSION_1 and sets FEATURES_OK (kUnsupported if the device refuses).
  // Returns the negotiated features.
  Result<uint64_t> Initialize(uint32_t device_id, uint64_t wanted);
  // Programs and enables queue `index` (kOutOfRange if the device's maximum
  // is smaller than layout.size or the queue does not exist).
  Result<void> EnableQueue(uint32_t index, const SplitQueue::Layout& layout);
  Result<void> SetDriverOk();
  Result<void> Notify(uint32_t queue) { return WriteReg(virtio::mmio::kQueueNotify, queue); }
  Result<uint32_t> Status() { return ReadReg(virtio::mmio::kStatus); }
  // Reads InterruptStatus and acknowledges what it read.
  Result<uint32_t> TakeInterrupts();
  Result<uint64_t> ReadConfig(uint64_t offset, size_t size);

 private:
  MmioDevice* regs_;
};

// Synchronous virtio-blk requests over a DriverQueue: header, status and
// indirect table live in `scratch` (kSlotBytes per descriptor of the queue,
// indexed by head), data in caller buffers. Each call submits one request, notifies, and takes its
// used element, returning the status byte the device wrote.
class VirtioBlkDriver {
 public:
  VirtioBlkDriver(VirtioMmioDriver& mmio, DriverQueue& queue, GuestPhysAddr scratch,
                  uint32_t queue_index = 0)
      : mmio_(mmio), queue_(queue), scratch_(scratch), queue_index_(queue_index) {}

  static constexpr uint64_t kSlotBytes = 128;
  static uint64_t ScratchBytes(uint16_t queue_size) { return kSlotBytes * queue_size; }

  Result<uint8_t> Read(uint64_t sector, GuestPhysAddr data, uint32_t len);
  Result<uint8_t> Write(uint64_t sector, GuestPhysAddr data, uint32_t len);
  Result<uint8_t> Flush();
  Result<uint8_t> GetId(GuestPhysAddr data, uint32_t len = virtio::blk::kIdBytes);

  // The asynchronous halves: Submit queues a request without notifying and
  // returns its head; Complete takes one used element and returns its head,
  // status and used length (kTimedOut if none is there).
  struct Completion {
    uint16_t head;
    uint8_t status;
    uint32_t len;
  };
  Result<uint16_t> Submit(uint32_t type, uint64_t sector, GuestPhysAddr data, uint32_t len,
                          bool indirect = false);
  Result<Completion> Complete();
  // The guest address of the status byte of the request with `head`.
  GuestPhysAddr StatusAddr(uint16_t head) const {
    return GuestPhysAddr(scratch_.value() + kSlotBytes * head + 16);
  }

 private:
  Result<uint8_t> Run(uint32_t type, uint64_t sector, GuestPhysAddr data, uint32_t len);

  VirtioMmioDriver& mmio_;
  DriverQueue& queue_;
  GuestPhysAddr scratch_;
  uint32_t queue_index_;
};

}  // namespace hv::devices::driver

#endif  // DEVICES_DRIVER_VIRTIO_DRIVER_H_
