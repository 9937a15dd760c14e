#include <arch/riscv64/guest_access.h>
#include <guestmem/riscv64_guest_virtual.h>

namespace hv::guestmem {
namespace {

bool Wraps(GuestVirtAddr gva, size_t len) { return len != 0 && !gva.CheckedAdd(len - 1); }

CopyResult FromNotDone(size_t len, size_t not_done) {
  if (not_done != 0) return CopyError{Error::kPageFault, len - not_done};
  return len;
}

}  // namespace

CopyResult Riscv64GuestVirtualMemory::ReadVirt(GuestVirtAddr gva, std::span<std::byte> out) const {
  if (Wraps(gva, out.size())) return CopyError{Error::kInvalidArgs, 0};
  // SAFETY: `out` is hypervisor memory; guest addresses go through HLV,
  // whose faults the exception table turns into a short count.
  return FromNotDone(out.size(), hv_guest_read(out.data(), gva.value(), out.size()));
}

CopyResult Riscv64GuestVirtualMemory::WriteVirt(GuestVirtAddr gva,
                                                std::span<const std::byte> in) const {
  if (Wraps(gva, in.size())) return CopyError{Error::kInvalidArgs, 0};
  // SAFETY: as ReadVirt, with HSV.
  return FromNotDone(in.size(), hv_guest_write(gva.value(), in.data(), in.size()));
}

CopyResult Riscv64GuestVirtualMemory::FetchVirt(GuestVirtAddr gva, std::span<std::byte> out) const {
  if (Wraps(gva, out.size()) || !gva.IsAligned(2) || out.size() % 2 != 0) {
    return CopyError{Error::kInvalidArgs, 0};
  }
  // SAFETY: as ReadVirt, with HLVX.
  return FromNotDone(out.size(), hv_guest_fetch(out.data(), gva.value(), out.size()));
}

}  // namespace hv::guestmem
