#include <mm/frame.h>

namespace hv::mm {

using internal::FrameMeta;
using internal::FrameState;
using internal::kNoFrame;

Frame& Frame::operator=(const Frame& other) {
  if (this != &other) {
    Frame copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Frame& Frame::operator=(Frame&& other) noexcept {
  if (this != &other) {
    Reset();
    alloc_ = std::exchange(other.alloc_, nullptr);
    raw_ = std::exchange(other.raw_, 0);
  }
  return *this;
}

uint32_t Frame::ref_count() const { return alloc_->RefCount(paddr()); }

Frame Frame::FromRaw(FrameAllocator& alloc, HostPhysAddr pa, PagingLevel level) {
  HV_CHECK(alloc.IsAllocated(pa), "FromRaw on free frame %#lx",
           static_cast<unsigned long>(pa.value()));
  return Frame(&alloc, pa, level);
}

Frame Frame::CloneFromRaw(FrameAllocator& alloc, HostPhysAddr pa, PagingLevel level) {
  alloc.IncRef(pa, 1);
  return Frame(&alloc, pa, level);
}

Result<FrameAllocator*> FrameAllocator::Init(void* virt, HostPhysAddr base, uint64_t size) {
  const uint64_t num_frames = size >> kPageShift;
  // The allocator, then its metadata array, then the frames it hands out.
  const uint64_t meta_offset =
      (sizeof(FrameAllocator) + alignof(FrameMeta) - 1) / alignof(FrameMeta) * alignof(FrameMeta);
  const uint64_t header_bytes = meta_offset + num_frames * sizeof(FrameMeta);
  const uint64_t reserved = (header_bytes + kPageSize - 1) >> kPageShift;
  if (reserved >= num_frames) return Error::kNoMemory;

  // SAFETY: `virt` maps the whole region (the PhysMem contract) and nothing
  // else uses it: the caller hands the region over. The header fits in the
  // reserved frames (checked above); placement new only constructs there.
  auto* self = new (virt) FrameAllocator();
  // SAFETY: as above; `meta_offset` is suitably aligned for FrameMeta.
  auto* meta = reinterpret_cast<FrameMeta*>(static_cast<std::byte*>(virt) + meta_offset);
  for (uint64_t i = 0; i < num_frames; ++i) {
    new (&meta[i]) FrameMeta();
  }
  self->base_ = base;
  self->base_pfn_ = base.value() >> kPageShift;
  self->num_frames_ = static_cast<uint32_t>(num_frames);
  self->meta_ = meta;
  self->free_heads_.fill(kNoFrame);

  SpinLockGuard guard(self->lock_);
  uint64_t index = reserved;
  while (index < num_frames) {
    uint32_t order = kMaxOrder;
    while (order > 0 && (((self->base_pfn_ + index) & ((uint64_t{1} << order) - 1)) != 0 ||
                         index + (uint64_t{1} << order) > num_frames)) {
      --order;
    }
    self->PushFree(static_cast<uint32_t>(index), order);
    self->free_frames_ += uint64_t{1} << order;
    index += uint64_t{1} << order;
  }
  return self;
}

void FrameAllocator::PushFree(uint32_t index, uint32_t order) {
  // SAFETY (free-list and buddy code below): indices are managed frames, see
  // meta_.
  FrameMeta& m = meta_[index];
  m.state = FrameState::kFree;
  m.order = static_cast<uint8_t>(order);
  m.prev = kNoFrame;
  m.next = free_heads_[order];
  if (m.next != kNoFrame) meta_[m.next].prev = index;
  free_heads_[order] = index;
}

void FrameAllocator::RemoveFree(uint32_t index, uint32_t order) {
  FrameMeta& m = meta_[index];
  if (m.prev != kNoFrame) {
    meta_[m.prev].next = m.next;
  } else {
    free_heads_[order] = m.next;
  }
  if (m.next != kNoFrame) meta_[m.next].prev = m.prev;
  m.next = m.prev = kNoFrame;
}

Result<uint32_t> FrameAllocator::AllocBlock(uint32_t order, FrameState state) {
  SpinLockGuard guard(lock_);
  uint32_t k = order;
  while (k <= kMaxOrder && free_heads_[k] == kNoFrame) ++k;
  if (k > kMaxOrder) return Error::kNoMemory;
  const uint32_t index = free_heads_[k];
  RemoveFree(index, k);
  while (k > order) {
    --k;
    PushFree(index + (uint32_t{1} << k), k);
  }
  const uint32_t count = uint32_t{1} << order;
  FrameMeta& head = meta_[index];
  head.state = state;
  head.order = static_cast<uint8_t>(order);
  head.head = index;
  head.pt_level = 0;
  head.pt_children = 0;
  head.ref_count.store(1, std::memory_order_relaxed);
  for (uint32_t i = 1; i < count; ++i) {
    meta_[index + i].state = FrameState::kAllocatedTail;
    meta_[index + i].head = index;
  }
  free_frames_ -= count;
  return index;
}

void FrameAllocator::FreeBlock(uint32_t head) {
  SpinLockGuard guard(lock_);
  uint32_t index = head;
  uint32_t order = meta_[head].order;
  const uint32_t count = uint32_t{1} << order;
  for (uint32_t i = 1; i < count; ++i) meta_[head + i].state = FrameState::kFreeTail;
  while (order < kMaxOrder) {
    const uint64_t buddy_pfn = (base_pfn_ + index) ^ (uint64_t{1} << order);
    if (buddy_pfn < base_pfn_ || buddy_pfn - base_pfn_ >= num_frames_) break;
    const auto buddy = static_cast<uint32_t>(buddy_pfn - base_pfn_);
    if (meta_[buddy].state != FrameState::kFree || meta_[buddy].order != order) break;
    RemoveFree(buddy, order);
    meta_[buddy].state = FrameState::kFreeTail;
    meta_[index].state = FrameState::kFreeTail;
    index = buddy < index ? buddy : index;
    ++order;
  }
  PushFree(index, order);
  free_frames_ += count;
}

Result<Frame> FrameAllocator::Alloc(PagingLevel level) {
  if (level < 1 || level > 3) return Error::kInvalidArgs;
  const uint32_t index = HV_TRY(AllocBlock(OrderOfLevel(level), FrameState::kAllocated));
  return Frame(this, PaddrOf(index), level);
}

uint64_t FrameAllocator::free_frames() const {
  SpinLockGuard guard(lock_);
  return free_frames_;
}

bool FrameAllocator::IsAllocated(HostPhysAddr pa) const {
  const FrameState state = meta_[IndexOf(pa)].state;
  return state == FrameState::kAllocated || state == FrameState::kPageTable ||
         state == FrameState::kAllocatedTail;
}

uint32_t FrameAllocator::RefCount(HostPhysAddr pa) const {
  if (!IsAllocated(pa)) return 0;
  return meta_[HeadOf(IndexOf(pa))].ref_count.load(std::memory_order_relaxed);
}

void FrameAllocator::AddRawRefs(HostPhysAddr pa, uint32_t count) { IncRef(pa, count); }

void FrameAllocator::ReleaseRaw(HostPhysAddr pa) { DecRef(pa); }

Result<HostPhysAddr> FrameAllocator::AllocPageTable(uint32_t order) {
  const uint32_t index = HV_TRY(AllocBlock(order, FrameState::kPageTable));
  FrameMeta& m = meta_[index];
  m.next = kNoFrame;
  return PaddrOf(index);
}

void FrameAllocator::FreePageTable(HostPhysAddr pa) {
  const uint32_t index = IndexOf(pa);
  HV_CHECK(meta_[index].state == FrameState::kPageTable, "%#lx is not a page-table page",
           static_cast<unsigned long>(pa.value()));
  meta_[index].ref_count.store(0, std::memory_order_relaxed);
  FreeBlock(index);
}

}  // namespace hv::mm
