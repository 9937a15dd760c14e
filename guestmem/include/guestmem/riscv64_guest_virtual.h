// Guest-virtual access on riscv64 through the hypervisor load/store
// instructions (HLV/HLVX/HSV), which walk the guest's vsatp and the
// hypervisor's hgatp in hardware with the guest's privilege. Valid in the
// hypervisor right after a guest exit, while that guest's translation state
// is loaded. A fault at either stage is kPageFault with the exact bytes done.
#ifndef GUESTMEM_RISCV64_GUEST_VIRTUAL_H_
#define GUESTMEM_RISCV64_GUEST_VIRTUAL_H_

#include <guestmem/guest_virtual.h>

namespace hv::guestmem {

class Riscv64GuestVirtualMemory final : public GuestVirtualMemory {
 public:
  // kInvalidArgs for a range that wraps.
  CopyResult ReadVirt(GuestVirtAddr gva, std::span<std::byte> out) const override;
  CopyResult WriteVirt(GuestVirtAddr gva, std::span<const std::byte> in) const override;
  // kInvalidArgs also for an odd gva or length (fetches are by halfword).
  CopyResult FetchVirt(GuestVirtAddr gva, std::span<std::byte> out) const override;
};

}  // namespace hv::guestmem

#endif  // GUESTMEM_RISCV64_GUEST_VIRTUAL_H_
