#include <guestmem/accessor.h>

namespace hv::guestmem {
namespace {

bool RangeWraps(GuestPhysAddr gpa, size_t len) {
  return len != 0 && !gpa.CheckedAdd(len - 1).has_value();
}

}  // namespace

Result<Translation> GuestMemoryAccessor::Translate(GuestPhysAddr gpa) const {
  const Translation t = HV_TRY(TranslateAndGetLimit(gpa));
  // A backend that reports no bytes would make callers loop forever.
  if (t.limit == 0) return Error::kOutOfRange;
  return t;
}

template <typename CopyChunk>
CopyResult GuestMemoryAccessor::ForEachChunk(GuestPhysAddr gpa, size_t total,
                                             CopyChunk copy) const {
  if (RangeWraps(gpa, total)) return CopyError{Error::kOutOfRange, 0};
  size_t done = 0;
  while (done < total) {
    Result<Translation> t = Translate(GuestPhysAddr(gpa.value() + done));
    if (!t.ok()) return CopyError{t.error(), done};
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(t->limit, total - done));
    CopyResult copied = copy(PtrFromHostVirt(t->hva), chunk);
    if (!copied.ok()) return CopyError{copied.error().code, done + copied.error().done};
    done += copied.value();
  }
  return done;
}

template <mm::Fallibility W>
CopyResult GuestMemoryAccessor::ReadInto(GuestPhysAddr gpa, mm::VmWriter<W>& writer) const {
  return ForEachChunk(gpa, writer.avail(), [&writer](void* host, size_t chunk) {
    mm::VmReader<mm::Fallible> reader =
        mm::VmReader<mm::Fallible>::FromValidatedWindow(host, chunk);
    return reader.ReadFallible(writer);
  });
}

template <mm::Fallibility R>
CopyResult GuestMemoryAccessor::WriteFrom(GuestPhysAddr gpa, mm::VmReader<R>& reader) const {
  return ForEachChunk(gpa, reader.remain(), [&reader](void* host, size_t chunk) {
    mm::VmWriter<mm::Fallible> writer =
        mm::VmWriter<mm::Fallible>::FromValidatedWindow(host, chunk);
    return writer.WriteFallible(reader);
  });
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
