// VmIo: reading and writing an object of memory (a guest's RAM, a frame, a
// window) at offsets, with no short reads or writes.
//
// Implementations provide Read(offset, writer) and Write(offset, reader);
// everything else is built on them. "No short reads": Read succeeds only if
// it filled the writer completely; if the data is only partly available it
// returns an error (kOutOfRange past the object's end, kPageFault on a
// fault). Likewise for Write. The methods are const: a VmIo is a handle to
// memory, as a std::span is, and concurrent use from several threads is
// allowed (with no atomicity beyond what VmIoOnce offers).
//
// VmIoOnce adds single non-tearing accesses of PodOnce values at an offset.
#ifndef MM_VM_IO_H_
#define MM_VM_IO_H_

#include <hv/base/result.h>
#include <hv/base/std.h>
#include <mm/io.h>
#include <mm/pod.h>

namespace hv::mm {

class VmIo {
 public:
  virtual ~VmIo() = default;

  // Reads writer.avail() bytes starting at `offset` into `writer`.
  virtual Result<void> Read(size_t offset, VmWriter<Fallible>& writer) const = 0;
  // Writes reader.remain() bytes from `reader` starting at `offset`.
  virtual Result<void> Write(size_t offset, VmReader<Fallible>& reader) const = 0;

  Result<void> ReadBytes(size_t offset, std::span<std::byte> buf) const {
    VmWriter<Fallible> writer = VmWriter<Infallible>::FromSpan(buf).ToFallible();
    return Read(offset, writer);
  }
  template <Pod T>
  Result<T> ReadVal(size_t offset) const {
    T value{};
    HV_TRY(ReadBytes(offset, AsWritableBytes(value)));
    return value;
  }
  template <Pod T>
  Result<void> ReadSlice(size_t offset, std::span<T> values) const {
    return ReadBytes(offset, std::as_writable_bytes(values));
  }

  Result<void> WriteBytes(size_t offset, std::span<const std::byte> buf) const {
    VmReader<Fallible> reader = VmReader<Infallible>::FromSpan(buf).ToFallible();
    return Write(offset, reader);
  }
  template <Pod T>
  Result<void> WriteVal(size_t offset, const T& value) const {
    return WriteBytes(offset, AsBytes(value));
  }
  template <Pod T>
  Result<void> WriteSlice(size_t offset, std::span<const T> values) const {
    return WriteBytes(offset, std::as_bytes(values));
  }

  // Writes the values of `values` one after another from `offset`, each at
  // an offset aligned to `align` (0 or 1: packed; otherwise every value
  // starts on an `align` boundary and takes sizeof(T) rounded up to
  // `align`). Stops at the end of `values` or at the first value that cannot
  // be written. Returns how many were written if any were; if the very first
  // fails, its error. REQUIRES: align is 0, 1 or a power of two.
  template <Pod T, typename Range>
  Result<size_t> WriteVals(size_t offset, const Range& values, size_t align) const;
};

class VmIoOnce {
 public:
  virtual ~VmIoOnce() = default;

  // One non-tearing load of `size` (1, 2, 4, 8) bytes at `offset`,
  // zero-extended. kOutOfRange past the end, kInvalidArgs if `offset` is not
  // a multiple of `size` in the object's memory, kPageFault on a fault.
  virtual Result<uint64_t> LoadOnce(size_t offset, size_t size) const = 0;
  // One non-tearing store of the low `size` bytes of `bits`; errors as above.
  virtual Result<void> StoreOnce(size_t offset, size_t size, uint64_t bits) const = 0;

  template <PodOnce T>
  Result<T> ReadOnce(size_t offset) const {
    const uint64_t bits = HV_TRY(LoadOnce(offset, sizeof(T)));
    return internal::FromBits<T>(bits);
  }
  template <PodOnce T>
  Result<void> WriteOnce(size_t offset, const T& value) const {
    return StoreOnce(offset, sizeof(T), internal::ToBits(value));
  }
};

// A VmIo and VmIoOnce over one fallible window [base, base + size) of this
// address space: offsets are checked against `size`, accesses go through the
// fallible primitives. Create() refuses windows as CheckUserWindow does.
class MemoryVmIo final : public VmIo, public VmIoOnce {
 public:
  static Result<MemoryVmIo> Create(void* base, size_t size);
  // For windows validated by other means (direct-map frames, guest RAM
  // mappings). REQUIRES: [base, base + size) does not wrap.
  static MemoryVmIo FromValidatedWindow(void* base, size_t size);

  size_t size() const { return size_; }

  Result<void> Read(size_t offset, VmWriter<Fallible>& writer) const override;
  Result<void> Write(size_t offset, VmReader<Fallible>& reader) const override;
  Result<uint64_t> LoadOnce(size_t offset, size_t size) const override;
  Result<void> StoreOnce(size_t offset, size_t size, uint64_t bits) const override;

 private:
  MemoryVmIo(std::byte* base, size_t size) : base_(base), size_(size) {}

  // The window's [offset, offset + len), or kOutOfRange.
  Result<std::byte*> Slice(size_t offset, size_t len) const;

  std::byte* base_;
  size_t size_;
};

template <Pod T, typename Range>
Result<size_t> VmIo::WriteVals(size_t offset, const Range& values, size_t align) const {
  HV_CHECK(align == 0 || std::has_single_bit(align), "WriteVals: align %zu", align);
  size_t item_size = sizeof(T);
  if (align > 1) {
    const size_t mask = align - 1;
    if (offset > ~size_t{0} - mask) return Error::kOutOfRange;
    offset = (offset + mask) & ~mask;
    item_size = (sizeof(T) + mask) & ~mask;
  }
  size_t written = 0;
  for (const T& value : values) {
    Result<void> result = WriteVal(offset, value);
    if (!result.ok()) {
      if (written > 0) return written;
      return std::move(result).error();
    }
    ++written;
    if (__builtin_add_overflow(offset, item_size, &offset)) break;
  }
  return written;
}

}  // namespace hv::mm

#endif  // MM_VM_IO_H_
