// The C memory functions that the compiler may emit calls to in freestanding
// code. Built with -fno-builtin and -fno-tree-loop-distribute-patterns so the
// loops below are not turned back into calls to themselves.
#include <hv/base/std.h>

namespace {

// Words move when both pointers share alignment; the rest goes bytewise.
constexpr size_t kWord = sizeof(uintptr_t);

bool CoAligned(const void* a, const void* b) {
  return (reinterpret_cast<uintptr_t>(a) - reinterpret_cast<uintptr_t>(b)) % kWord == 0;
}

}  // namespace

extern "C" {

void* memcpy(void* __restrict dst, const void* __restrict src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (CoAligned(d, s)) {
    while (n > 0 && reinterpret_cast<uintptr_t>(d) % kWord != 0) {
      *d++ = *s++;
      --n;
    }
    for (; n >= kWord; n -= kWord, d += kWord, s += kWord) {
      // SAFETY: d and s are word-aligned and at least a word remains in both
      // buffers, which the caller guarantees are valid for n bytes.
      *reinterpret_cast<uintptr_t*>(d) = *reinterpret_cast<const uintptr_t*>(s);
    }
  }
  while (n-- > 0) *d++ = *s++;
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d == s || n == 0) return dst;
  if (d < s || d >= s + n) return memcpy(dst, src, n);
  // Overlapping with dst above src: copy backwards.
  while (n-- > 0) d[n] = s[n];
  return dst;
}

void* memset(void* dst, int value, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto byte = static_cast<unsigned char>(value);
  while (n > 0 && reinterpret_cast<uintptr_t>(d) % kWord != 0) {
    *d++ = byte;
    --n;
  }
  const uintptr_t word = byte * (~uintptr_t{0} / 0xff);
  for (; n >= kWord; n -= kWord, d += kWord) {
    // SAFETY: d is word-aligned with at least a word left of the caller's
    // buffer.
    *reinterpret_cast<uintptr_t*>(d) = word;
  }
  while (n-- > 0) *d++ = byte;
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

}  // extern "C"
