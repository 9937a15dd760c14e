// The virtio-mmio transport, version 2 (virtio 1.2, 4.2), and the interface
// of the device models behind it.
//
// A VMM wires a device like this:
//
//   MemoryBlockBackend disk = MemoryBlockBackend::Create(image).value();
//   VirtioBlk blk(disk);
//   VirtioMmioTransport blk_mmio(guest_memory, blk, IrqLine(&plic, 8));
//   bus.Register(GuestPhysAddr(0x10008000), VirtioMmioTransport::kRegionSize, &blk_mmio);
//
// and its exit handler forwards trapped loads and stores to the bus. The
// transport implements the register file: identification, feature
// negotiation (VIRTIO_F_VERSION_1 required), the device status state machine,
// queue selection and setup, notifications, interrupt status and
// acknowledgement, the configuration space and reset. Its interrupt line is
// high while InterruptStatus is non-zero.
//
// Guest mistakes never panic:
//   - control registers take only aligned 32-bit accesses, the configuration
//     space aligned 1/2/4/8-byte ones inside it; anything else, a write to a
//     read-only register or a read of a write-only one is kInvalidArgs (the
//     hypervisor's policy decides what the guest sees);
//   - status writes that clear a bit, skip a step (DRIVER before ACKNOWLEDGE,
//     FEATURES_OK before DRIVER, DRIVER_OK before FEATURES_OK) or set unknown
//     bits are ignored; FEATURES_OK is refused (reads back clear) for
//     features the device did not offer or without VERSION_1;
//   - queue registers are ignored while the queue is enabled or for a queue
//     that does not exist; feature writes after FEATURES_OK are ignored;
//   - enabling a queue with a bad size (0, above QueueNumMax, not a power of
//     two), misaligned rings or rings outside guest RAM, and any QueueFault
//     while processing, set DEVICE_NEEDS_RESET and raise the configuration
//     change interrupt; nothing is processed until the driver resets;
//   - notifications before DRIVER_OK, for a disabled or absent queue, or
//     after FAILED/DEVICE_NEEDS_RESET are ignored (and counted).
//
// Not thread-safe: the VMM serializes calls into one transport and its
// device (register accesses, Poll, the device's host-side input).
#ifndef DEVICES_VIRTIO_MMIO_H_
#define DEVICES_VIRTIO_MMIO_H_

#include <devices/bus.h>
#include <devices/virtio.h>
#include <devices/virtqueue.h>
#include <guestmem/accessor.h>
#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::devices {

namespace virtio::mmio {

// Register offsets (4.2.2).
inline constexpr uint64_t kMagicValue = 0x000;
inline constexpr uint64_t kVersion = 0x004;
inline constexpr uint64_t kDeviceId = 0x008;
inline constexpr uint64_t kVendorId = 0x00c;
inline constexpr uint64_t kDeviceFeatures = 0x010;
inline constexpr uint64_t kDeviceFeaturesSel = 0x014;
inline constexpr uint64_t kDriverFeatures = 0x020;
inline constexpr uint64_t kDriverFeaturesSel = 0x024;
inline constexpr uint64_t kQueueSel = 0x030;
inline constexpr uint64_t kQueueNumMax = 0x034;
inline constexpr uint64_t kQueueNum = 0x038;
inline constexpr uint64_t kQueueReady = 0x044;
inline constexpr uint64_t kQueueNotify = 0x050;
inline constexpr uint64_t kInterruptStatus = 0x060;
inline constexpr uint64_t kInterruptAck = 0x064;
inline constexpr uint64_t kStatus = 0x070;
inline constexpr uint64_t kQueueDescLow = 0x080;
inline constexpr uint64_t kQueueDescHigh = 0x084;
inline constexpr uint64_t kQueueDriverLow = 0x090;
inline constexpr uint64_t kQueueDriverHigh = 0x094;
inline constexpr uint64_t kQueueDeviceLow = 0x0a0;
inline constexpr uint64_t kQueueDeviceHigh = 0x0a4;
inline constexpr uint64_t kShmSel = 0x0ac;
inline constexpr uint64_t kShmLenLow = 0x0b0;
inline constexpr uint64_t kShmLenHigh = 0x0b4;
inline constexpr uint64_t kShmBaseLow = 0x0b8;
inline constexpr uint64_t kShmBaseHigh = 0x0bc;
inline constexpr uint64_t kConfigGeneration = 0x0fc;
inline constexpr uint64_t kConfig = 0x100;

inline constexpr uint32_t kMagic = 0x74726976;  // "virt"
inline constexpr uint32_t kVersion2 = 2;

// InterruptStatus bits.
inline constexpr uint32_t kInterruptUsedBuffer = 1;
inline constexpr uint32_t kInterruptConfigChange = 2;

}  // namespace virtio::mmio

class VirtioMmioTransport;

// A virtio device model: its identity, features, configuration space and
// what it does with its queues. It reaches guest memory, its queues and the
// interrupt through the transport it is bound to.
class VirtioDevice {
 public:
  VirtioDevice() = default;
  VirtioDevice(const VirtioDevice&) = delete;
  VirtioDevice& operator=(const VirtioDevice&) = delete;
  virtual ~VirtioDevice() = default;

  virtual uint32_t device_id() const = 0;
  // Offered features: device-specific bits and the ring features it takes
  // (the transport adds VIRTIO_F_VERSION_1).
  virtual uint64_t device_features() const = 0;
  // Number of queues, at most VirtioMmioTransport::kMaxQueues.
  virtual size_t queue_count() const = 0;
  // QueueNumMax of every queue, at most SplitQueue::kMaxSize.
  virtual uint16_t queue_max_size() const { return SplitQueue::kMaxSize; }
  // The configuration space, read by the transport.
  virtual std::span<const std::byte> config() const = 0;
  // A driver's write into the configuration space (inside config(),
  // aligned). Default: ignored (read-only fields).
  virtual void WriteConfig(uint64_t /*offset*/, size_t /*size*/, uint64_t /*value*/) {}
  // The driver's features when it sets FEATURES_OK (already a subset of the
  // offer, with VERSION_1); false refuses them.
  virtual bool AcceptFeatures(uint64_t /*features*/) { return true; }
  // Handles the available buffers of `queue`, which is live. Returns true if
  // it stopped at its work budget with buffers left (the transport then
  // reports pending work and calls again from Poll).
  virtual bool ProcessQueue(size_t queue) = 0;
  // The driver reset the device; the transport has reset the queues.
  virtual void Reset() = 0;

 protected:
  // The transport this device is bound to, or nullptr before binding.
  VirtioMmioTransport* transport() const { return transport_; }

 private:
  friend class VirtioMmioTransport;
  VirtioMmioTransport* transport_ = nullptr;
};

class VirtioMmioTransport final : public MmioDevice {
 public:
  // Registers (0x100) plus the largest configuration space we give (0x100).
  static constexpr uint64_t kRegionSize = 0x200;
  static constexpr size_t kMaxQueues = 2;
  static constexpr uint32_t kVendorId = 0x00006876;  // "hv"

  // Binds `device` to this transport. `memory` and `device` must outlive it.
  // REQUIRES: the device is not bound to another transport, has at most
  // kMaxQueues queues of at most SplitQueue::kMaxSize entries and a
  // configuration space of at most 0x100 bytes.
  VirtioMmioTransport(const guestmem::GuestMemoryAccessor& memory, VirtioDevice& device,
                      IrqLine irq);
  VirtioMmioTransport(const VirtioMmioTransport&) = delete;
  VirtioMmioTransport& operator=(const VirtioMmioTransport&) = delete;
  ~VirtioMmioTransport() override;

  Result<uint64_t> Read(uint64_t offset, size_t size) override;
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override;

  // Processes queues that stopped at their budget. Cheap when there are none.
  void Poll();
  bool has_pending_work() const { return pending_queues_ != 0; }

  // For device models.
  const guestmem::GuestMemoryAccessor& memory() const { return memory_; }
  // The queue if the device is live (DRIVER_OK set; FAILED and
  // DEVICE_NEEDS_RESET clear) and the driver enabled it; otherwise nullptr.
  SplitQueue* LiveQueue(size_t index);
  bool FeatureNegotiated(unsigned bit) const {
    return (status_ & virtio::kStatusFeaturesOk) != 0 &&
           (driver_features_ & virtio::FeatureBit(bit)) != 0;
  }
  // Raises the used-buffer interrupt if the driver wants one for what was
  // pushed to `index` since the last call (SplitQueue::ShouldInterrupt).
  void SignalUsed(size_t index);
  // A guest error the device cannot recover from: sets DEVICE_NEEDS_RESET,
  // raises the configuration change interrupt (and the used-buffer one if
  // buffers were returned unsignalled), stops processing until reset.
  void EnterNeedsReset(QueueFault reason);
  // The configuration space changed: bumps ConfigGeneration and raises the
  // configuration change interrupt.
  void NotifyConfigChange();
  // A device reset, as when the driver writes 0 to Status: every queue
  // disabled, features and status cleared, the interrupt line low, the
  // device's own Reset() (a machine reset does this for the driver).
  void ResetDevice();

  // Observations for the VMM's diagnostics and for tests.
  uint32_t status() const { return status_; }
  uint32_t interrupt_status() const { return interrupt_status_; }
  uint64_t driver_features() const { return driver_features_; }
  // Why DEVICE_NEEDS_RESET was set, if it is.
  std::optional<QueueFault> needs_reset_reason() const { return needs_reset_reason_; }
  // Times the device entered DEVICE_NEEDS_RESET since it was created (resets
  // by the driver do not clear it).
  uint64_t needs_reset_count() const { return needs_reset_count_; }
  uint64_t ignored_notifications() const { return ignored_notifications_; }

 private:
  struct QueueRegs {
    uint32_t num = 0;
    uint64_t desc = 0;
    uint64_t driver = 0;
    uint64_t device = 0;
  };

  uint64_t offered_features() const;
  bool live() const;
  Result<uint64_t> ReadConfig(uint64_t offset, size_t size) const;
  Result<void> WriteConfig(uint64_t offset, size_t size, uint64_t value);
  void WriteStatus(uint32_t value);
  void WriteQueueReady(uint32_t value);
  void Notify(uint32_t index);
  void SetInterrupt(uint32_t bits);
  void UpdateIrq();
  // The selected queue's registers if it exists and is disabled (writable).
  QueueRegs* WritableQueueRegs();

  const guestmem::GuestMemoryAccessor& memory_;
  VirtioDevice& device_;
  IrqLine irq_;
  bool irq_level_ = false;

  uint32_t status_ = 0;
  uint32_t device_features_sel_ = 0;
  uint32_t driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t shm_sel_ = 0;
  uint32_t interrupt_status_ = 0;
  uint32_t config_generation_ = 0;
  std::array<QueueRegs, kMaxQueues> queue_regs_{};
  std::array<SplitQueue, kMaxQueues> queues_;
  uint32_t pending_queues_ = 0;  // bit per queue that stopped at its budget
  std::optional<QueueFault> needs_reset_reason_;
  uint64_t needs_reset_count_ = 0;
  uint64_t ignored_notifications_ = 0;
};

}  // namespace hv::devices

#endif  // DEVICES_VIRTIO_MMIO_H_
