#include <mm/vm_io.h>

namespace hv::mm {

Result<MemoryVmIo> MemoryVmIo::Create(void* base, size_t size) {
  HV_TRY(CheckUserWindow(base, size));
  arch::InstallFaultHandler();
  return MemoryVmIo(static_cast<std::byte*>(base), size);
}

MemoryVmIo MemoryVmIo::FromValidatedWindow(void* base, size_t size) {
  arch::InstallFaultHandler();
  return MemoryVmIo(static_cast<std::byte*>(base), size);
}

Result<std::byte*> MemoryVmIo::Slice(size_t offset, size_t len) const {
  if (offset > size_ || len > size_ - offset) return Error::kOutOfRange;
  return base_ + offset;
}

Result<void> MemoryVmIo::Read(size_t offset, VmWriter<Fallible>& writer) const {
  const size_t len = writer.avail();
  std::byte* const src = HV_TRY(Slice(offset, len));
  VmReader<Fallible> reader = VmReader<Fallible>::FromValidatedWindow(src, len);
  CopyResult copied = reader.ReadFallible(writer);
  if (!copied.ok()) return copied.error().code;
  return Ok();
}

Result<void> MemoryVmIo::Write(size_t offset, VmReader<Fallible>& reader) const {
  const size_t len = reader.remain();
  std::byte* const dst = HV_TRY(Slice(offset, len));
  VmWriter<Fallible> writer = VmWriter<Fallible>::FromValidatedWindow(dst, len);
  CopyResult copied = writer.WriteFallible(reader);
  if (!copied.ok()) return copied.error().code;
  return Ok();
}

Result<uint64_t> MemoryVmIo::LoadOnce(size_t offset, size_t size) const {
  if (size != 1 && size != 2 && size != 4 && size != 8) return Error::kInvalidArgs;
  std::byte* const src = HV_TRY(Slice(offset, size));
  if (reinterpret_cast<uintptr_t>(src) % size != 0) return Error::kInvalidArgs;
  return internal::LoadOnceFallible(src, size);
}

Result<void> MemoryVmIo::StoreOnce(size_t offset, size_t size, uint64_t bits) const {
  if (size != 1 && size != 2 && size != 4 && size != 8) return Error::kInvalidArgs;
  std::byte* const dst = HV_TRY(Slice(offset, size));
  if (reinterpret_cast<uintptr_t>(dst) % size != 0) return Error::kInvalidArgs;
  return internal::StoreOnceFallible(dst, size, bits);
}

}  // namespace hv::mm
