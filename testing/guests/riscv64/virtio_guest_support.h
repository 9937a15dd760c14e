// What the virtio test guests share: their machine as the device tree
// describes it (RAM, the virtio-mmio slots, each probed for its device id),
// their RAM as an accessor for //devices/driver, and their PLIC's S-mode
// contexts. Guests run with the MMU off: guest-physical addresses are
// pointers.
#ifndef TESTING_GUESTS_RISCV64_VIRTIO_GUEST_SUPPORT_H_
#define TESTING_GUESTS_RISCV64_VIRTIO_GUEST_SUPPORT_H_

#include <devices/driver/direct_access.h>
#include <hv/base/addr.h>
#include <hv/base/std.h>

namespace hv::guests {

struct VirtioSlot {
  uint64_t base = 0;
  uint64_t size = 0;
  uint32_t irq = 0;        // its `interrupts` (PLIC source)
  uint32_t device_id = 0;  // 0: empty, or not virtio-mmio version 2
};

struct VirtioMachine {
  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  std::array<VirtioSlot, 8> slots{};
  size_t num_slots = 0;

  // The first slot holding `device_id`, or nullptr.
  const VirtioSlot* Find(uint32_t device_id) const;
};

// Reads the device tree the guest was booted with (ktest::Boot()) and
// probes every virtio,mmio slot, once; nullptr if the tree lacks /memory
// or has more than 8 slots.
const VirtioMachine* ProbeVirtioMachine();

// Guest RAM as the tree says, for DriverQueue and friends.
// REQUIRES: ProbeVirtioMachine() succeeded.
const devices::driver::IdentityMappedRam& GuestRam();

// The guest-physical address of an object of the guest.
inline GuestPhysAddr Gpa(const void* p) {
  // The MMU is off: an object's address is its guest-physical address.
  return GuestPhysAddr(reinterpret_cast<uintptr_t>(p));
}

// The PLIC's registers as a guest uses them (32-bit accesses); context
// 2n + 1 is hart n's S-mode external interrupt.
class GuestPlic {
 public:
  static constexpr uint32_t kHart0Context = 1;
  static constexpr uint32_t kHart1Context = 3;

  GuestPlic();
  void SetPriority(uint32_t source, uint32_t priority);
  void Enable(uint32_t context, uint32_t source, bool on);
  void SetThreshold(uint32_t context, uint32_t threshold);
  uint32_t Claim(uint32_t context);
  void Complete(uint32_t context, uint32_t source);

 private:
  void Write(uint64_t offset, uint32_t value);

  devices::driver::MmioWindow regs_;
};

}  // namespace hv::guests

#endif  // TESTING_GUESTS_RISCV64_VIRTIO_GUEST_SUPPORT_H_
