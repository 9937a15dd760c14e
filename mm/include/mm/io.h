// Readers and writers over memory that the hypervisor may or may not trust.
//
// A VmReader<F> reads a contiguous range [cursor, end); a VmWriter<F> writes
// one. F says what a fault means:
//
//   Infallible  kernel memory that is valid for the object's lifetime (our
//               own buffers, the direct map). Copies cannot fail and return
//               the byte count.
//   Fallible    a user or guest window: memory that may be unmapped or
//               revoked at any time. Copies go through the fallible
//               primitives (<arch/fallible.h>) and return either the byte
//               count or a CopyError carrying kPageFault and the exact number
//               of bytes copied before the fault; both cursors advance by
//               exactly that number.
//
// Names follow the reference (Asterinas OSTD mm/io.rs) in our style:
// trivial accessors stay snake_case (remain, avail, cursor, has_remain,
// has_avail), operations are CamelCase (read -> Read, read_fallible ->
// ReadFallible, read_val -> ReadVal, read_once -> ReadOnce, fill_zeros ->
// FillZeros, collect -> Collect, limit -> Limit, skip -> Skip,
// to_fallible -> ToFallible, from_user_space -> FromUser, from_kernel_space
// -> FromKernel).
//
// Contracts (also the verified VmWriter spec's, checked in io_property_test):
//   - A copy moves min(remain, avail) bytes; cursors advance by exactly the
//     returned (or reported) count.
//   - ReadVal/WriteVal/Collect either move the whole value or fail without
//     moving the cursor: kInvalidArgs when too short, kPageFault on a fault.
//   - Source and destination must not overlap (REQUIRES; unspecified bytes
//     but no crash if violated on untyped memory).
//
// Readers are copyable (they only read); writers are move-only (they stand
// for exclusive access to their range).
#ifndef MM_IO_H_
#define MM_IO_H_

#include <arch/fallible.h>
#include <arch/layout.h>
#include <hv/base/check.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <mm/pod.h>

#if !defined(HV_KERNEL)
#include <vector>
#endif

namespace hv::mm {

// Fallibility tags.
struct Fallible {};
struct Infallible {};

template <typename F>
concept Fallibility = std::same_as<F, Fallible> || std::same_as<F, Infallible>;

// The error of an operation that may fail part-way: what went wrong and how
// many bytes were done before it did.
struct CopyError {
  Error code;
  size_t done;

  bool operator==(const CopyError&) const = default;
};

// Bytes copied, or the error with the bytes copied before it.
using CopyResult = Result<size_t, CopyError>;

// Checks a user/guest window [ptr, ptr + len): kInvalidArgs for a null
// pointer with a non-zero length or a range that wraps; kAccessDenied for a
// range that reaches kernel memory (at or above arch::kUserSpaceEnd). An
// empty window at any address is valid.
Result<void> CheckUserWindow(const volatile void* ptr, size_t len);

namespace internal {

// REQUIRES for infallible kernel ranges: non-null when non-empty, no wrap,
// and (in kernel images) in kernel memory. Panics otherwise.
[[noreturn]] void BadKernelRange(const volatile void* ptr, size_t len);
inline void CheckKernelRange(const volatile void* ptr, size_t len) {
  const auto start = reinterpret_cast<uintptr_t>(ptr);
  uintptr_t end;
  if (len != 0 && (start == 0 || __builtin_add_overflow(start, len, &end)
#if defined(HV_KERNEL)
                   || start < arch::kUserSpaceEnd
#endif
                   )) {
    BadKernelRange(ptr, len);
  }
}

// Copies between two ranges, fallibly unless both sides are infallible.
inline size_t CopyInfallible(std::byte* dst, const std::byte* src, size_t len) {
  if (len != 0) {
    // SAFETY: both ranges are valid kernel memory of at least `len` bytes
    // (the infallible reader/writer contract) and do not overlap (REQUIRES).
    __builtin_memcpy(dst, src, len);
  }
  return len;
}
inline void FillInfallible(std::byte* dst, std::byte value, size_t len) {
  if (len != 0) {
    // SAFETY: [dst, dst + len) is valid kernel memory (infallible writer).
    __builtin_memset(dst, static_cast<int>(value), len);
  }
}
inline CopyResult CopyFallible(std::byte* dst, const std::byte* src, size_t len) {
  // SAFETY: the ranges were checked at reader/writer creation (no wrap, in
  // the window); the primitive turns any fault into a short count.
  const size_t not_done = len == 0 ? 0 : hv_memcpy_fallible(dst, src, len);
  if (not_done != 0) [[unlikely]] {
    return CopyError{Error::kPageFault, len - not_done};
  }
  return len;
}
inline CopyResult FillFallible(std::byte* dst, std::byte value, size_t len) {
  // SAFETY: as CopyFallible.
  const size_t not_done = len == 0 ? 0 : hv_memset_fallible(dst, static_cast<int>(value), len);
  if (not_done != 0) [[unlikely]] {
    return CopyError{Error::kPageFault, len - not_done};
  }
  return len;
}

// One aligned, non-tearing access of `size` (1, 2, 4 or 8) bytes; any other
// size panics.
uint64_t LoadOnce(const std::byte* src, size_t size);
void StoreOnce(std::byte* dst, size_t size, uint64_t value);
[[noreturn]] void BadOnceSize(size_t size);

// The fallible ones are inline so that a constant size picks its primitive
// at compile time (a guest's read_obj<u64> is one call of
// hv_load_once_fallible_8).
inline Result<uint64_t> LoadOnceFallible(const std::byte* src, size_t size) {
  uint64_t value = 0;
  // SAFETY: `src` is aligned to `size` (REQUIRES); the primitive reports a
  // fault instead of taking it.
  switch (hv_load_once_fallible(src, size, &value)) {
    case 0:
      return value;
    case 1:
      return Error::kPageFault;
    default:
      BadOnceSize(size);
  }
}
inline Result<void> StoreOnceFallible(std::byte* dst, size_t size, uint64_t value) {
  // SAFETY: as LoadOnceFallible.
  switch (hv_store_once_fallible(dst, size, value)) {
    case 0:
      return Ok();
    case 1:
      return Error::kPageFault;
    default:
      BadOnceSize(size);
  }
}

template <PodOnce T>
uint64_t ToBits(const T& value) {
  if constexpr (sizeof(T) == 1) return std::bit_cast<uint8_t>(value);
  if constexpr (sizeof(T) == 2) return std::bit_cast<uint16_t>(value);
  if constexpr (sizeof(T) == 4) return std::bit_cast<uint32_t>(value);
  if constexpr (sizeof(T) == 8) return std::bit_cast<uint64_t>(value);
}
template <PodOnce T>
T FromBits(uint64_t bits) {
  if constexpr (sizeof(T) == 1) return std::bit_cast<T>(static_cast<uint8_t>(bits));
  if constexpr (sizeof(T) == 2) return std::bit_cast<T>(static_cast<uint16_t>(bits));
  if constexpr (sizeof(T) == 4) return std::bit_cast<T>(static_cast<uint32_t>(bits));
  if constexpr (sizeof(T) == 8) return std::bit_cast<T>(bits);
}

}  // namespace internal

template <Fallibility F>
class VmWriter;

template <Fallibility F = Fallible>
class VmReader {
 public:
  static constexpr bool kFallible = std::same_as<F, Fallible>;

  // An empty reader.
  VmReader() = default;

  // Kernel memory valid for reads of `len` bytes while the reader is used.
  // REQUIRES: ptr non-null unless len == 0; [ptr, ptr + len) does not wrap;
  // in kernel images, the range is kernel memory.
  static VmReader FromKernel(const void* ptr, size_t len) requires(!kFallible) {
    internal::CheckKernelRange(ptr, len);
    return VmReader(static_cast<const std::byte*>(ptr), len);
  }
  static VmReader FromSpan(std::span<const std::byte> bytes) requires(!kFallible) {
    return FromKernel(bytes.data(), bytes.size());
  }
  template <Pod T>
  static VmReader FromPod(const T& value) requires(!kFallible) {
    return FromKernel(&value, sizeof(T));
  }

  // A user/guest window [ptr, ptr + len), which may fault. Errors as
  // CheckUserWindow.
  static Result<VmReader> FromUser(const void* ptr, size_t len) requires kFallible {
    HV_TRY(CheckUserWindow(ptr, len));
    arch::InstallFaultHandler();
    return VmReader(static_cast<const std::byte*>(ptr), len);
  }

  // A fallible reader over a range the caller has validated by other means
  // (a guest RAM mapping, a VmSpace range). REQUIRES: no wrap.
  static VmReader FromValidatedWindow(const void* ptr, size_t len) requires kFallible {
    arch::InstallFaultHandler();
    return VmReader(static_cast<const std::byte*>(ptr), len);
  }

  size_t remain() const { return static_cast<size_t>(end_ - cursor_); }
  const std::byte* cursor() const { return cursor_; }
  bool has_remain() const { return cursor_ != end_; }

  // Ensures remain() <= max_remain.
  VmReader& Limit(size_t max_remain) {
    if (max_remain < remain()) end_ = cursor_ + max_remain;
    return *this;
  }
  // Skips `n` bytes. REQUIRES: n <= remain().
  VmReader& Skip(size_t n) {
    HV_CHECK(n <= remain(), "VmReader::Skip(%zu) past the end (remain %zu)", n, remain());
    cursor_ += n;
    return *this;
  }

  // The same range, as a fallible reader.
  VmReader<Fallible> ToFallible() const requires(!kFallible) {
    return VmReader<Fallible>::FromValidatedWindow(cursor_, remain());
  }

  // Copies min(remain(), writer.avail()) bytes; returns the count.
  size_t Read(VmWriter<Infallible>& writer) requires(std::same_as<F, Infallible>);

  // Copies min(remain(), writer.avail()) bytes, stopping at a fault. Both
  // cursors advance by the bytes copied.
  template <Fallibility W>
  CopyResult ReadFallible(VmWriter<W>& writer) requires(std::same_as<F, Fallible> ||
                                                        std::same_as<W, Fallible>);

  // Reads one value. kInvalidArgs when fewer than sizeof(T) bytes remain;
  // kPageFault on a fault, with the cursor back where it started.
  template <Pod T>
  Result<T> ReadVal();

  // Reads one value with a single non-tearing load. kInvalidArgs when fewer
  // than sizeof(T) bytes remain; kPageFault on a fault (cursor unmoved).
  // REQUIRES: cursor() is a multiple of sizeof(T).
  template <PodOnce T>
  Result<T> ReadOnce() {
    if (remain() < sizeof(T)) return Error::kInvalidArgs;
    HV_CHECK(reinterpret_cast<uintptr_t>(cursor_) % sizeof(T) == 0,
             "ReadOnce: cursor %p not aligned to %zu", static_cast<const void*>(cursor_),
             sizeof(T));
    uint64_t bits;
    if constexpr (kFallible) {
      bits = HV_TRY(internal::LoadOnceFallible(cursor_, sizeof(T)));
    } else {
      bits = internal::LoadOnce(cursor_, sizeof(T));
    }
    cursor_ += sizeof(T);
    return internal::FromBits<T>(bits);
  }

  // Copies every remaining byte into `out` and returns the count.
  // kInvalidArgs if out is smaller than remain(); on a fault, kPageFault and
  // the cursor back where it started.
  Result<size_t> Collect(std::span<std::byte> out);
#if !defined(HV_KERNEL)
  // Hosted builds: every remaining byte in a new vector, same errors.
  Result<std::vector<std::byte>> Collect() {
    std::vector<std::byte> out(remain());
    HV_TRY(Collect(std::span<std::byte>(out)));
    return out;
  }
#endif

 private:
  template <Fallibility>
  friend class VmReader;
  template <Fallibility>
  friend class VmWriter;

  VmReader(const std::byte* ptr, size_t len) : cursor_(ptr), end_(ptr + len) {}

  const std::byte* cursor_ = nullptr;
  const std::byte* end_ = nullptr;
};

template <Fallibility F = Fallible>
class VmWriter {
 public:
  static constexpr bool kFallible = std::same_as<F, Fallible>;

  // An empty writer.
  VmWriter() = default;
  VmWriter(VmWriter&& other) noexcept : cursor_(other.cursor_), end_(other.end_) {
    other.cursor_ = other.end_ = nullptr;
  }
  VmWriter& operator=(VmWriter&& other) noexcept {
    cursor_ = std::exchange(other.cursor_, nullptr);
    end_ = std::exchange(other.end_, nullptr);
    return *this;
  }
  VmWriter(const VmWriter&) = delete;
  VmWriter& operator=(const VmWriter&) = delete;

  // Kernel memory valid for writes of `len` bytes while the writer is used.
  // REQUIRES: as VmReader::FromKernel.
  static VmWriter FromKernel(void* ptr, size_t len) requires(!kFallible) {
    internal::CheckKernelRange(ptr, len);
    return VmWriter(static_cast<std::byte*>(ptr), len);
  }
  static VmWriter FromSpan(std::span<std::byte> bytes) requires(!kFallible) {
    return FromKernel(bytes.data(), bytes.size());
  }
  template <Pod T>
  static VmWriter FromPod(T& value) requires(!kFallible) {
    return FromKernel(&value, sizeof(T));
  }

  // A user/guest window [ptr, ptr + len), which may fault. Errors as
  // CheckUserWindow.
  static Result<VmWriter> FromUser(void* ptr, size_t len) requires kFallible {
    HV_TRY(CheckUserWindow(ptr, len));
    arch::InstallFaultHandler();
    return VmWriter(static_cast<std::byte*>(ptr), len);
  }

  // A fallible writer over a range the caller has validated by other means.
  // REQUIRES: no wrap.
  static VmWriter FromValidatedWindow(void* ptr, size_t len) requires kFallible {
    arch::InstallFaultHandler();
    return VmWriter(static_cast<std::byte*>(ptr), len);
  }

  size_t avail() const { return static_cast<size_t>(end_ - cursor_); }
  std::byte* cursor() const { return cursor_; }
  bool has_avail() const { return cursor_ != end_; }

  // Ensures avail() <= max_avail.
  VmWriter& Limit(size_t max_avail) {
    if (max_avail < avail()) end_ = cursor_ + max_avail;
    return *this;
  }
  // Skips `n` bytes. REQUIRES: n <= avail().
  VmWriter& Skip(size_t n) {
    HV_CHECK(n <= avail(), "VmWriter::Skip(%zu) past the end (avail %zu)", n, avail());
    cursor_ += n;
    return *this;
  }

  // The same range, as a fallible writer (this writer is consumed).
  VmWriter<Fallible> ToFallible() && requires(!kFallible) {
    VmWriter<Fallible> fallible = VmWriter<Fallible>::FromValidatedWindow(cursor_, avail());
    cursor_ = end_ = nullptr;
    return fallible;
  }

  // Copies min(reader.remain(), avail()) bytes; returns the count.
  size_t Write(VmReader<Infallible>& reader) requires(!kFallible) { return reader.Read(*this); }

  // Copies min(reader.remain(), avail()) bytes, stopping at a fault.
  template <Fallibility R>
  CopyResult WriteFallible(VmReader<R>& reader) requires(kFallible || std::same_as<R, Fallible>) {
    return reader.ReadFallible(*this);
  }

  // Writes one value. kInvalidArgs when avail() < sizeof(T); kPageFault on a
  // fault, with the cursor back where it started (the bytes before the fault
  // may have been written).
  template <Pod T>
  Result<void> WriteVal(const T& value);

  // Writes one value with a single non-tearing store. kInvalidArgs when
  // avail() < sizeof(T); kPageFault on a fault (cursor unmoved).
  // REQUIRES: cursor() is a multiple of sizeof(T).
  template <PodOnce T>
  Result<void> WriteOnce(const T& value) {
    if (avail() < sizeof(T)) return Error::kInvalidArgs;
    HV_CHECK(reinterpret_cast<uintptr_t>(cursor_) % sizeof(T) == 0,
             "WriteOnce: cursor %p not aligned to %zu", static_cast<void*>(cursor_), sizeof(T));
    if constexpr (kFallible) {
      HV_TRY(internal::StoreOnceFallible(cursor_, sizeof(T), internal::ToBits(value)));
    } else {
      internal::StoreOnce(cursor_, sizeof(T), internal::ToBits(value));
    }
    cursor_ += sizeof(T);
    return Ok();
  }

  // Fills all available space with copies of `value` and returns how many
  // were written. REQUIRES: cursor() aligned to alignof(T) and avail() a
  // multiple of sizeof(T).
  template <Pod T>
  size_t Fill(const T& value) requires(std::same_as<F, Infallible>);

  // Writes min(len, avail()) zero bytes and returns the count; on a fault,
  // kPageFault and the exact count written, the cursor advanced by it.
  CopyResult FillZeros(size_t len);

 private:
  template <Fallibility>
  friend class VmReader;
  template <Fallibility>
  friend class VmWriter;

  VmWriter(std::byte* ptr, size_t len) : cursor_(ptr), end_(ptr + len) {}

  std::byte* cursor_ = nullptr;
  std::byte* end_ = nullptr;
};

// ---- Implementation -------------------------------------------------------
//
// The out-of-line definitions spell their constraints without naming class
// members (kFallible): clang 14 cannot look members up in the
// requires-clause of an out-of-line definition.

template <Fallibility F>
size_t VmReader<F>::Read(VmWriter<Infallible>& writer) requires(std::same_as<F, Infallible>) {
  const size_t len = std::min(remain(), writer.avail());
  internal::CopyInfallible(writer.cursor_, cursor_, len);
  cursor_ += len;
  writer.cursor_ += len;
  return len;
}

template <Fallibility F>
template <Fallibility W>
CopyResult VmReader<F>::ReadFallible(VmWriter<W>& writer) requires(std::same_as<F, Fallible> ||
                                                                   std::same_as<W, Fallible>) {
  const size_t len = std::min(remain(), writer.avail());
  CopyResult result = internal::CopyFallible(writer.cursor_, cursor_, len);
  const size_t done = result.ok() ? result.value() : result.error().done;
  cursor_ += done;
  writer.cursor_ += done;
  return result;
}

template <Fallibility F>
template <Pod T>
Result<T> VmReader<F>::ReadVal() {
  if (remain() < sizeof(T)) return Error::kInvalidArgs;
  T value{};
  VmWriter<Infallible> out = VmWriter<Infallible>::FromPod(value);
  if constexpr (kFallible) {
    const VmReader saved = *this;
    CopyResult copied = ReadFallible(out);
    if (!copied.ok()) {
      *this = saved;
      return copied.error().code;
    }
  } else {
    Read(out);
  }
  return value;
}

template <Fallibility F>
Result<size_t> VmReader<F>::Collect(std::span<std::byte> out) {
  if (out.size() < remain()) return Error::kInvalidArgs;
  VmWriter<Infallible> writer = VmWriter<Infallible>::FromSpan(out.first(remain()));
  if constexpr (kFallible) {
    const VmReader saved = *this;
    CopyResult copied = ReadFallible(writer);
    if (!copied.ok()) {
      *this = saved;
      return copied.error().code;
    }
    return copied.value();
  } else {
    return Read(writer);
  }
}

template <Fallibility F>
template <Pod T>
Result<void> VmWriter<F>::WriteVal(const T& value) {
  if (avail() < sizeof(T)) return Error::kInvalidArgs;
  VmReader<Infallible> in = VmReader<Infallible>::FromPod(value);
  if constexpr (kFallible) {
    std::byte* const start = cursor_;
    CopyResult copied = WriteFallible(in);
    if (!copied.ok()) {
      cursor_ = start;
      return copied.error().code;
    }
  } else {
    Write(in);
  }
  return Ok();
}

template <Fallibility F>
template <Pod T>
size_t VmWriter<F>::Fill(const T& value) requires(std::same_as<F, Infallible>) {
  HV_CHECK(reinterpret_cast<uintptr_t>(cursor_) % alignof(T) == 0, "Fill: cursor not aligned");
  HV_CHECK(avail() % sizeof(T) == 0, "Fill: avail %zu not a multiple of %zu", avail(), sizeof(T));
  const size_t count = avail() / sizeof(T);
  for (size_t i = 0; i < count; ++i) {
    internal::CopyInfallible(cursor_ + i * sizeof(T), AsBytes(value).data(), sizeof(T));
  }
  cursor_ = end_;
  return count;
}

template <Fallibility F>
CopyResult VmWriter<F>::FillZeros(size_t len) {
  const size_t n = std::min(len, avail());
  if constexpr (!kFallible) {
    internal::FillInfallible(cursor_, std::byte{0}, n);
    cursor_ += n;
    return n;
  } else {
    CopyResult result = internal::FillFallible(cursor_, std::byte{0}, n);
    cursor_ += result.ok() ? result.value() : result.error().done;
    return result;
  }
}

}  // namespace hv::mm

#endif  // MM_IO_H_
