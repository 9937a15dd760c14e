// Plain-old-data types: what may be copied to and from untrusted memory.
//
// `Pod` is a type whose every byte pattern is a valid value and which can be
// copied bytewise: trivially copyable, standard layout, and without padding
// (so copying one out never leaks uninitialized bytes). `PodOnce` is a Pod of
// 1, 2, 4 or 8 bytes, which both architectures load and store with a single
// non-tearing instruction when the address is a multiple of its size;
// anything else is rejected at compile time wherever a PodOnce is required.
#ifndef MM_POD_H_
#define MM_POD_H_

#include <hv/base/std.h>

namespace hv::mm {

template <typename T>
concept Pod = std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T> &&
    (std::has_unique_object_representations_v<T> ||
     std::is_floating_point_v<T>)&&(!std::is_pointer_v<T>)&&(!std::is_member_pointer_v<T>);

template <typename T>
concept PodOnce = Pod<T> &&(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);

// The object representation of a Pod, for copying.
template <Pod T>
std::span<const std::byte, sizeof(T)> AsBytes(const T& value) {
  // SAFETY: a Pod is trivially copyable with no padding; viewing its storage
  // as bytes is how std::memcpy sees it.
  return std::span<const std::byte, sizeof(T)>(reinterpret_cast<const std::byte*>(&value),
                                               sizeof(T));
}
template <Pod T>
std::span<std::byte, sizeof(T)> AsWritableBytes(T& value) {
  // SAFETY: as above; every byte pattern is a valid T, so writing arbitrary
  // bytes through this view cannot create an invalid object.
  return std::span<std::byte, sizeof(T)>(reinterpret_cast<std::byte*>(&value), sizeof(T));
}

}  // namespace hv::mm

#endif  // MM_POD_H_
