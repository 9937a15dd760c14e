// What a driver running on the machine itself (a bare-metal guest with its
// MMU off, or any code with an identity map) needs to use this library on
// real registers and real RAM, instead of the in-process device models the
// host tests play against:
//
//   MmioWindow         a device's registers at their physical address,
//                      through one volatile load or store per access
//   IdentityMappedRam  RAM whose physical addresses are also its addresses
//                      in this address space, as a GuestMemoryAccessor
//
//   IdentityMappedRam ram(GuestPhysAddr(0x8000'0000), 64 << 20);
//   MmioWindow regs(0x1000'8000, 0x1000);
//   VirtioMmioDriver mmio(regs);
//   mmio.Initialize(virtio::kDeviceIdBlock, wanted);
//   DriverQueue queue = DriverQueue::Create(ram, LayoutRings(...)).value();
//
// Both check what they are asked (offsets, widths, ranges) and return errors
// like the device models do; what they cannot check is that the addresses
// given to their constructors are really a device and really RAM.
#ifndef DEVICES_DRIVER_DIRECT_ACCESS_H_
#define DEVICES_DRIVER_DIRECT_ACCESS_H_

#include <devices/bus.h>
#include <guestmem/accessor.h>
#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::devices::driver {

class MmioWindow final : public MmioDevice {
 public:
  // REQUIRES: [base, base + size) holds a device's registers and is
  // accessible at that address (MMU off or identity-mapped as device memory).
  MmioWindow(uint64_t base, uint64_t size) : base_(base), size_(size) {}

  // One volatile access of `size` bytes (1, 2, 4 or 8) at base + offset,
  // which must be aligned to its size and inside the window; kInvalidArgs
  // otherwise. Reads are zero-extended.
  Result<uint64_t> Read(uint64_t offset, size_t size) override;
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override;

  uint64_t base() const { return base_; }

 private:
  bool Valid(uint64_t offset, size_t size) const;

  uint64_t base_;
  uint64_t size_;
};

class IdentityMappedRam final : public guestmem::GuestMemoryAccessor {
 public:
  // REQUIRES: [base, base + size) is RAM, readable and writable at the
  // same addresses in this address space, and does not wrap.
  IdentityMappedRam(GuestPhysAddr base, uint64_t size) : base_(base), size_(size) {}

  // gpa itself, with the bytes left to the end of the RAM; kOutOfRange
  // outside it.
  Result<guestmem::Translation> TranslateAndGetLimit(GuestPhysAddr gpa) const override;

 private:
  GuestPhysAddr base_;
  uint64_t size_;
};

}  // namespace hv::devices::driver

#endif  // DEVICES_DRIVER_DIRECT_ACCESS_H_
