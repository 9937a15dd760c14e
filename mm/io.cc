#include <arch/fallible.h>
#include <arch/layout.h>
#include <mm/io.h>

namespace hv::mm {

Result<void> CheckUserWindow(const volatile void* ptr, size_t len) {
  if (len == 0) return Ok();
  const auto start = reinterpret_cast<uintptr_t>(ptr);
  if (start == 0) return Error::kInvalidArgs;
  uintptr_t end;
  if (__builtin_add_overflow(start, len, &end)) return Error::kInvalidArgs;
  if (end > arch::kUserSpaceEnd) return Error::kAccessDenied;
  return Ok();
}

namespace internal {

void CheckKernelRange(const volatile void* ptr, size_t len) {
  if (len == 0) return;
  const auto start = reinterpret_cast<uintptr_t>(ptr);
  uintptr_t end;
  HV_CHECK(start != 0, "kernel range at null (%zu bytes)", len);
  HV_CHECK(!__builtin_add_overflow(start, len, &end), "kernel range %#lx+%zu wraps", start, len);
#if defined(HV_KERNEL)
  HV_CHECK(start >= arch::kUserSpaceEnd, "%#lx is not kernel memory", start);
#endif
}

size_t CopyInfallible(std::byte* dst, const std::byte* src, size_t len) {
  if (len != 0) {
    // SAFETY: both ranges are valid kernel memory of at least `len` bytes
    // (the infallible reader/writer contract) and do not overlap (REQUIRES).
    __builtin_memcpy(dst, src, len);
  }
  return len;
}

void FillInfallible(std::byte* dst, std::byte value, size_t len) {
  if (len != 0) {
    // SAFETY: [dst, dst + len) is valid kernel memory (infallible writer).
    __builtin_memset(dst, static_cast<int>(value), len);
  }
}

CopyResult CopyFallible(std::byte* dst, const std::byte* src, size_t len) {
  if (len == 0) return size_t{0};
  // SAFETY: the ranges were checked at reader/writer creation (no wrap, in
  // the window); the primitive turns any fault into a short count.
  const size_t not_done = hv_memcpy_fallible(dst, src, len);
  if (not_done != 0) return CopyError{Error::kPageFault, len - not_done};
  return len;
}

CopyResult FillFallible(std::byte* dst, std::byte value, size_t len) {
  if (len == 0) return size_t{0};
  // SAFETY: as CopyFallible.
  const size_t not_done = hv_memset_fallible(dst, static_cast<int>(value), len);
  if (not_done != 0) return CopyError{Error::kPageFault, len - not_done};
  return len;
}

uint64_t LoadOnce(const std::byte* src, size_t size) {
  // SAFETY: `src` is aligned to `size` and valid kernel memory (checked by
  // the caller); a volatile access of a naturally aligned integer of at most
  // 8 bytes is one instruction on both architectures.
  switch (size) {
    case 1:
      return *reinterpret_cast<const volatile uint8_t*>(src);
    case 2:
      return *reinterpret_cast<const volatile uint16_t*>(src);
    case 4:
      return *reinterpret_cast<const volatile uint32_t*>(src);
    case 8:
      return *reinterpret_cast<const volatile uint64_t*>(src);
  }
  HV_PANIC("LoadOnce of %zu bytes", size);
}

void StoreOnce(std::byte* dst, size_t size, uint64_t value) {
  // SAFETY: as LoadOnce.
  switch (size) {
    case 1:
      *reinterpret_cast<volatile uint8_t*>(dst) = static_cast<uint8_t>(value);
      return;
    case 2:
      *reinterpret_cast<volatile uint16_t*>(dst) = static_cast<uint16_t>(value);
      return;
    case 4:
      *reinterpret_cast<volatile uint32_t*>(dst) = static_cast<uint32_t>(value);
      return;
    case 8:
      *reinterpret_cast<volatile uint64_t*>(dst) = value;
      return;
  }
  HV_PANIC("StoreOnce of %zu bytes", size);
}

Result<uint64_t> LoadOnceFallible(const std::byte* src, size_t size) {
  uint64_t value = 0;
  // SAFETY: `src` is aligned to `size`; the primitive reports a fault
  // instead of taking it.
  if (hv_load_once_fallible(src, size, &value) != 0) return Error::kPageFault;
  return value;
}

Result<void> StoreOnceFallible(std::byte* dst, size_t size, uint64_t value) {
  // SAFETY: as LoadOnceFallible.
  if (hv_store_once_fallible(dst, size, value) != 0) return Error::kPageFault;
  return Ok();
}

}  // namespace internal
}  // namespace hv::mm
