// Usable RAM as the firmware describes it: a set of physical ranges, and the
// readers of the two firmware tables our boards boot with (a device tree on
// riscv64, the multiboot memory map on x86_64).
//
// Everything here reads firmware data, which is input, not our invariant:
// malformed tables are errors, never panics, and nothing reads outside the
// bytes it is given. Freestanding and allocation-free; builds everywhere, so
// the host tests exercise the same code the kernel runs.
#ifndef HV_KMEM_USABLE_RAM_H_
#define HV_KMEM_USABLE_RAM_H_

#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <hv/fdt/fdt.h>

namespace hv::kmem {

using PhysRange = AddrRange<HostPhysAddr>;

// Physical ranges below a limit, kept sorted, disjoint and merged (adjacent
// ranges become one), in a fixed array.
class PhysRangeSet {
 public:
  static constexpr size_t kMaxRanges = 32;

  // An empty set that holds addresses below `limit` only: what is added at
  // or above it is dropped (the kernel's limit is the end of its direct
  // map, beyond which it cannot reach memory anyway).
  explicit constexpr PhysRangeSet(HostPhysAddr limit) : limit_(limit) {}

  // Adds [base, base + size), cut at the limit. Errors: kInvalidArgs if the
  // range runs past 2^64 (a malformed table); kOutOfRange if the set would
  // need more than kMaxRanges ranges. The set is unchanged on error.
  Result<void> Add(HostPhysAddr base, uint64_t size);
  // Removes [base, base + size); a range that runs past 2^64 removes
  // everything from `base` up. Errors: kOutOfRange if splitting a range
  // would need more than kMaxRanges ranges (the set is unchanged).
  Result<void> Remove(HostPhysAddr base, uint64_t size);

  std::span<const PhysRange> ranges() const { return {ranges_.data(), count_}; }
  uint64_t TotalSize() const;
  // True if some byte of `range` is in the set.
  bool Overlaps(const PhysRange& range) const;
  // The largest range with both ends aligned to `alignment` (a power of
  // two) inside one range of the set; the lowest of equals. nullopt if no
  // range holds an aligned block.
  std::optional<PhysRange> Largest(uint64_t alignment) const;

 private:
  HostPhysAddr limit_;
  std::array<PhysRange, kMaxRanges> ranges_{};
  size_t count_ = 0;
};

// RAM that a device tree hands the kernel: the `reg` of every enabled
// /memory node (device_type "memory"), minus the `reg` of every
// /reserved-memory child (whatever its status: a reservation is honoured
// conservatively), the memory reservation block, and the blob itself,
// [blob_paddr, blob_paddr + fdt.blob().size()). Added to `ram`.
// Errors: kInvalidArgs for a malformed memory or reservation `reg` (a
// /reserved-memory child without `reg` is a dynamic reservation nobody has
// placed yet, and is skipped); kInvalidArgs for a memory range that runs
// past 2^64; kOutOfRange if `ram` overflows or there are more than
// PhysRangeSet::kMaxRanges memory ranges.
Result<void> AddDeviceTreeRam(const fdt::Fdt& fdt, HostPhysAddr blob_paddr, PhysRangeSet& ram);

// The fields of the multiboot (v1) information structure the kernel uses.
struct MultibootInfo {
  // The bytes of the structure read: up to and including boot_loader_name.
  static constexpr size_t kSize = 68;
  // The whole structure, with every field of multiboot 0.6.96.
  static constexpr size_t kFullSize = 116;
  static constexpr uint32_t kFlagCmdline = uint32_t{1} << 2;
  static constexpr uint32_t kFlagModules = uint32_t{1} << 3;
  static constexpr uint32_t kFlagMemoryMap = uint32_t{1} << 6;
  static constexpr uint32_t kFlagBootLoaderName = uint32_t{1} << 9;

  uint32_t flags;
  uint32_t mmap_length;
  uint32_t mmap_addr;
  // Physical addresses of NUL-terminated strings; 0 when the flags say
  // there is none.
  uint32_t cmdline;
  uint32_t boot_loader_name;
};

// Decodes the start of a multiboot information structure. Errors:
// kInvalidArgs if `info` is shorter than MultibootInfo::kSize; kNotFound if
// the flags say there is no memory map; kUnsupported if the loader passed
// modules (which nothing handles yet, so their memory would not be kept).
Result<MultibootInfo> ReadMultibootInfo(std::span<const std::byte> info);

// Adds the available (type 1) entries of a multiboot memory map (the
// mmap_length bytes at mmap_addr) to `ram`. Errors: kInvalidArgs for an
// entry that is shorter than its fields or runs past the end of `mmap`, or
// an available range that runs past 2^64; kOutOfRange if `ram` overflows.
Result<void> AddMultibootRam(std::span<const std::byte> mmap, PhysRangeSet& ram);

}  // namespace hv::kmem

#endif  // HV_KMEM_USABLE_RAM_H_
