// Per-frame metadata of a FrameAllocator. Internal to mm: the frame
// allocator owns it, and the page-table engine keeps the state of
// page-table pages in it.
#ifndef MM_INTERNAL_FRAME_META_H_
#define MM_INTERNAL_FRAME_META_H_

#include <hv/base/std.h>
#include <mm/paging.h>
#include <mm/spin_lock.h>

namespace hv::mm::internal {

inline constexpr uint32_t kNoFrame = ~uint32_t{0};

enum class FrameState : uint8_t {
  kReserved,       // not managed (the allocator's own metadata)
  kFree,           // the head of a free block
  kFreeTail,       // inside a free block
  kAllocated,      // the head of an allocated block of frames (RAM)
  kPageTable,      // the head of an allocated block of page-table pages
  kAllocatedTail,  // inside an allocated block
};

struct FrameMeta {
  // On a block's head: the references to the block (Frame handles and
  // page-table entries mapping any part of it). The block is freed when
  // it drops to zero.
  std::atomic<uint32_t> ref_count{0};
  // Allocated frames: the index of their block's head (their own for a head).
  uint32_t head = kNoFrame;
  // Free blocks: the free list. Page-table pages awaiting release after a
  // TLB flush: the deferred-release list.
  uint32_t next = kNoFrame;
  uint32_t prev = kNoFrame;
  FrameState state = FrameState::kReserved;
  // On a block's head: log2 of its frames.
  uint8_t order = 0;
  // Page-table pages: their level, and how many of their entries are
  // non-empty. Guarded by `pt_lock`.
  PagingLevel pt_level = 0;
  uint16_t pt_children = 0;
  // Page-table pages: the lock a cursor holds while it owns the page.
  SpinLock pt_lock;
};

}  // namespace hv::mm::internal

#endif  // MM_INTERNAL_FRAME_META_H_
