// Physical frames: a buddy allocator over one physically contiguous region,
// and reference-counted frame handles.
//
// A FrameAllocator manages [base, base + size). It places itself and one
// FrameMeta per 4 KiB frame at the start of the region (through the PhysMem
// policy), so it needs no memory from anywhere else. Blocks are naturally
// aligned runs of 2^order frames, order 0 (4 KiB) to 18 (1 GiB).
//
// A Frame is a counted reference to a block, or to an aligned piece of one:
// after a 2 MiB mapping is split into 4 KiB mappings, each piece is a Frame
// of level 1 whose count is its block's. The block returns to the allocator
// when the last reference goes, whether that was a handle or a page-table
// entry. Page tables hold their references in raw form (IntoRaw/FromRaw).
#ifndef MM_FRAME_H_
#define MM_FRAME_H_

#include <hv/base/addr.h>
#include <hv/base/check.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <mm/internal/frame_meta.h>
#include <mm/paging.h>
#include <mm/phys_mem.h>
#include <mm/spin_lock.h>

namespace hv::mm {

class FrameAllocator;

// The order (log2 of 4 KiB frames) of a page at `level`: 0, 9, 18.
constexpr uint32_t OrderOfLevel(PagingLevel level) {
  return static_cast<uint32_t>(kBitsPerLevel * (level - 1));
}

class Frame {
 public:
  // A null handle.
  constexpr Frame() = default;
  Frame(const Frame& other) : alloc_(other.alloc_), raw_(other.raw_) {
    if (alloc_ != nullptr) Acquire();
  }
  Frame& operator=(const Frame& other);
  Frame(Frame&& other) noexcept
      : alloc_(std::exchange(other.alloc_, nullptr)), raw_(std::exchange(other.raw_, 0)) {}
  Frame& operator=(Frame&& other) noexcept;
  ~Frame() { Reset(); }

  explicit operator bool() const { return alloc_ != nullptr; }

  // REQUIRES (all accessors): not null.
  HostPhysAddr paddr() const { return HostPhysAddr(raw_ & ~(kPageSize - 1)); }
  // 1: 4 KiB, 2: 2 MiB, 3: 1 GiB. The level at which a page table maps it.
  PagingLevel level() const { return static_cast<PagingLevel>(raw_ & (kPageSize - 1)); }
  uint64_t size() const { return PageSizeAt(level()); }
  FrameAllocator& allocator() const { return *alloc_; }
  // References to the frame's block (handles and page-table entries).
  uint32_t ref_count() const;

  // Drops the reference; the handle becomes null.
  void Reset() {
    if (alloc_ != nullptr) Release();
  }

  // Gives up the handle without dropping its reference, for a page table
  // that keeps it as a raw entry. The handle becomes null.
  // REQUIRES: not null.
  [[nodiscard]] HostPhysAddr IntoRaw() && {
    HV_CHECK(alloc_ != nullptr, "IntoRaw on a null frame");
    const HostPhysAddr pa = paddr();
    alloc_ = nullptr;
    raw_ = 0;
    return pa;
  }
  // Takes back a reference given up by IntoRaw (or added by
  // FrameAllocator::AddRawRefs).
  // REQUIRES: the caller owns one reference to the frame at `pa`, and
  // [pa, pa + PageSizeAt(level)) lies inside its block.
  static Frame FromRaw(FrameAllocator& alloc, HostPhysAddr pa, PagingLevel level);
  // A new reference to a frame the caller knows to be alive (one a page
  // table holds, say).
  static Frame CloneFromRaw(FrameAllocator& alloc, HostPhysAddr pa, PagingLevel level);

  // Same frame piece: same allocator, address and level.
  bool operator==(const Frame& other) const { return alloc_ == other.alloc_ && raw_ == other.raw_; }

 private:
  friend class FrameAllocator;
  Frame(FrameAllocator* alloc, HostPhysAddr pa, PagingLevel level)
      : alloc_(alloc), raw_(pa.value() | level) {}
  inline void Acquire();
  inline void Release();

  FrameAllocator* alloc_ = nullptr;
  // The physical address, with the level in the low bits.
  uint64_t raw_ = 0;
};

class FrameAllocator {
 public:
  static constexpr uint32_t kMaxOrder = 18;

  // Builds an allocator over [base, base + size), placed (with its metadata)
  // at the start of that region, which `phys` must cover. The allocator
  // lives as long as the region; it is never destroyed.
  // Errors: kInvalidArgs if `base` or `size` is not page-aligned, the range
  // wraps or has more than 2^32 frames; kNoMemory if the region cannot hold
  // the metadata and at least one frame.
  template <PhysMem P>
  static Result<FrameAllocator*> Create(const P& phys, HostPhysAddr base, uint64_t size) {
    if (!base.IsAligned(kPageSize) || !IsPageAligned(size) || size == 0 || !base.CheckedAdd(size) ||
        (size >> kPageShift) > internal::kNoFrame) {
      return Error::kInvalidArgs;
    }
    return Init(phys.PhysToVirt(base), base, size);
  }

  FrameAllocator(const FrameAllocator&) = delete;
  FrameAllocator& operator=(const FrameAllocator&) = delete;

  // A new frame of PageSizeAt(level) bytes, aligned to its size, with one
  // reference (the returned handle). Its contents are not cleared.
  // Errors: kInvalidArgs if level is not 1..3; kNoMemory.
  Result<Frame> Alloc(PagingLevel level = 1);

  // Free 4 KiB frames.
  uint64_t free_frames() const;
  // The managed region.
  HostPhysAddr base() const { return base_; }
  uint64_t size() const { return num_frames_ << kPageShift; }
  bool Contains(HostPhysAddr pa) const {
    return pa >= base_ && ((pa.value() - base_.value()) >> kPageShift) < num_frames_;
  }
  // True if the frame at `pa` is part of an allocated block (RAM or page
  // table). REQUIRES: Contains(pa).
  bool IsAllocated(HostPhysAddr pa) const;
  // References to the block containing `pa`; 0 if it is free.
  // REQUIRES: Contains(pa).
  uint32_t RefCount(HostPhysAddr pa) const;

  // Adds `count` references to the block of the frame at `pa`, in raw form
  // (a page table splitting one mapping into several).
  // REQUIRES: the block is allocated and the caller owns a reference.
  void AddRawRefs(HostPhysAddr pa, uint32_t count);
  // Drops a raw reference (as FromRaw followed by destroying the handle).
  void ReleaseRaw(HostPhysAddr pa);

  // Page-table pages, for the page-table engine: 2^order frames, not
  // reference-counted (the engine frees them after the TLB flush that
  // retires them). Their metadata is reset; their contents are not.
  Result<HostPhysAddr> AllocPageTable(uint32_t order);
  // REQUIRES: `pa` came from AllocPageTable and is no longer reachable.
  void FreePageTable(HostPhysAddr pa);

  // REQUIRES: Contains(pa).
  internal::FrameMeta& meta(HostPhysAddr pa) const {
    // SAFETY: IndexOf checked that the index is inside meta_.
    return meta_[IndexOf(pa)];
  }

 private:
  friend class Frame;
  FrameAllocator() = default;

  static Result<FrameAllocator*> Init(void* virt, HostPhysAddr base, uint64_t size);

  uint32_t IndexOf(HostPhysAddr pa) const {
    HV_CHECK(Contains(pa), "frame %#lx not managed by this allocator",
             static_cast<unsigned long>(pa.value()));
    return static_cast<uint32_t>((pa.value() - base_.value()) >> kPageShift);
  }
  HostPhysAddr PaddrOf(uint32_t index) const {
    return HostPhysAddr(base_.value() + (uint64_t{index} << kPageShift));
  }
  // The head of the allocated block that frame `index` belongs to.
  uint32_t HeadOf(uint32_t index) const {
    // SAFETY: callers pass an index from IndexOf (checked); the head read
    // there is checked before anyone indexes with it.
    const uint32_t head = meta_[index].head;
    HV_CHECK(head < num_frames_, "frame %u has no block", index);
    return head;
  }
  // The reference-count paths are inline: map and unmap take one each.
  void IncRef(HostPhysAddr pa, uint32_t count) {
    // SAFETY: HeadOf returns a checked index.
    internal::FrameMeta& head = meta_[HeadOf(IndexOf(pa))];
    const uint32_t old = head.ref_count.fetch_add(count, std::memory_order_relaxed);
    HV_CHECK(old != 0, "reference to freed frame %#lx", static_cast<unsigned long>(pa.value()));
    HV_CHECK(old + count > old, "reference count overflow on frame %#lx",
             static_cast<unsigned long>(pa.value()));
  }
  void DecRef(HostPhysAddr pa) {
    const uint32_t head = HeadOf(IndexOf(pa));
    // SAFETY: HeadOf returns a checked index.
    const uint32_t old = meta_[head].ref_count.fetch_sub(1, std::memory_order_acq_rel);
    HV_CHECK(old != 0, "frame %#lx released more often than referenced",
             static_cast<unsigned long>(pa.value()));
    if (old == 1) FreeBlock(head);
  }

  // Buddy allocator; callers hold lock_.
  Result<uint32_t> AllocBlock(uint32_t order, internal::FrameState state);
  void FreeBlock(uint32_t head);
  void PushFree(uint32_t index, uint32_t order);
  void RemoveFree(uint32_t index, uint32_t order);

  HostPhysAddr base_;
  uint64_t base_pfn_ = 0;
  uint32_t num_frames_ = 0;
  // One entry per frame of the region, at its start (see Init). Every index
  // into it is below num_frames_: from IndexOf, from HeadOf, from the free
  // lists (which hold managed frames only) or from buddy arithmetic checked
  // against num_frames_.
  internal::FrameMeta* meta_ = nullptr;
  mutable SpinLock lock_;
  std::array<uint32_t, kMaxOrder + 1> free_heads_{};
  uint64_t free_frames_ = 0;
};

inline void Frame::Acquire() { alloc_->IncRef(paddr(), 1); }

inline void Frame::Release() {
  std::exchange(alloc_, nullptr)->DecRef(paddr());
  raw_ = 0;
}

}  // namespace hv::mm

#endif  // MM_FRAME_H_
