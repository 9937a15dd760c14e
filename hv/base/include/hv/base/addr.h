// Address types. Each kind of address is its own type with no implicit
// conversion to another kind or to an integer, so mixing a guest-physical
// address with a host-virtual one is a compile error (as Hafnium's
// paddr_t/ipaddr_t).
//
//   GuestPhysAddr  an address in a guest's physical address space (GPA)
//   GuestVirtAddr  an address the guest's own page tables translate (GVA)
//   HostPhysAddr   a machine physical address (PA)
//   HostVirtAddr   an address in the hypervisor's (or host process's) own
//                  virtual address space (VA)
//
// Arithmetic is overflow-checked: CheckedAdd returns nullopt instead of
// wrapping, so a guest-supplied `gpa + len` can never wrap silently.
#ifndef HV_BASE_ADDR_H_
#define HV_BASE_ADDR_H_

#include <hv/base/std.h>

namespace hv {

template <typename Tag>
class Addr {
 public:
  constexpr Addr() = default;
  constexpr explicit Addr(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }

  // The address `offset` bytes further, or nullopt if that wraps.
  constexpr std::optional<Addr> CheckedAdd(uint64_t offset) const {
    uint64_t result;
    if (__builtin_add_overflow(value_, offset, &result)) return std::nullopt;
    return Addr(result);
  }
  // The address `offset` bytes lower, or nullopt if that wraps.
  constexpr std::optional<Addr> CheckedSub(uint64_t offset) const {
    if (offset > value_) return std::nullopt;
    return Addr(value_ - offset);
  }
  // The distance from `base` up to this address.
  // REQUIRES: base <= *this.
  constexpr uint64_t OffsetFrom(Addr base) const { return value_ - base.value_; }

  // REQUIRES: `alignment` is a power of two.
  constexpr bool IsAligned(uint64_t alignment) const { return (value_ & (alignment - 1)) == 0; }
  constexpr Addr AlignDown(uint64_t alignment) const { return Addr(value_ & ~(alignment - 1)); }
  // nullopt if aligning up wraps.
  constexpr std::optional<Addr> AlignUp(uint64_t alignment) const {
    const uint64_t mask = alignment - 1;
    if (value_ > ~uint64_t{0} - mask) return std::nullopt;
    return Addr((value_ + mask) & ~mask);
  }

  constexpr auto operator<=>(const Addr&) const = default;

 private:
  uint64_t value_ = 0;
};

struct GuestPhysTag;
struct GuestVirtTag;
struct HostPhysTag;
struct HostVirtTag;

using GuestPhysAddr = Addr<GuestPhysTag>;
using GuestVirtAddr = Addr<GuestVirtTag>;
using HostPhysAddr = Addr<HostPhysTag>;
using HostVirtAddr = Addr<HostVirtTag>;

// A half-open range [start, start + size) of one address kind. A range never
// wraps: Create() refuses one that would run past 2^64. A range may end
// exactly at 2^64 (it holds the last byte of the address space); use last()
// rather than end() where that matters, since end() then reads as 0.
template <typename A>
class AddrRange {
 public:
  constexpr AddrRange() = default;

  // nullopt if the range would run past 2^64.
  static constexpr std::optional<AddrRange> Create(A start, uint64_t size) {
    if (size != 0 && size - 1 > ~start.value()) return std::nullopt;
    return AddrRange(start, size);
  }

  constexpr A start() const { return start_; }
  constexpr uint64_t size() const { return size_; }
  // One past the last byte (0 for a range that ends at 2^64).
  constexpr A end() const { return A(start_.value() + size_); }
  // The last byte. REQUIRES: !empty().
  constexpr A last() const { return A(start_.value() + (size_ - 1)); }
  constexpr bool empty() const { return size_ == 0; }

  constexpr bool Contains(A addr) const {
    return addr >= start_ && addr.value() - start_.value() < size_;
  }
  // True if `other` lies entirely inside this range (empty ranges included
  // when their start is inside or at the end).
  constexpr bool Contains(const AddrRange& other) const {
    if (other.start_ < start_) return false;
    const uint64_t offset = other.start_.value() - start_.value();
    return offset <= size_ && other.size_ <= size_ - offset;
  }
  constexpr bool Overlaps(const AddrRange& other) const {
    if (empty() || other.empty()) return false;
    return Contains(other.start_) || other.Contains(start_);
  }

  constexpr bool operator==(const AddrRange&) const = default;

 private:
  constexpr AddrRange(A start, uint64_t size) : start_(start), size_(size) {}

  A start_;
  uint64_t size_ = 0;
};

// Pointer <-> host-virtual address, for code that owns the mapping.
inline HostVirtAddr HostVirtFromPtr(const volatile void* p) {
  return HostVirtAddr(reinterpret_cast<uintptr_t>(p));
}
template <typename T = void>
T* PtrFromHostVirt(HostVirtAddr va) {
  // SAFETY: converting an address to a pointer does not access memory; the
  // caller states by calling this that `va` is mapped in this address space.
  return reinterpret_cast<T*>(static_cast<uintptr_t>(va.value()));
}

}  // namespace hv

#endif  // HV_BASE_ADDR_H_
