#include <devices/bus.h>

namespace hv::devices {
namespace {

bool ValidSize(size_t size) { return size == 1 || size == 2 || size == 4 || size == 8; }

}  // namespace

Result<void> MmioBus::Register(GuestPhysAddr base, uint64_t size, MmioDevice* device) {
  if (device == nullptr || size == 0) return Error::kInvalidArgs;
  const auto range = AddrRange<GuestPhysAddr>::Create(base, size);
  if (!range) return Error::kInvalidArgs;
  size_t at = 0;
  while (at < count_ && entries_[at].range.start() < base) ++at;
  if (at > 0 && entries_[at - 1].range.Overlaps(*range)) return Error::kAlreadyExists;
  if (at < count_ && entries_[at].range.Overlaps(*range)) return Error::kAlreadyExists;
  if (count_ == kMaxDevices) return Error::kNoMemory;
  for (size_t i = count_; i > at; --i) entries_[i] = entries_[i - 1];
  entries_[at] = Entry{*range, device};
  ++count_;
  return Ok();
}

const MmioBus::Entry* MmioBus::Lookup(GuestPhysAddr addr, size_t size) const {
  const auto access = AddrRange<GuestPhysAddr>::Create(addr, size);
  if (!access) return nullptr;
  // Few devices: a linear scan over a sorted array is as fast as a search.
  for (size_t i = 0; i < count_; ++i) {
    if (entries_[i].range.Contains(*access)) return &entries_[i];
  }
  return nullptr;
}

Result<uint64_t> MmioBus::Read(GuestPhysAddr addr, size_t size) {
  if (!ValidSize(size)) return Error::kInvalidArgs;
  const Entry* entry = Lookup(addr, size);
  if (entry == nullptr) return Error::kNotFound;
  return entry->device->Read(addr.OffsetFrom(entry->range.start()), size);
}

Result<void> MmioBus::Write(GuestPhysAddr addr, size_t size, uint64_t value) {
  if (!ValidSize(size)) return Error::kInvalidArgs;
  const Entry* entry = Lookup(addr, size);
  if (entry == nullptr) return Error::kNotFound;
  const uint64_t mask = size == 8 ? ~uint64_t{0} : (uint64_t{1} << (size * 8)) - 1;
  return entry->device->Write(addr.OffsetFrom(entry->range.start()), size, value & mask);
}

MmioDevice* MmioBus::Find(GuestPhysAddr addr) const {
  const Entry* entry = Lookup(addr, 1);
  return entry == nullptr ? nullptr : entry->device;
}

}  // namespace hv::devices
