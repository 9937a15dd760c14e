#include <mm/host_arena.h>
#include <mm/paging.h>
#include <sys/mman.h>

namespace hv::mm {

Result<HostArena> HostArena::Create(uint64_t size, HostPhysAddr phys_base) {
  if (size == 0 || !IsPageAligned(size) || !phys_base.IsAligned(kPageSize) ||
      !phys_base.CheckedAdd(size)) {
    return Error::kInvalidArgs;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return Error::kNoMemory;
  return HostArena(base, size, phys_base);
}

HostArena::HostArena(HostArena&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      phys_base_(other.phys_base_) {}

HostArena& HostArena::operator=(HostArena&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) munmap(base_, size_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    phys_base_ = other.phys_base_;
  }
  return *this;
}

HostArena::~HostArena() {
  if (base_ != nullptr) munmap(base_, size_);
}

}  // namespace hv::mm
