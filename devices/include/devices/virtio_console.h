// virtio-console (virtio 1.2, 5.3) with one port and no multiport: the
// receive queue (0) carries host input to the guest, the transmit queue (1)
// guest output to a CharSink. VIRTIO_CONSOLE_F_EMERG_WRITE is offered:
// writing emerg_wr in the configuration space outputs one byte, before or
// after negotiation.
//
// Host input waits in a fixed buffer (kInputBufferSize) until the driver
// posts receive buffers; ReceiveInput says how much it took, so nothing is
// dropped silently.
//
// Guest errors (besides the queue faults of SplitQueue, which set
// DEVICE_NEEDS_RESET): a receive chain with device-readable buffers, a
// transmit chain with device-writable ones, or either with a buffer outside
// guest RAM is returned at once with used length 0, and nothing is read from
// or written to it. A host-level fault in the middle of a copy returns the
// chain with what was done: input bytes are taken from the buffer only once
// they are in guest memory, output bytes reach the sink only once read.
#ifndef DEVICES_VIRTIO_CONSOLE_H_
#define DEVICES_VIRTIO_CONSOLE_H_

#include <devices/char_io.h>
#include <devices/virtio.h>
#include <devices/virtio_mmio.h>
#include <devices/virtqueue.h>
#include <hv/base/std.h>

namespace hv::devices {

class VirtioConsole final : public VirtioDevice {
 public:
  static constexpr size_t kInputBufferSize = 4096;
  // Chains handled per call of ProcessQueue before yielding to Poll.
  static constexpr size_t kBudget = 4 * SplitQueue::kMaxSize;

  struct Stats {
    uint64_t bytes_out = 0;
    uint64_t bytes_in = 0;
    uint64_t malformed_chains = 0;
  };

  // `output` must outlive the device.
  explicit VirtioConsole(CharSink& output);

  uint32_t device_id() const override { return virtio::kDeviceIdConsole; }
  uint64_t device_features() const override;
  size_t queue_count() const override { return 2; }
  std::span<const std::byte> config() const override { return mm::AsBytes(config_); }
  void WriteConfig(uint64_t offset, size_t size, uint64_t value) override;
  bool ProcessQueue(size_t queue) override;
  // Pending input survives a reset: it is the host's, not the driver's.
  void Reset() override {}

  // Takes as much of `bytes` as the input buffer holds and delivers what it
  // can to the guest's receive buffers. Returns the number of bytes taken.
  size_t ReceiveInput(std::span<const std::byte> bytes);
  size_t pending_input() const { return input_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  bool Receive();
  bool Transmit();
  // Returns the chain with `len` bytes written; false on a queue fault.
  bool Complete(SplitQueue& vq, uint32_t len);

  CharSink& output_;
  virtio::console::Config config_{};
  ByteFifo<kInputBufferSize> input_;
  DescChain chain_;
  std::array<std::byte, 512> bounce_{};
  Stats stats_;
};

}  // namespace hv::devices

#endif  // DEVICES_VIRTIO_CONSOLE_H_
