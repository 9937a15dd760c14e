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

void BadKernelRange(const volatile void* ptr, size_t len) {
  HV_PANIC("%p + %zu is not a valid kernel range", const_cast<const void*>(ptr), len);
}

void BadOnceSize(size_t size) { HV_PANIC("single access of %zu bytes", size); }

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
  BadOnceSize(size);
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
  BadOnceSize(size);
}

}  // namespace internal
}  // namespace hv::mm
