#include <guestmem/hosted_memory.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace hv::guestmem {
namespace {

uint64_t PageSize() { return static_cast<uint64_t>(sysconf(_SC_PAGESIZE)); }

}  // namespace

Result<HostedGuestMemory> HostedGuestMemory::Create(std::span<const RegionSpec> specs) {
  const uint64_t page = PageSize();
  std::vector<RegionSpec> sorted(specs.begin(), specs.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const RegionSpec& a, const RegionSpec& b) { return a.base < b.base; });
  if (sorted.empty()) return Error::kInvalidArgs;
  uint64_t reservation = page;  // leading guard
  for (size_t i = 0; i < sorted.size(); ++i) {
    const RegionSpec& r = sorted[i];
    if (r.size == 0 || !r.base.IsAligned(page) || r.size % page != 0 || r.file_offset % page != 0) {
      return Error::kInvalidArgs;
    }
    const auto range = AddrRange<GuestPhysAddr>::Create(r.base, r.size);
    if (!range) return Error::kInvalidArgs;
    if (i > 0 && sorted[i - 1].base.value() + sorted[i - 1].size > r.base.value()) {
      return Error::kInvalidArgs;
    }
    if (__builtin_add_overflow(reservation, r.size + page, &reservation)) {
      return Error::kInvalidArgs;
    }
  }

  HostedGuestMemory memory;
  // SAFETY: a fresh PROT_NONE reservation; nothing else lives there.
  void* base =
      mmap(nullptr, reservation, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return Error::kNoMemory;
  memory.reservation_ = base;
  memory.reservation_size_ = reservation;

  std::byte* cursor = static_cast<std::byte*>(base) + page;
  for (const RegionSpec& r : sorted) {
    const int prot = PROT_READ | PROT_WRITE;
    // SAFETY: [cursor, cursor + r.size) lies inside our own reservation, so
    // MAP_FIXED replaces only memory we reserved for this region.
    void* host = r.fd < 0 ? mmap(cursor, r.size, prot,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0)
                          : mmap(cursor, r.size, prot, MAP_SHARED | MAP_FIXED, r.fd,
                                 static_cast<off_t>(r.file_offset));
    if (host == MAP_FAILED) return Error::kNoMemory;  // ~HostedGuestMemory unmaps
    memory.regions_.push_back(Region{r.base, r.size, static_cast<std::byte*>(host)});
    cursor += r.size + page;  // the page after each region stays PROT_NONE
  }
  memory.UseLinearRegions(memory.regions_);
  return memory;
}

HostedGuestMemory::HostedGuestMemory(HostedGuestMemory&& other) noexcept
    : reservation_(std::exchange(other.reservation_, nullptr)),
      reservation_size_(std::exchange(other.reservation_size_, 0)),
      regions_(std::move(other.regions_)) {
  // The vector moved its buffer, which the accessor translates through.
  UseLinearRegions(regions_);
  other.UseLinearRegions({});
}

HostedGuestMemory::~HostedGuestMemory() {
  if (reservation_ != nullptr) munmap(reservation_, reservation_size_);
}

}  // namespace hv::guestmem
