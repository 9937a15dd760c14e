// Small string_view operations for the FDT reader that a freestanding kernel
// can link: std::string_view::find calls memchr and substr may throw, and
// kernel images have neither.
#ifndef HV_FDT_INTERNAL_TEXT_H_
#define HV_FDT_INTERNAL_TEXT_H_

#include <hv/base/std.h>

namespace hv::fdt::internal {

// The index of the first `c` in `s`, or std::string_view::npos.
constexpr size_t FindChar(std::string_view s, char c) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == c) return i;
  }
  return std::string_view::npos;
}

// The first min(n, size) characters of `s`.
constexpr std::string_view Head(std::string_view s, size_t n) {
  return std::string_view(s.data(), n < s.size() ? n : s.size());
}

// `s` without its first n characters ("" if n >= size).
constexpr std::string_view Tail(std::string_view s, size_t n) {
  return n < s.size() ? std::string_view(s.data() + n, s.size() - n) : std::string_view();
}

// `s` up to (not including) the first `c`, or all of `s`.
constexpr std::string_view Before(std::string_view s, char c) { return Head(s, FindChar(s, c)); }

}  // namespace hv::fdt::internal

#endif  // HV_FDT_INTERNAL_TEXT_H_
