// How mm code reaches physical memory: a policy, so that the same page-table
// engine and frame allocator run in the kernel (through the direct map) and
// on the host (over a simulated physical arena) in unit tests.
//
// A PhysMem maps every physical address it covers to a virtual address in
// this address space, linearly: [pa, pa + n) is reachable at
// [PhysToVirt(pa), PhysToVirt(pa) + n) for any range it covers. Both policies
// here are cheap value types (a base and an offset) and copied freely.
#ifndef MM_PHYS_MEM_H_
#define MM_PHYS_MEM_H_

#include <hv/base/addr.h>
#include <hv/base/check.h>
#include <hv/base/std.h>

namespace hv::mm {

template <typename P>
concept PhysMem = std::copyable<P> && requires(const P& phys, HostPhysAddr pa, const void* va) {
  // REQUIRES: `pa` is covered. Where `pa` is reachable.
  { phys.PhysToVirt(pa) } -> std::same_as<void*>;
  // REQUIRES: `va` was returned by PhysToVirt (or lies in a range that was).
  { phys.VirtToPhys(va) } -> std::same_as<HostPhysAddr>;
};

// Kernel: physical memory is mapped at a constant offset (the direct map).
// The offset comes from the arch/platform; until the higher-half layout
// lands it is a constructor argument (0 for the identity-mapped boot).
class DirectMapPhysMem {
 public:
  constexpr explicit DirectMapPhysMem(uint64_t direct_map_base) : base_(direct_map_base) {}

  void* PhysToVirt(HostPhysAddr pa) const {
    // SAFETY: the direct map covers all physical memory at `base_`; this
    // only forms the address.
    return reinterpret_cast<void*>(static_cast<uintptr_t>(pa.value() + base_));
  }
  HostPhysAddr VirtToPhys(const void* va) const {
    return HostPhysAddr(reinterpret_cast<uintptr_t>(va) - base_);
  }

 private:
  uint64_t base_;
};

// Host: a simulated physical arena. Physical addresses
// [phys_base, phys_base + size) live in the host buffer at `virt_base`. An
// address outside the arena is a bug of ours (a page table pointing at
// memory we never gave it) and panics instead of touching host memory.
class ArenaPhysMem {
 public:
  constexpr ArenaPhysMem(void* virt_base, HostPhysAddr phys_base, uint64_t size)
      : virt_base_(static_cast<std::byte*>(virt_base)), phys_base_(phys_base), size_(size) {}

  void* PhysToVirt(HostPhysAddr pa) const {
    HV_CHECK(pa >= phys_base_ && pa.value() - phys_base_.value() < size_,
             "physical address %#lx outside the arena", static_cast<unsigned long>(pa.value()));
    // SAFETY: the offset is inside the arena's buffer (checked above).
    return virt_base_ + (pa.value() - phys_base_.value());
  }
  HostPhysAddr VirtToPhys(const void* va) const {
    const auto* p = static_cast<const std::byte*>(va);
    HV_CHECK(p >= virt_base_ && static_cast<uint64_t>(p - virt_base_) < size_,
             "pointer %p outside the arena", va);
    return HostPhysAddr(phys_base_.value() + static_cast<uint64_t>(p - virt_base_));
  }

  HostPhysAddr phys_base() const { return phys_base_; }
  uint64_t size() const { return size_; }

 private:
  std::byte* virt_base_;
  HostPhysAddr phys_base_;
  uint64_t size_;
};

static_assert(PhysMem<DirectMapPhysMem>);
static_assert(PhysMem<ArenaPhysMem>);

}  // namespace hv::mm

#endif  // MM_PHYS_MEM_H_
