// The virtio devices of one VM: at most one virtio-blk over a RAM disk and
// one virtio-console on the VM's console, each behind a virtio-mmio
// transport (devices/virtio_mmio.h) in one of the device tree's slots, with
// its interrupt on a line of the VM's PLIC.
//
// Device work runs in three places, all on the hypervisor's one hart:
//   - during the guest's QueueNotify store (the transport processes the
//     queue before the MMIO emulation returns), which also raises the
//     used-buffer interrupt, i.e. the PLIC source, i.e. VSEIP of the vCPU;
//   - in Poll, which the exit path calls after every emulated MMIO access
//     and the scheduler before it picks a vCPU: queues that stopped at their
//     per-notification budget (has_pending_work) continue there;
//   - for console input, as soon as the guest posts receive buffers.
// Poll also prints a line for each time a device entered
// DEVICE_NEEDS_RESET (with the QueueFault that caused it).
//
// Pure logic over a GuestMemoryAccessor, an MmioBus, an IrqSink and a
// CharSink: built and tested on the host. Not movable (the bus and the
// transports point into it).
#ifndef HV_RISCV64_VIRTIO_DEVICES_H_
#define HV_RISCV64_VIRTIO_DEVICES_H_

#include <devices/block_backend.h>
#include <devices/bus.h>
#include <devices/char_io.h>
#include <devices/virtio_blk.h>
#include <devices/virtio_console.h>
#include <devices/virtio_mmio.h>
#include <guestmem/accessor.h>
#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <hv/riscv64/vm_config.h>

namespace hv::riscv64 {

// What a VM's virtio devices hold and did: for the hypervisor's report when
// the VM ends and for test images' checks.
struct VirtioReport {
  struct Block {
    bool present = false;
    GuestPhysAddr slot;
    std::span<const std::byte> disk;  // the whole RAM disk
    uint64_t ok = 0;                  // requests answered OK
    uint64_t ioerr = 0;
    uint64_t unsupp = 0;
    uint32_t status = 0;        // the device status register now
    uint64_t needs_resets = 0;  // times it entered DEVICE_NEEDS_RESET
  };
  struct Console {
    bool present = false;
    GuestPhysAddr slot;
    uint64_t bytes_out = 0;  // guest output handed to the VM's console
    uint64_t bytes_in = 0;   // input delivered into guest buffers
    uint32_t status = 0;
    uint64_t needs_resets = 0;
  };
  Block blk;
  Console console;
};

class VirtioDevices {
 public:
  // A virtio,mmio node of the device tree.
  struct Slot {
    GuestPhysAddr base;
    uint64_t size = 0;
    uint32_t irq = 0;  // its PLIC source
  };

  // `vm_name` (static text) prefixes reports. `memory` (guest RAM), `irqs`
  // (the PLIC) and `console` must outlive this.
  VirtioDevices(std::string_view vm_name, const guestmem::GuestMemoryAccessor& memory,
                devices::IrqSink& irqs, devices::CharSink& console);
  VirtioDevices(const VirtioDevices&) = delete;
  VirtioDevices& operator=(const VirtioDevices&) = delete;

  // A virtio-blk over `disk` (contents already in place; it must outlive
  // this) in `slot`, registered on `bus` for the whole slot (offsets past
  // the configuration space are refused accesses, as in the transport). kInvalidArgs
  // for a disk that is empty or not whole sectors, kAlreadyExists if there
  // is one already; the bus's errors.
  Result<void> AddBlock(const Slot& slot, std::span<std::byte> disk, bool read_only,
                        std::string_view serial, devices::MmioBus& bus);
  // A virtio-console writing to the console, with `input` waiting for the
  // guest's receive buffers (kOutOfRange if more than its input buffer
  // holds) — from the start, or, if `input_after` is not empty, from the
  // moment the guest's output on it contains `input_after` (kOutOfRange if
  // longer than VirtioConsoleConfig::kMaxInputAfter). Both are static data.
  // kAlreadyExists if there is one already; the bus's errors.
  Result<void> AddConsole(const Slot& slot, std::span<const std::byte> input,
                          std::string_view input_after, devices::MmioBus& bus);

  // Continues device work that stopped at its budget and reports devices
  // newly in DEVICE_NEEDS_RESET. Cheap when there is nothing to do.
  void Poll();
  // True while some queue has work left for Poll.
  bool has_pending_work() const;
  // A machine reset: both devices reset as by their drivers (queues off,
  // status 0). The RAM disk keeps its bytes, like a disk; console input not
  // yet delivered stays for the next driver.
  void Reset();

  VirtioReport Report() const;
  // One line per device ("hv: VM name: virtio-blk at 0x...: ..."), if any.
  void PrintReport() const;

 private:
  // The console's output on its way to the VM's console, watched for the
  // text that releases held-back input.
  class OutputWatch final : public devices::CharSink {
   public:
    explicit OutputWatch(devices::CharSink& console) : console_(console) {}
    // From now on, Write looks for `text` (at most kMaxInputAfter bytes).
    void Watch(std::string_view text);
    // True once the output has contained the text (and stays true).
    bool seen() const { return seen_; }
    void Write(std::span<const std::byte> bytes) override;

   private:
    devices::CharSink& console_;
    std::string_view text_;
    // The last text_.size() bytes of output, oldest first once full.
    std::array<char, VirtioConsoleConfig::kMaxInputAfter> tail_{};
    size_t tail_size_ = 0;
    bool seen_ = false;
  };

  // Hands held-back console input to the device once its trigger was seen.
  void ReleaseInput();
  // Prints the device's entries into DEVICE_NEEDS_RESET since `reported`.
  void ReportNeedsReset(const char* what, const devices::VirtioMmioTransport& transport,
                        GuestPhysAddr slot, uint64_t& reported);

  std::string_view vm_name_;
  const guestmem::GuestMemoryAccessor& memory_;
  devices::IrqSink& irqs_;
  devices::CharSink& console_;

  GuestPhysAddr blk_slot_;
  std::span<std::byte> disk_;
  std::optional<devices::MemoryBlockBackend> disk_backend_;
  std::optional<devices::VirtioBlk> blk_;
  std::optional<devices::VirtioMmioTransport> blk_transport_;
  uint64_t blk_resets_reported_ = 0;

  GuestPhysAddr console_slot_;
  OutputWatch console_output_{console_};
  // Input waiting for its trigger (empty once handed to the device).
  std::span<const std::byte> held_input_;
  std::optional<devices::VirtioConsole> vconsole_;
  std::optional<devices::VirtioMmioTransport> console_transport_;
  uint64_t console_resets_reported_ = 0;
};

}  // namespace hv::riscv64

#endif  // HV_RISCV64_VIRTIO_DEVICES_H_
