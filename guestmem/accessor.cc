#include <guestmem/accessor.h>

namespace hv::guestmem {
namespace {

bool RangeWraps(GuestPhysAddr gpa, size_t len) {
  return len != 0 && !gpa.CheckedAdd(len - 1).has_value();
}

}  // namespace

// Inlined into CopyOut/CopyIn: with the copy in registers, a copy across a
// region boundary costs two translations and two primitive calls, little
// more than two plain memcpys (docs/performance.md, "guestmem").
template <typename CopyChunk>
[[gnu::always_inline]] inline GuestMemoryAccessor::Copied GuestMemoryAccessor::ForEachChunk(
    GuestPhysAddr gpa, size_t total, CopyChunk copy) const {
  if (RangeWraps(gpa, total)) return {0, ErrorBits(Error::kOutOfRange)};
  size_t done = 0;
  while (done < total) {
    Result<Translation> t = Translate(GuestPhysAddr(gpa.value() + done));
    if (!t.ok()) [[unlikely]] {
      return {done, ErrorBits(t.error())};
    }
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(t->limit, total - done));
    const size_t not_done = copy(PtrFromHostVirt<std::byte>(t->hva), done, chunk);
    if (not_done != 0) [[unlikely]] {
      return {done + chunk - not_done, ErrorBits(Error::kPageFault)};
    }
    // Not `done += chunk - not_done`: the next translation would wait for
    // the copy's result instead of starting while its stores drain.
    done += chunk;
  }
  return {done, 0};
}

GuestMemoryAccessor::Copied GuestMemoryAccessor::CopyOut(GuestPhysAddr gpa, std::byte* out,
                                                         size_t len) const {
  // Installed by the constructor already; the check stays because without it
  // the 4 KiB copies measured 15% slower (26.6 against 22.7 ns, a code-layout
  // effect of GCC 12 -O2; docs/performance.md, "guestmem").
  arch::InstallFaultHandler();
  return ForEachChunk(gpa, len, [out](const std::byte* host, size_t offset, size_t chunk) {
    // SAFETY: [host, host + chunk) lies in one translation of guest RAM and
    // [out + offset, + chunk) in the caller's range; the primitive reports a
    // fault on either side instead of taking it.
    return hv_memcpy_fallible(out + offset, host, chunk);
  });
}

GuestMemoryAccessor::Copied GuestMemoryAccessor::CopyIn(GuestPhysAddr gpa, const std::byte* in,
                                                        size_t len) const {
  arch::InstallFaultHandler();  // as in CopyOut
  return ForEachChunk(gpa, len, [in](std::byte* host, size_t offset, size_t chunk) {
    // SAFETY: as CopyOut.
    return hv_memcpy_fallible(host, in + offset, chunk);
  });
}

// The reader or writer advances once, by the bytes done.
template <mm::Fallibility W>
CopyResult GuestMemoryAccessor::ReadInto(GuestPhysAddr gpa, mm::VmWriter<W>& writer) const {
  const Copied copied = CopyOut(gpa, writer.cursor(), writer.avail());
  writer.Skip(copied.done);
  return copied.ToResult();
}

template <mm::Fallibility R>
CopyResult GuestMemoryAccessor::WriteFrom(GuestPhysAddr gpa, mm::VmReader<R>& reader) const {
  const Copied copied = CopyIn(gpa, reader.cursor(), reader.remain());
  reader.Skip(copied.done);
  return copied.ToResult();
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
