// Access to a guest's physical memory at guest-chosen addresses.
//
// A backend implements one thing, TranslateAndGetLimit(gpa): where gpa can be
// reached in this address space and how many bytes are contiguous from there.
// (A backend whose memory is a fixed list of linear regions also hands the
// list over with UseLinearRegions, and the accessor then looks addresses up
// inline.) Everything else is built on it here, once, for every backend:
//
//   ReadBuffer/WriteBuffer  any length across any number of translations;
//                           on failure the error and the exact bytes done
//   ReadObj/WriteObj        a whole Pod, with one access when T is PodOnce
//                           and aligned; straddling objects still whole
//   ReadVolatile/...        one non-tearing access of a PodOnce
//   Reader/Writer           mm's fallible VmReader/VmWriter over a range
//                           inside one translation
//   GuestVmIo               mm's VmIo over guest memory (offset = GPA)
//
// Every byte goes through mm's fallible primitives, so memory that is
// unmapped at host level (a truncated file, a revoked page) is an error, not
// a hypervisor fault. A guest address outside guest RAM, a range that wraps
// (gpa + len overflow) or runs into a hole is kOutOfRange with the bytes done
// before it; nothing outside the guest's memory is ever touched.
//
// Compared with the ArceOS GuestMemoryAccessor this interface fixes: the
// limit is the bytes remaining from gpa (not the region size), a zero limit
// is an error (never an endless loop), partial failures report progress, and
// the translation yields a HostVirtAddr (never a virtual address disguised
// as a physical one).
#ifndef GUESTMEM_ACCESSOR_H_
#define GUESTMEM_ACCESSOR_H_

#include <arch/fallible.h>
#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <mm/io.h>
#include <mm/pod.h>
#include <mm/vm_io.h>

namespace hv::guestmem {

using mm::CopyError;
using mm::CopyResult;

// Where a guest-physical address can be accessed.
struct Translation {
  // The address of `gpa` in this address space.
  HostVirtAddr hva;
  // Bytes contiguous from gpa to the end of this translation (always > 0 from
  // a correct backend; the accessor treats 0 as an error).
  uint64_t limit;
};

}  // namespace hv::guestmem

// A translation of zero bytes is no translation: Result<Translation> keeps
// its error there (limit 0, the Error in hva), so it is two words and comes
// back from TranslateAndGetLimit in two registers. A backend that returns a
// zero limit hands back kOutOfRange, never an empty translation.
template <>
struct hv::ResultNiche<hv::guestmem::Translation, hv::Error> {
  static constexpr bool IsError(const guestmem::Translation& t) { return t.limit == 0; }
  static constexpr guestmem::Translation FromError(Error error) {
    return {HostVirtAddr(static_cast<uint64_t>(error)), 0};
  }
  static constexpr Error ToError(const guestmem::Translation& t) {
    return IsErrorValue(t.hva.value()) ? static_cast<Error>(t.hva.value()) : Error::kOutOfRange;
  }
};

namespace hv::guestmem {

// Guest-physical memory reachable linearly from `host`: gpa base + i is at
// host + i, for i < size.
struct LinearRegion {
  GuestPhysAddr base;
  uint64_t size;
  std::byte* host;
};

class GuestMemoryAccessor {
 public:
  virtual ~GuestMemoryAccessor() = default;

  // The translation of `gpa`: kOutOfRange if gpa is not guest RAM.
  virtual Result<Translation> TranslateAndGetLimit(GuestPhysAddr gpa) const = 0;

  // Copies guest memory from gpa into `writer` until the writer is full.
  // Returns the byte count, or the error (kOutOfRange for addresses outside
  // guest RAM or a range that wraps, kPageFault for memory unmapped at host
  // level, on either side) with the exact bytes copied before it; the writer
  // advances by exactly that.
  template <mm::Fallibility W>
  CopyResult ReadInto(GuestPhysAddr gpa, mm::VmWriter<W>& writer) const;
  // Copies everything `reader` has to guest memory at gpa; errors as
  // ReadInto.
  template <mm::Fallibility R>
  CopyResult WriteFrom(GuestPhysAddr gpa, mm::VmReader<R>& reader) const;

  // ReadInto/WriteFrom for plain buffers.
  CopyResult ReadBuffer(GuestPhysAddr gpa, std::span<std::byte> out) const {
    mm::internal::CheckKernelRange(out.data(), out.size());
    return CopyOut(gpa, out.data(), out.size()).ToResult(out.size());
  }
  CopyResult WriteBuffer(GuestPhysAddr gpa, std::span<const std::byte> in) const {
    mm::internal::CheckKernelRange(in.data(), in.size());
    return CopyIn(gpa, in.data(), in.size()).ToResult(in.size());
  }

  // Reads a whole object; errors as ReadBuffer (without the count).
  template <mm::Pod T>
  Result<T> ReadObj(GuestPhysAddr gpa) const {
    if constexpr (mm::PodOnce<T>) {
      if (gpa.IsAligned(sizeof(T))) [[likely]] {
        const Result<Translation> t = Translate(gpa);
        if (t.ok() && t->limit >= sizeof(T)) [[likely]] {
          const uint64_t bits = HV_TRY(
              mm::internal::LoadOnceFallible(PtrFromHostVirt<const std::byte>(t->hva), sizeof(T)));
          return mm::internal::FromBits<T>(bits);
        }
      }
    }
    return ReadObjByCopy<T>(gpa);
  }

  // Writes a whole object; errors as WriteBuffer (without the count). On an
  // error, a prefix of the object may have been written.
  template <mm::Pod T>
  Result<void> WriteObj(GuestPhysAddr gpa, const T& value) const {
    if constexpr (mm::PodOnce<T>) {
      if (gpa.IsAligned(sizeof(T))) [[likely]] {
        const Result<Translation> t = Translate(gpa);
        if (t.ok() && t->limit >= sizeof(T)) [[likely]] {
          return mm::internal::StoreOnceFallible(PtrFromHostVirt<std::byte>(t->hva), sizeof(T),
                                                 mm::internal::ToBits(value));
        }
      }
    }
    return WriteObjByCopy(gpa, value);
  }

  // One non-tearing load/store of a PodOnce. kInvalidArgs if gpa is not a
  // multiple of sizeof(T); otherwise errors as ReadBuffer.
  template <mm::PodOnce T>
  Result<T> ReadVolatile(GuestPhysAddr gpa) const {
    if (!gpa.IsAligned(sizeof(T))) return Error::kInvalidArgs;
    return ReadObj<T>(gpa);
  }
  template <mm::PodOnce T>
  Result<void> WriteVolatile(GuestPhysAddr gpa, const T& value) const {
    if (!gpa.IsAligned(sizeof(T))) return Error::kInvalidArgs;
    return WriteObj<T>(gpa, value);
  }

  // A fallible reader/writer over [gpa, gpa + len), which must lie inside one
  // translation (kOutOfRange otherwise, or if it wraps).
  Result<mm::VmReader<mm::Fallible>> Reader(GuestPhysAddr gpa, size_t len) const;
  Result<mm::VmWriter<mm::Fallible>> Writer(GuestPhysAddr gpa, size_t len) const;

 protected:
  // Any backend's memory may fault (a Linux VMM's file-backed regions with
  // SIGBUS, say): the fault handler is installed before the first access,
  // whichever path it takes (once per process; nothing to do in kernel
  // images), so the copies themselves need not ask again.
  GuestMemoryAccessor() { arch::InstallFaultHandler(); }

  // For backends whose guest memory is a fixed list of linear regions,
  // sorted by base and disjoint (HostedGuestMemory): Translate looks gpa up
  // in it inline instead of calling TranslateAndGetLimit, which keeps calls
  // and their stack traffic out of every copy (docs/performance.md,
  // "guestmem"). The list must stay valid and unchanged while in use; an
  // empty list turns this off.
  void UseLinearRegions(std::span<const LinearRegion> regions) {
    inline_count_ = regions.size() <= kInlineRegions ? regions.size() : 0;
    for (size_t i = 0; i < inline_count_; ++i) inline_regions_[i] = regions[i];
    linear_ = inline_count_ == 0 ? regions : std::span<const LinearRegion>();
  }

  // The translation of gpa through `regions` (sorted by base, disjoint):
  // kOutOfRange if no region holds it.
  static Result<Translation> TranslateLinear(std::span<const LinearRegion> regions,
                                             GuestPhysAddr gpa) {
    // A VMM has a handful of RAM regions: a linear scan, one unsigned
    // compare per region (gpa below a base wraps to a huge offset), beats a
    // binary search's dependent loads and mispredictions.
    if (regions.size() <= kLinearScanRegions) [[likely]] {
      for (const LinearRegion& r : regions) {
        const uint64_t offset = gpa.value() - r.base.value();
        if (offset < r.size) return Translation{HostVirtFromPtr(r.host + offset), r.size - offset};
      }
      return Error::kOutOfRange;
    }
    return TranslateLinearMany(regions, gpa);
  }

  // Calls use(translate) with this accessor's way of translating, a callable
  // GuestPhysAddr -> Result<Translation>: the inline regions, the list
  // given to UseLinearRegions, or TranslateAndGetLimit. A loop inside `use`
  // chooses once, not per translation.
  template <typename Use>
  [[gnu::always_inline]] decltype(auto) WithTranslator(Use use) const {
    if (inline_count_ != 0) {
      return use([this](GuestPhysAddr a) { return TranslateLinear(InlineRegions(), a); });
    }
    if (!linear_.empty()) {
      return use([this](GuestPhysAddr a) { return TranslateLinear(linear_, a); });
    }
    return use([this](GuestPhysAddr a) { return TranslateAndGetLimit(a); });
  }

  // Where gpa can be accessed: the linear regions if the backend gave them,
  // otherwise TranslateAndGetLimit (whose zero limit Result<Translation>
  // turns into kOutOfRange). Inline: it is on the path of every access.
  Result<Translation> Translate(GuestPhysAddr gpa) const {
    return WithTranslator([gpa](auto translate) { return translate(gpa); });
  }

 private:
  // The outcome of a copy of `len` bytes as two plain integers, which come
  // back in two registers: the bytes left undone and the error.
  struct Copied {
    size_t left;
    // 0, or the Error (no Error is 0).
    uint64_t error;

    CopyResult ToResult(size_t len) const {
      if (error != 0) [[unlikely]] {
        return CopyError{static_cast<Error>(error), len - left};
      }
      return len;
    }
  };
  static constexpr uint64_t ErrorBits(Error error) { return static_cast<uint64_t>(error); }

  // Copy guest memory at gpa to [out, out + len), or [in, in + len) to guest
  // memory at gpa, with the fallible primitive (either side may fault);
  // errors as ReadInto/WriteFrom.
  Copied CopyOut(GuestPhysAddr gpa, std::byte* out, size_t len) const;
  Copied CopyIn(GuestPhysAddr gpa, const std::byte* in, size_t len) const;

  // ReadObj/WriteObj of objects that are not PodOnce, are misaligned or
  // straddle translations (or fail): byte copies. Out of line, so the one
  // access of the common case inlines into its caller.
  template <mm::Pod T>
  [[gnu::noinline]] Result<T> ReadObjByCopy(GuestPhysAddr gpa) const {
    T value{};
    CopyResult r = ReadBuffer(gpa, mm::AsWritableBytes(value));
    if (!r.ok()) return r.error().code;
    return value;
  }
  template <mm::Pod T>
  [[gnu::noinline]] Result<void> WriteObjByCopy(GuestPhysAddr gpa, const T& value) const {
    CopyResult r = WriteBuffer(gpa, mm::AsBytes(value));
    if (!r.ok()) return r.error().code;
    return Ok();
  }

  // Up to this many linear regions, a lookup scans them in order; beyond,
  // it searches.
  static constexpr size_t kLinearScanRegions = 8;
  static Result<Translation> TranslateLinearMany(std::span<const LinearRegion> regions,
                                                 GuestPhysAddr gpa);

  // The linear regions: up to kInlineRegions copied into the accessor, so a
  // lookup starts without loading a pointer to them (the 4 KiB copy into
  // guest memory across a boundary: 28.0 against 28.8 ns); more, by
  // reference in linear_.
  static constexpr size_t kInlineRegions = 4;
  std::span<const LinearRegion> InlineRegions() const {
    return {inline_regions_.data(), inline_count_};
  }
  size_t inline_count_ = 0;
  std::array<LinearRegion, kInlineRegions> inline_regions_{};
  std::span<const LinearRegion> linear_;

  // Walks [gpa, gpa + total) translation by translation (translate(gpa) ->
  // Result<Translation>), calling copy(host pointer, chunk) -> bytes not
  // done for each chunk in order, and accounts the progress across chunks.
  template <typename TranslateFn, typename CopyChunk>
  static Copied ForEachChunk(GuestPhysAddr gpa, size_t total, TranslateFn translate,
                             CopyChunk copy);
  // The same with this accessor's translation.
  template <typename CopyChunk>
  Copied ForEachChunk(GuestPhysAddr gpa, size_t total, CopyChunk copy) const;
};

// mm's VmIo and VmIoOnce over guest memory: offsets are guest-physical
// addresses. Any VmIo user (readers of structures, WriteVals...) works on
// guest memory through it.
class GuestVmIo final : public mm::VmIo, public mm::VmIoOnce {
 public:
  explicit GuestVmIo(const GuestMemoryAccessor& memory) : memory_(memory) {}

  Result<void> Read(size_t offset, mm::VmWriter<mm::Fallible>& writer) const override;
  Result<void> Write(size_t offset, mm::VmReader<mm::Fallible>& reader) const override;
  Result<uint64_t> LoadOnce(size_t offset, size_t size) const override;
  Result<void> StoreOnce(size_t offset, size_t size, uint64_t bits) const override;

 private:
  const GuestMemoryAccessor& memory_;
};

}  // namespace hv::guestmem

#endif  // GUESTMEM_ACCESSOR_H_
