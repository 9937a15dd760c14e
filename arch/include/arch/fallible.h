// Fallible memory primitives: copies and fills that stop at the first
// faulting byte instead of crashing, and report exactly how far they got.
//
// They are written in assembly (arch/<arch>/fallible/) and every instruction
// that may fault is listed in the exception table, so a fault is redirected
// to a fixup that returns the count. Two consumers do the redirection: the
// kernel trap handlers on both architectures, and in Linux builds (host and
// qemu-riscv64) a SIGSEGV/SIGBUS handler installed by
// InstallFaultHandler().
//
// Contract of both functions: the return value r is the number of bytes NOT
// done (0 on success). Bytes [0, len - r) were copied/set; no byte at or
// beyond len - r was written. When r > 0, the byte at offset len - r is one
// whose access faulted (on the source or the destination side).
//
// They do not check their arguments (that is mm's job); overlapping source
// and destination give unspecified bytes but never a crash or a write
// outside [dst, dst + len).
#ifndef ARCH_FALLIBLE_H_
#define ARCH_FALLIBLE_H_

#include <hv/base/std.h>

extern "C" {

// REQUIRES: [dst, dst+len) and [src, src+len) do not wrap.
size_t hv_memcpy_fallible(void* dst, const void* src, size_t len);

// REQUIRES: [dst, dst+len) does not wrap.
size_t hv_memset_fallible(void* dst, int value, size_t len);

// One aligned access of N (1, 2, 4 or 8) bytes with a single instruction,
// so it never tears. A load returns {value zero-extended, 0}, or {0, 1} if
// it faulted; a store returns 0, or 1 if it faulted (nothing stored).
// REQUIRES: the address is a multiple of N.
struct hv_load_once_result {
  uint64_t value;
  uint64_t faulted;
};
hv_load_once_result hv_load_once_fallible_1(const void* src);
hv_load_once_result hv_load_once_fallible_2(const void* src);
hv_load_once_result hv_load_once_fallible_4(const void* src);
hv_load_once_result hv_load_once_fallible_8(const void* src);
int hv_store_once_fallible_1(void* dst, uint64_t value);
int hv_store_once_fallible_2(void* dst, uint64_t value);
int hv_store_once_fallible_4(void* dst, uint64_t value);
int hv_store_once_fallible_8(void* dst, uint64_t value);

// The same access with the size as an argument (inline: a constant size
// folds to one call of the primitive above). The load zero-extends into
// *value. Both return 0 on success, 1 if the access faulted (nothing
// stored, *value untouched), 2 for a size that is not 1, 2, 4 or 8.
// REQUIRES: the address is a multiple of `size`.
inline int hv_load_once_fallible(const void* src, size_t size, uint64_t* value) {
  hv_load_once_result loaded;
  // SAFETY: forwarded to the primitive of this size, which reports a fault
  // instead of taking it; alignment is the caller's (REQUIRES).
  switch (size) {
    case 1:
      loaded = hv_load_once_fallible_1(src);
      break;
    case 2:
      loaded = hv_load_once_fallible_2(src);
      break;
    case 4:
      loaded = hv_load_once_fallible_4(src);
      break;
    case 8:
      loaded = hv_load_once_fallible_8(src);
      break;
    default:
      return 2;
  }
  if (loaded.faulted != 0) return 1;
  *value = loaded.value;
  return 0;
}
inline int hv_store_once_fallible(void* dst, size_t size, uint64_t value) {
  // SAFETY: as hv_load_once_fallible.
  switch (size) {
    case 1:
      return hv_store_once_fallible_1(dst, value);
    case 2:
      return hv_store_once_fallible_2(dst, value);
    case 4:
      return hv_store_once_fallible_4(dst, value);
    case 8:
      return hv_store_once_fallible_8(dst, value);
    default:
      return 2;
  }
}

}  // extern "C"

// Returned in two registers (rax:rdx, a0:a1) by both ABIs.
static_assert(sizeof(hv_load_once_result) == 16 &&
              std::is_trivially_copyable_v<hv_load_once_result>);

namespace hv::arch {

// Makes faults inside the fallible primitives recoverable. In kernel images
// the trap handlers always consult the exception table, so this does
// nothing. In Linux processes it installs the SIGSEGV/SIGBUS handler once
// (thread-safe, idempotent); faults at any other PC go to the previously
// installed handler (or the default action). mm calls it before the first
// fallible access.
void InstallFaultHandler();

}  // namespace hv::arch

#endif  // ARCH_FALLIBLE_H_
