// A simulated physical-memory arena for host tests and benchmarks: an
// anonymous mapping that plays the part of physical memory at a fake
// physical base (0x8000'0000 by default, where the riscv64 virt board's RAM
// starts). Pages are committed by the host only when touched, so an arena
// of several GiB costs only what the test writes.
#ifndef MM_HOST_ARENA_H_
#define MM_HOST_ARENA_H_

#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <mm/phys_mem.h>

namespace hv::mm {

class HostArena {
 public:
  static constexpr HostPhysAddr kDefaultPhysBase = HostPhysAddr(0x8000'0000);

  // kInvalidArgs if `size` or `phys_base` is not page-aligned or the range
  // wraps; kNoMemory if the host refuses the mapping.
  static Result<HostArena> Create(uint64_t size, HostPhysAddr phys_base = kDefaultPhysBase);

  HostArena(HostArena&& other) noexcept;
  HostArena& operator=(HostArena&& other) noexcept;
  HostArena(const HostArena&) = delete;
  HostArena& operator=(const HostArena&) = delete;
  ~HostArena();

  // The policy through which mm code reaches the arena. Valid while the
  // arena lives.
  ArenaPhysMem phys() const { return ArenaPhysMem(base_, phys_base_, size_); }
  HostPhysAddr phys_base() const { return phys_base_; }
  uint64_t size() const { return size_; }

 private:
  HostArena(void* base, uint64_t size, HostPhysAddr phys_base)
      : base_(base), size_(size), phys_base_(phys_base) {}

  void* base_ = nullptr;
  uint64_t size_ = 0;
  HostPhysAddr phys_base_;
};

}  // namespace hv::mm

#endif  // MM_HOST_ARENA_H_
