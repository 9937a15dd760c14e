// Guest RAM for a VMM that runs as a Linux process (the embedding case).
//
// Each region of guest-physical memory is mmap'ed into one reservation of
// this process, anonymous or backed by a file descriptor (a memfd or a file,
// MAP_SHARED), with a PROT_NONE guard page before, between and after the
// regions: a copy that runs off a region faults into a guard page and is
// reported by the fallible primitives rather than reaching other memory.
// A backing file truncated under us (SIGBUS) is reported the same way.
#ifndef GUESTMEM_HOSTED_MEMORY_H_
#define GUESTMEM_HOSTED_MEMORY_H_

#include <guestmem/accessor.h>

#include <vector>

namespace hv::guestmem {

class HostedGuestMemory final : public GuestMemoryAccessor {
 public:
  struct RegionSpec {
    GuestPhysAddr base;
    uint64_t size = 0;
    // -1: anonymous private memory. Otherwise the file is mapped MAP_SHARED
    // from file_offset (the caller keeps ownership of the descriptor).
    int fd = -1;
    uint64_t file_offset = 0;
  };

  using Region = LinearRegion;

  // Maps `specs`. kInvalidArgs if a region is empty, not page-aligned (base,
  // size or file offset), wraps, or overlaps another; kNoMemory if the
  // mappings cannot be made.
  static Result<HostedGuestMemory> Create(std::span<const RegionSpec> specs);

  HostedGuestMemory(HostedGuestMemory&& other) noexcept;
  HostedGuestMemory& operator=(HostedGuestMemory&&) = delete;
  HostedGuestMemory(const HostedGuestMemory&) = delete;
  ~HostedGuestMemory() override;

  Result<Translation> TranslateAndGetLimit(GuestPhysAddr gpa) const override {
    return TranslateLinear(regions_, gpa);
  }

  // The regions, sorted by base.
  std::span<const Region> regions() const { return regions_; }

 private:
  HostedGuestMemory() = default;

  void* reservation_ = nullptr;
  size_t reservation_size_ = 0;
  std::vector<Region> regions_;
};

}  // namespace hv::guestmem

#endif  // GUESTMEM_HOSTED_MEMORY_H_
