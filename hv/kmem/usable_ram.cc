#include <hv/fdt/machine.h>
#include <hv/kmem/usable_ram.h>

namespace hv::kmem {
namespace {

// Little-endian fields of the multiboot structures.
// REQUIRES: the field lies inside `bytes` (callers check the length first).
uint64_t LoadLe(std::span<const std::byte> bytes, size_t offset, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) {
    value |= static_cast<uint64_t>(bytes[offset + i]) << (8 * i);
  }
  return value;
}
uint32_t Le32(std::span<const std::byte> bytes, size_t offset) {
  return static_cast<uint32_t>(LoadLe(bytes, offset, 4));
}
uint64_t Le64(std::span<const std::byte> bytes, size_t offset) { return LoadLe(bytes, offset, 8); }

// A multiboot memory map entry: size (of the rest), base, length, type.
constexpr size_t kMmapEntryFields = 20;
constexpr uint32_t kMmapAvailable = 1;

}  // namespace

Result<void> PhysRangeSet::Add(HostPhysAddr base, uint64_t size) {
  if (!PhysRange::Create(base, size)) return Error::kInvalidArgs;
  if (size == 0 || base >= limit_) return Ok();
  uint64_t start = base.value();
  uint64_t end = size > limit_.value() - start ? limit_.value() : start + size;
  // The new range, grown by every range it overlaps or touches, goes before
  // the first range that lies beyond it.
  // Every range ends at or below limit_, so no end() below wraps.
  std::array<PhysRange, kMaxRanges> merged;
  size_t n = 0;
  bool placed = false;
  for (const PhysRange& r : ranges()) {
    if (r.end().value() < start || r.start().value() > end) {
      // Disjoint and not adjacent: kept, in order.
      if (!placed && r.start().value() > end) {
        if (n == kMaxRanges) return Error::kOutOfRange;
        merged[n++] = *PhysRange::Create(HostPhysAddr(start), end - start);
        placed = true;
      }
      if (n == kMaxRanges) return Error::kOutOfRange;
      merged[n++] = r;
    } else {
      if (r.start().value() < start) start = r.start().value();
      if (r.end().value() > end) end = r.end().value();
    }
  }
  if (!placed) {
    if (n == kMaxRanges) return Error::kOutOfRange;
    merged[n++] = *PhysRange::Create(HostPhysAddr(start), end - start);
  }
  ranges_ = merged;
  count_ = n;
  return Ok();
}

Result<void> PhysRangeSet::Remove(HostPhysAddr base, uint64_t size) {
  if (size == 0) return Ok();
  const uint64_t start = base.value();
  // Past 2^64: everything from `base` up (no range ends beyond limit_).
  const uint64_t end = size > ~start ? ~uint64_t{0} : start + size;
  std::array<PhysRange, kMaxRanges> kept;
  size_t n = 0;
  auto keep = [&](uint64_t s, uint64_t e) {
    if (n == kMaxRanges) return false;
    kept[n++] = *PhysRange::Create(HostPhysAddr(s), e - s);
    return true;
  };
  for (const PhysRange& r : ranges()) {
    const uint64_t rs = r.start().value();
    const uint64_t re = r.end().value();
    if (re <= start || rs >= end) {
      if (!keep(rs, re)) return Error::kOutOfRange;
      continue;
    }
    if (rs < start && !keep(rs, start)) return Error::kOutOfRange;
    if (re > end && !keep(end, re)) return Error::kOutOfRange;
  }
  ranges_ = kept;
  count_ = n;
  return Ok();
}

uint64_t PhysRangeSet::TotalSize() const {
  uint64_t total = 0;
  for (const PhysRange& r : ranges()) total += r.size();
  return total;
}

bool PhysRangeSet::Overlaps(const PhysRange& range) const {
  for (const PhysRange& r : ranges()) {
    if (r.Overlaps(range)) return true;
  }
  return false;
}

std::optional<PhysRange> PhysRangeSet::Largest(uint64_t alignment) const {
  std::optional<PhysRange> best;
  for (const PhysRange& r : ranges()) {
    const std::optional<HostPhysAddr> start = r.start().AlignUp(alignment);
    const HostPhysAddr end = r.end().AlignDown(alignment);
    if (!start || *start >= end) continue;
    const uint64_t size = end.value() - start->value();
    if (!best || size > best->size()) best = PhysRange::Create(*start, size);
  }
  return best;
}

Result<void> AddDeviceTreeRam(const fdt::Fdt& fdt, HostPhysAddr blob_paddr, PhysRangeSet& ram) {
  std::array<fdt::RegEntry, PhysRangeSet::kMaxRanges> memory;
  const size_t count = HV_TRY(fdt::ReadMemory(fdt, memory));
  for (size_t i = 0; i < count; ++i) {
    HV_TRY(ram.Add(HostPhysAddr(memory[i].address), memory[i].size));
  }
  for (const fdt::RegEntry reserved : fdt.reservations()) {
    HV_TRY(ram.Remove(HostPhysAddr(reserved.address), reserved.size));
  }
  const Result<fdt::Node> reserved_memory = fdt.root().FindChild("reserved-memory");
  if (!reserved_memory.ok() && reserved_memory.error() != Error::kNotFound) {
    return reserved_memory.error();
  }
  if (reserved_memory.ok()) {
    for (const fdt::Node child : reserved_memory->children()) {
      const Result<fdt::RegList> reg = child.Reg();
      if (!reg.ok() && reg.error() == Error::kNotFound) continue;
      if (!reg.ok()) return reg.error();
      for (const fdt::RegEntry entry : *reg) {
        HV_TRY(ram.Remove(HostPhysAddr(entry.address), entry.size));
      }
    }
  }
  return ram.Remove(blob_paddr, fdt.blob().size());
}

Result<MultibootInfo> ReadMultibootInfo(std::span<const std::byte> info) {
  if (info.size() < MultibootInfo::kSize) return Error::kInvalidArgs;
  const uint32_t flags = Le32(info, 0);
  if ((flags & MultibootInfo::kFlagMemoryMap) == 0) return Error::kNotFound;
  if ((flags & MultibootInfo::kFlagModules) != 0 && Le32(info, 20) != 0) {
    return Error::kUnsupported;
  }
  return MultibootInfo{
      .flags = flags,
      .mmap_length = Le32(info, 44),
      .mmap_addr = Le32(info, 48),
      .cmdline = (flags & MultibootInfo::kFlagCmdline) != 0 ? Le32(info, 16) : 0,
      .boot_loader_name = (flags & MultibootInfo::kFlagBootLoaderName) != 0 ? Le32(info, 64) : 0,
  };
}

Result<void> AddMultibootRam(std::span<const std::byte> mmap, PhysRangeSet& ram) {
  size_t offset = 0;
  while (offset < mmap.size()) {
    const size_t left = mmap.size() - offset;
    if (left < 4) return Error::kInvalidArgs;
    // `size` counts the bytes after itself.
    const uint32_t size = Le32(mmap, offset);
    if (size < kMmapEntryFields || size > left - 4) return Error::kInvalidArgs;
    const uint64_t base = Le64(mmap, offset + 4);
    const uint64_t length = Le64(mmap, offset + 12);
    const uint32_t type = Le32(mmap, offset + 20);
    if (type == kMmapAvailable) HV_TRY(ram.Add(HostPhysAddr(base), length));
    offset += 4 + size;
  }
  return Ok();
}

}  // namespace hv::kmem
