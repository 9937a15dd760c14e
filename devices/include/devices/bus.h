// The MMIO device bus: guest-physical address ranges mapped to device
// models, and the interrupt lines devices raise.
//
// The hypervisor's exit handler decodes a trapped load or store and calls
// MmioBus::Read/Write; the bus finds the device whose range holds the whole
// access and forwards it with the offset into that range. Device models in
// a Linux VMM use the same bus. Everything a guest controls arrives here as
// an address, a size and a value, so every path returns an error instead of
// trusting them.
#ifndef DEVICES_BUS_H_
#define DEVICES_BUS_H_

#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::devices {

// A device model's register interface. `size` is 1, 2, 4 or 8 and the access
// lies inside the device's registered range (the bus checks both). Reads
// return the value zero-extended to 64 bits. A device returns kInvalidArgs
// for an access it does not support (a width or an offset it has no
// register for), which the hypervisor reports to the guest as an access
// fault or ignores, per its policy.
class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  virtual Result<uint64_t> Read(uint64_t offset, size_t size) = 0;
  virtual Result<void> Write(uint64_t offset, size_t size, uint64_t value) = 0;
};

// Where a device's interrupt goes: an interrupt controller model (the
// guest's PLIC) implements this, devices hold an IrqLine.
class IrqSink {
 public:
  virtual ~IrqSink() = default;
  // Sets the level of input `irq` (level-triggered).
  virtual void SetIrqLevel(uint32_t irq, bool level) = 0;
};

// One interrupt input of an IrqSink. A default-constructed line is
// unconnected and ignores Set.
class IrqLine {
 public:
  IrqLine() = default;
  IrqLine(IrqSink* sink, uint32_t irq) : sink_(sink), irq_(irq) {}

  void Set(bool level) const {
    if (sink_ != nullptr) sink_->SetIrqLevel(irq_, level);
  }
  bool connected() const { return sink_ != nullptr; }
  uint32_t irq() const { return irq_; }

 private:
  IrqSink* sink_ = nullptr;
  uint32_t irq_ = 0;
};

class MmioBus {
 public:
  static constexpr size_t kMaxDevices = 32;

  // Maps [base, base + size) to `device` (not owned; must outlive the bus).
  // kInvalidArgs for an empty or wrapping range or a null device;
  // kAlreadyExists if it overlaps a registered range; kNoMemory when the bus
  // is full.
  Result<void> Register(GuestPhysAddr base, uint64_t size, MmioDevice* device);

  // Forwards an access to the device holding [addr, addr + size).
  // kInvalidArgs for a size other than 1, 2, 4 or 8; kNotFound if no device
  // holds the whole access (including one straddling two devices or a
  // device's end); otherwise the device's result.
  Result<uint64_t> Read(GuestPhysAddr addr, size_t size);
  Result<void> Write(GuestPhysAddr addr, size_t size, uint64_t value);

  // The device holding `addr`, if any.
  MmioDevice* Find(GuestPhysAddr addr) const;
  size_t size() const { return count_; }

 private:
  struct Entry {
    AddrRange<GuestPhysAddr> range;
    MmioDevice* device;
  };

  // The entry holding [addr, addr + size), or nullptr.
  const Entry* Lookup(GuestPhysAddr addr, size_t size) const;

  // Sorted by base.
  std::array<Entry, kMaxDevices> entries_{};
  size_t count_ = 0;
};

}  // namespace hv::devices

#endif  // DEVICES_BUS_H_
