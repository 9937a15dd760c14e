#include <guestmem/accessor.h>

namespace hv::guestmem {
namespace {

bool RangeWraps(GuestPhysAddr gpa, size_t len) {
  return len != 0 && !gpa.CheckedAdd(len - 1).has_value();
}

}  // namespace

// Inlined into CopyOut/CopyIn, once per way of translating: with the
// translation inline and the copy in registers, a copy across a region
// boundary costs little more than two plain memcpys (docs/performance.md,
// "guestmem").
template <typename TranslateFn, typename CopyChunk>
[[gnu::always_inline]] inline GuestMemoryAccessor::Copied GuestMemoryAccessor::ForEachChunk(
    GuestPhysAddr gpa, size_t total, TranslateFn translate, CopyChunk copy) {
  if (total == 0) return {0, 0};
  if (RangeWraps(gpa, total)) return {total, ErrorBits(Error::kOutOfRange)};
  // Few values live across the copy (the next gpa, what is left, the next
  // translation, and the copy's own cursor), so they stay in callee-saved
  // registers: a store to the stack costs as much as a 64-byte store of the
  // copy when it is bound by stores.
  Result<Translation> t = translate(gpa);
  uint64_t at = gpa.value();
  size_t left = total;
  while (true) {
    if (!t.ok()) [[unlikely]] {
      return {left, ErrorBits(t.error())};
    }
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(t->limit, left));
    std::byte* const host = PtrFromHostVirt<std::byte>(t->hva);
    left -= chunk;
    at += chunk;
    // The next chunk is translated before this one is copied, so the copy
    // after it need not wait for the translation: the copy into guest
    // memory across a boundary took 33 instead of 29 ns without.
    if (left != 0) [[unlikely]] {
      t = translate(GuestPhysAddr(at));
    }
    const size_t not_done = copy(host, chunk);
    if (not_done != 0) [[unlikely]] {
      return {left + not_done, ErrorBits(Error::kPageFault)};
    }
    if (left == 0) return {0, 0};
  }
}

template <typename CopyChunk>
[[gnu::always_inline]] inline GuestMemoryAccessor::Copied GuestMemoryAccessor::ForEachChunk(
    GuestPhysAddr gpa, size_t total, CopyChunk copy) const {
  return WithTranslator([&](auto translate) { return ForEachChunk(gpa, total, translate, copy); });
}

GuestMemoryAccessor::Copied GuestMemoryAccessor::CopyOut(GuestPhysAddr gpa, std::byte* out,
                                                         size_t len) const {
  return ForEachChunk(gpa, len, [out](const std::byte* host, size_t chunk) mutable {
    // SAFETY: [host, host + chunk) lies in one translation of guest RAM and
    // [out, out + chunk) in the caller's range; the primitive reports a
    // fault on either side instead of taking it.
    std::byte* const to = out;
    out += chunk;  // before the call: chunk need not live across it
    return hv_memcpy_fallible(to, host, chunk);
  });
}

GuestMemoryAccessor::Copied GuestMemoryAccessor::CopyIn(GuestPhysAddr gpa, const std::byte* in,
                                                        size_t len) const {
  return ForEachChunk(gpa, len, [in](std::byte* host, size_t chunk) mutable {
    // SAFETY: as CopyOut.
    const std::byte* const from = in;
    in += chunk;
    return hv_memcpy_fallible(host, from, chunk);
  });
}

Result<Translation> GuestMemoryAccessor::TranslateLinearMany(std::span<const LinearRegion> regions,
                                                             GuestPhysAddr gpa) {
  // Binary search for the first region whose base is above gpa: the one
  // before it is the only one that can hold gpa.
  size_t lo = 0;
  size_t hi = regions.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (gpa < regions[mid].base) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (lo == 0) return Error::kOutOfRange;
  const LinearRegion& r = regions[lo - 1];
  const uint64_t offset = gpa.OffsetFrom(r.base);
  if (offset >= r.size) return Error::kOutOfRange;
  return Translation{HostVirtFromPtr(r.host + offset), r.size - offset};
}

// The reader or writer advances once, by the bytes done.
template <mm::Fallibility W>
CopyResult GuestMemoryAccessor::ReadInto(GuestPhysAddr gpa, mm::VmWriter<W>& writer) const {
  const size_t len = writer.avail();
  const Copied copied = CopyOut(gpa, writer.cursor(), len);
  writer.Skip(len - copied.left);
  return copied.ToResult(len);
}

template <mm::Fallibility R>
CopyResult GuestMemoryAccessor::WriteFrom(GuestPhysAddr gpa, mm::VmReader<R>& reader) const {
  const size_t len = reader.remain();
  const Copied copied = CopyIn(gpa, reader.cursor(), len);
  reader.Skip(len - copied.left);
  return copied.ToResult(len);
}

template CopyResult GuestMemoryAccessor::ReadInto(GuestPhysAddr, mm::VmWriter<mm::Fallible>&) const;
template CopyResult GuestMemoryAccessor::ReadInto(GuestPhysAddr,
                                                  mm::VmWriter<mm::Infallible>&) const;
template CopyResult GuestMemoryAccessor::WriteFrom(GuestPhysAddr,
                                                   mm::VmReader<mm::Fallible>&) const;
template CopyResult GuestMemoryAccessor::WriteFrom(GuestPhysAddr,
                                                   mm::VmReader<mm::Infallible>&) const;

Result<mm::VmReader<mm::Fallible>> GuestMemoryAccessor::Reader(GuestPhysAddr gpa,
                                                               size_t len) const {
  if (RangeWraps(gpa, len)) return Error::kOutOfRange;
  const Translation t = HV_TRY(Translate(gpa));
  if (len > t.limit) return Error::kOutOfRange;
  return mm::VmReader<mm::Fallible>::FromValidatedWindow(PtrFromHostVirt(t.hva), len);
}

Result<mm::VmWriter<mm::Fallible>> GuestMemoryAccessor::Writer(GuestPhysAddr gpa,
                                                               size_t len) const {
  if (RangeWraps(gpa, len)) return Error::kOutOfRange;
  const Translation t = HV_TRY(Translate(gpa));
  if (len > t.limit) return Error::kOutOfRange;
  return mm::VmWriter<mm::Fallible>::FromValidatedWindow(PtrFromHostVirt(t.hva), len);
}

Result<void> GuestVmIo::Read(size_t offset, mm::VmWriter<mm::Fallible>& writer) const {
  CopyResult r = memory_.ReadInto(GuestPhysAddr(offset), writer);
  if (!r.ok()) return r.error().code;
  return Ok();
}

Result<void> GuestVmIo::Write(size_t offset, mm::VmReader<mm::Fallible>& reader) const {
  CopyResult r = memory_.WriteFrom(GuestPhysAddr(offset), reader);
  if (!r.ok()) return r.error().code;
  return Ok();
}

Result<uint64_t> GuestVmIo::LoadOnce(size_t offset, size_t size) const {
  const GuestPhysAddr gpa(offset);
  switch (size) {
    case 1:
      return uint64_t{HV_TRY(memory_.ReadVolatile<uint8_t>(gpa))};
    case 2:
      return uint64_t{HV_TRY(memory_.ReadVolatile<uint16_t>(gpa))};
    case 4:
      return uint64_t{HV_TRY(memory_.ReadVolatile<uint32_t>(gpa))};
    case 8:
      return memory_.ReadVolatile<uint64_t>(gpa);
  }
  return Error::kInvalidArgs;
}

Result<void> GuestVmIo::StoreOnce(size_t offset, size_t size, uint64_t bits) const {
  const GuestPhysAddr gpa(offset);
  switch (size) {
    case 1:
      return memory_.WriteVolatile<uint8_t>(gpa, static_cast<uint8_t>(bits));
    case 2:
      return memory_.WriteVolatile<uint16_t>(gpa, static_cast<uint16_t>(bits));
    case 4:
      return memory_.WriteVolatile<uint32_t>(gpa, static_cast<uint32_t>(bits));
    case 8:
      return memory_.WriteVolatile<uint64_t>(gpa, bits);
  }
  return Error::kInvalidArgs;
}

}  // namespace hv::guestmem
