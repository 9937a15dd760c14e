// The properties of a mapped page, independent of any page-table format.
//
// Each format (arch/<arch>/mm/pte.h) translates a PageProperty to its PTE
// bits and back. What a format cannot represent it reports in a fixed way,
// documented with the format (e.g. riscv64 without Svpbmt has no cache
// attribute bits and reports kWriteBack; the PMAs decide).
#ifndef MM_PAGE_PROPERTY_H_
#define MM_PAGE_PROPERTY_H_

#include <hv/base/std.h>

namespace hv::mm {

// Access rights and the accessed/dirty bits. A page without any of R, W, X
// is mapped but inaccessible (formats keep it as a software-marked,
// hardware-invalid entry).
enum class PageFlags : uint8_t {
  kNone = 0,
  kR = 1 << 0,
  kW = 1 << 1,
  kX = 1 << 2,
  kAccessed = 1 << 3,
  kDirty = 1 << 4,
  kRW = kR | kW,
  kRX = kR | kX,
  kRWX = kR | kW | kX,
};

// Flags only privileged code sets; a cursor's protect operation cannot
// change them. kAvail1 is the software bit that tells an I/O memory leaf
// from a RAM leaf (as in OSTD); VmSpace sets and clears it itself.
enum class PrivilegedPageFlags : uint8_t {
  kNone = 0,
  kUser = 1 << 0,
  kGlobal = 1 << 1,
  kAvail1 = 1 << 2,
};

enum class CachePolicy : uint8_t {
  kWriteBack,
  kUncacheable,
  kWriteCombining,
};

template <typename E>
inline constexpr bool kIsFlagEnum = false;
template <>
inline constexpr bool kIsFlagEnum<PageFlags> = true;
template <>
inline constexpr bool kIsFlagEnum<PrivilegedPageFlags> = true;

template <typename E>
concept FlagEnum = kIsFlagEnum<E>;

template <FlagEnum E>
constexpr std::underlying_type_t<E> FlagBits(E e) {
  return static_cast<std::underlying_type_t<E>>(e);
}

template <FlagEnum E>
constexpr E operator|(E a, E b) {
  return static_cast<E>(FlagBits(a) | FlagBits(b));
}
template <FlagEnum E>
constexpr E operator&(E a, E b) {
  return static_cast<E>(FlagBits(a) & FlagBits(b));
}
// The flags of `a` that are not in `b` (OSTD's `a - b`).
template <FlagEnum E>
constexpr E operator-(E a, E b) {
  return static_cast<E>(FlagBits(a) & ~FlagBits(b));
}
template <FlagEnum E>
constexpr E& operator|=(E& a, E b) {
  return a = a | b;
}
template <FlagEnum E>
constexpr E& operator-=(E& a, E b) {
  return a = a - b;
}
// True if every flag of `bits` is in `set`.
template <FlagEnum E>
constexpr bool Contains(E set, E bits) {
  return (FlagBits(set) & FlagBits(bits)) == FlagBits(bits);
}

struct PageProperty {
  PageFlags flags = PageFlags::kNone;
  CachePolicy cache = CachePolicy::kWriteBack;
  PrivilegedPageFlags priv_flags = PrivilegedPageFlags::kNone;

  // Write-back memory with `flags` and no privileged flags.
  static constexpr PageProperty New(PageFlags flags, CachePolicy cache = CachePolicy::kWriteBack) {
    return PageProperty{.flags = flags, .cache = cache};
  }

  constexpr bool operator==(const PageProperty&) const = default;
};

}  // namespace hv::mm

#endif  // MM_PAGE_PROPERTY_H_
