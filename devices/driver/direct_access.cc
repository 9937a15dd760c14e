#include <devices/driver/direct_access.h>

namespace hv::devices::driver {
namespace {

// REQUIRES: `at` is a device register of T's width, aligned (MmioWindow's
// constructor and Valid).
template <typename T>
uint64_t Load(uint64_t at) {
  // SAFETY: the window's owner vouches that it is device registers at this
  // address; Valid keeps the access inside it and aligned: one load.
  return *reinterpret_cast<const volatile T*>(at);
}

template <typename T>
void Store(uint64_t at, uint64_t value) {
  // SAFETY: as in Load, one aligned store inside the window.
  *reinterpret_cast<volatile T*>(at) = static_cast<T>(value);
}

}  // namespace

bool MmioWindow::Valid(uint64_t offset, size_t size) const {
  return (size == 1 || size == 2 || size == 4 || size == 8) && offset % size == 0 &&
         offset < size_ && size <= size_ - offset;
}

Result<uint64_t> MmioWindow::Read(uint64_t offset, size_t size) {
  if (!Valid(offset, size)) return Error::kInvalidArgs;
  const uint64_t at = base_ + offset;
  switch (size) {
    case 1:
      return Load<uint8_t>(at);
    case 2:
      return Load<uint16_t>(at);
    case 4:
      return Load<uint32_t>(at);
    default:
      return Load<uint64_t>(at);
  }
}

Result<void> MmioWindow::Write(uint64_t offset, size_t size, uint64_t value) {
  if (!Valid(offset, size)) return Error::kInvalidArgs;
  const uint64_t at = base_ + offset;
  switch (size) {
    case 1:
      Store<uint8_t>(at, value);
      break;
    case 2:
      Store<uint16_t>(at, value);
      break;
    case 4:
      Store<uint32_t>(at, value);
      break;
    default:
      Store<uint64_t>(at, value);
      break;
  }
  return Ok();
}

Result<guestmem::Translation> IdentityMappedRam::TranslateAndGetLimit(GuestPhysAddr gpa) const {
  if (gpa.value() < base_.value() || gpa.value() - base_.value() >= size_) {
    return Error::kOutOfRange;
  }
  return guestmem::Translation{HostVirtAddr(gpa.value()), size_ - (gpa.value() - base_.value())};
}

}  // namespace hv::devices::driver
