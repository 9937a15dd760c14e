#include <devices/virtqueue.h>

namespace hv::devices {

using guestmem::GuestMemoryAccessor;
using mm::CopyError;
using mm::CopyResult;

const char* QueueFaultName(QueueFault fault) {
  switch (fault) {
    case QueueFault::kBadQueueSize:
      return "kBadQueueSize";
    case QueueFault::kMisalignedRing:
      return "kMisalignedRing";
    case QueueFault::kRingOutsideRam:
      return "kRingOutsideRam";
    case QueueFault::kAvailIdxJump:
      return "kAvailIdxJump";
    case QueueFault::kHeadOutOfRange:
      return "kHeadOutOfRange";
    case QueueFault::kNextOutOfRange:
      return "kNextOutOfRange";
    case QueueFault::kChainTooLong:
      return "kChainTooLong";
    case QueueFault::kNestedIndirect:
      return "kNestedIndirect";
    case QueueFault::kIndirectNotNegotiated:
      return "kIndirectNotNegotiated";
    case QueueFault::kIndirectWithNext:
      return "kIndirectWithNext";
    case QueueFault::kBadIndirectTable:
      return "kBadIndirectTable";
    case QueueFault::kRingAccess:
      return "kRingAccess";
    case QueueFault::kUnanswerableRequest:
      return "kUnanswerableRequest";
  }
  return "(unknown QueueFault)";
}

bool InGuestRam(const GuestMemoryAccessor& memory, GuestPhysAddr gpa, uint64_t len) {
  if (len == 0) return true;
  if (!gpa.CheckedAdd(len - 1).has_value()) return false;
  uint64_t done = 0;
  while (done < len) {
    const Result<guestmem::Translation> t =
        memory.TranslateAndGetLimit(GuestPhysAddr(gpa.value() + done));
    if (!t.ok() || t->limit == 0) return false;
    done += std::min(t->limit, len - done);
  }
  return true;
}

bool DescChain::BuffersInGuestRam(const GuestMemoryAccessor& memory) const {
  for (const DescSegment& s : segments()) {
    if (!InGuestRam(memory, s.addr, s.len)) return false;
  }
  return true;
}

std::optional<GuestPhysAddr> DescChain::WritableByteAddr(uint64_t index) const {
  for (const DescSegment& s : segments()) {
    if (!s.device_writable) continue;
    if (index < s.len) return s.addr.CheckedAdd(index);
    index -= s.len;
  }
  return std::nullopt;
}

void DescChain::Start(uint16_t head) {
  head_ = head;
  count_ = 0;
  readable_bytes_ = 0;
  writable_bytes_ = 0;
  misordered_ = false;
  seen_readable_ = false;
  seen_writable_ = false;
}

void DescChain::Append(const DescSegment& segment) {
  HV_CHECK(count_ < kMaxSegments, "DescChain overflow: the walk must bound its chains");
  segments_[count_++] = segment;
  if (segment.device_writable) {
    writable_bytes_ += segment.len;
    seen_writable_ = true;
  } else {
    readable_bytes_ += segment.len;
    seen_readable_ = true;
    misordered_ = misordered_ || seen_writable_;
  }
}

ChainCursor::ChainCursor(const GuestMemoryAccessor& memory, const DescChain& chain, bool writable,
                         uint64_t offset, uint64_t len)
    : memory_(memory), chain_(chain), writable_(writable) {
  const uint64_t total = writable ? chain.writable_bytes() : chain.readable_bytes();
  if (offset >= total) {
    segment_ = chain.segments().size();
    return;
  }
  remain_ = std::min(len, total - offset);
  // Find the segment holding `offset`.
  const std::span<const DescSegment> segments = chain.segments();
  for (segment_ = 0; segment_ < segments.size(); ++segment_) {
    const DescSegment& s = segments[segment_];
    if (s.device_writable != writable_) continue;
    if (offset < s.len) break;
    offset -= s.len;
  }
  segment_offset_ = offset;
}

void ChainCursor::SkipEmpty() {
  const std::span<const DescSegment> segments = chain_.segments();
  while (segment_ < segments.size() && (segments[segment_].device_writable != writable_ ||
                                        segment_offset_ == segments[segment_].len)) {
    ++segment_;
    segment_offset_ = 0;
  }
}

template <typename Copy>
CopyResult ChainCursor::Transfer(size_t total, Copy copy) {
  total = static_cast<size_t>(std::min<uint64_t>(total, remain_));
  size_t done = 0;
  while (done < total) {
    SkipEmpty();
    // remain_ never exceeds the bytes left in our segments.
    HV_CHECK(segment_ < chain_.segments().size(), "chain cursor ran past its segments");
    const DescSegment& s = chain_.segments()[segment_];
    const size_t chunk =
        static_cast<size_t>(std::min<uint64_t>(s.len - segment_offset_, total - done));
    const std::optional<GuestPhysAddr> gpa = s.addr.CheckedAdd(segment_offset_);
    CopyResult r =
        gpa.has_value() ? copy(*gpa, done, chunk) : CopyResult(CopyError{Error::kOutOfRange, 0});
    const size_t moved = r.ok() ? r.value() : r.error().done;
    segment_offset_ += moved;
    remain_ -= moved;
    done += moved;
    if (!r.ok()) return CopyError{r.error().code, done};
  }
  return done;
}

CopyResult ChainReader::Read(std::span<std::byte> out) {
  return Transfer(out.size(), [this, out](GuestPhysAddr gpa, size_t at, size_t chunk) {
    return memory_.ReadBuffer(gpa, out.subspan(at, chunk));
  });
}

CopyResult ChainWriter::Write(std::span<const std::byte> in) {
  return Transfer(in.size(), [this, in](GuestPhysAddr gpa, size_t at, size_t chunk) {
    return memory_.WriteBuffer(gpa, in.subspan(at, chunk));
  });
}

Result<void, QueueFault> SplitQueue::Activate(const GuestMemoryAccessor& memory,
                                              const Layout& layout, uint16_t max_size,
                                              bool indirect, bool event_idx) {
  Reset();
  const uint16_t size = layout.size;
  if (size == 0 || size > std::min(max_size, kMaxSize) || !std::has_single_bit(size)) {
    return QueueFault::kBadQueueSize;
  }
  if (!layout.desc.IsAligned(virtio::kDescAlign) || !layout.avail.IsAligned(virtio::kAvailAlign) ||
      !layout.used.IsAligned(virtio::kUsedAlign)) {
    return QueueFault::kMisalignedRing;
  }
  if (!InGuestRam(memory, layout.desc, virtio::DescTableBytes(size)) ||
      !InGuestRam(memory, layout.avail, virtio::AvailRingBytes(size, event_idx)) ||
      !InGuestRam(memory, layout.used, virtio::UsedRingBytes(size, event_idx))) {
    return QueueFault::kRingOutsideRam;
  }
  memory_ = &memory;
  layout_ = layout;
  indirect_ = indirect;
  event_idx_ = event_idx;
  return {};
}

void SplitQueue::Reset() {
  memory_ = nullptr;
  layout_ = Layout{};
  indirect_ = false;
  event_idx_ = false;
  last_avail_idx_ = 0;
  avail_idx_ = 0;
  used_idx_ = 0;
  signalled_used_ = 0;
  fault_.reset();
}

QueueFault SplitQueue::Fail(QueueFault fault) {
  fault_ = fault;
  return fault;
}

Result<void, QueueFault> SplitQueue::LoadAvailIdx() {
  const Result<uint16_t> idx = memory_->ReadVolatile<uint16_t>(
      GuestPhysAddr(layout_.avail.value() + virtio::kRingIdxOffset));
  if (!idx.ok()) return Fail(QueueFault::kRingAccess);
  if (static_cast<uint16_t>(*idx - last_avail_idx_) > layout_.size) {
    return Fail(QueueFault::kAvailIdxJump);
  }
  avail_idx_ = *idx;
  return {};
}

Result<bool, QueueFault> SplitQueue::HasAvailable() {
  HV_CHECK(active(), "HasAvailable on an inactive queue");
  if (fault_) return *fault_;
  if (last_avail_idx_ == avail_idx_) HV_TRY(LoadAvailIdx());
  return last_avail_idx_ != avail_idx_;
}

Result<bool, QueueFault> SplitQueue::Pop(DescChain& chain) {
  HV_CHECK(active(), "Pop on an inactive queue");
  if (fault_) return *fault_;
  if (last_avail_idx_ == avail_idx_) {
    HV_TRY(LoadAvailIdx());
    if (last_avail_idx_ == avail_idx_) {
      if (!event_idx_) return false;
      // Ask for a notification at the next entry, then look again: the
      // driver may have added one after our read and before seeing this.
      const GuestPhysAddr avail_event(layout_.used.value() +
                                      virtio::AvailEventOffset(layout_.size));
      if (!memory_->WriteVolatile<uint16_t>(avail_event, last_avail_idx_).ok()) {
        return Fail(QueueFault::kRingAccess);
      }
      std::atomic_thread_fence(std::memory_order_seq_cst);
      HV_TRY(LoadAvailIdx());
      if (last_avail_idx_ == avail_idx_) return false;
    }
  }
  // The ring entry and the descriptors were written before avail->idx.
  std::atomic_thread_fence(std::memory_order_acquire);
  const GuestPhysAddr entry(layout_.avail.value() + virtio::kRingEntriesOffset +
                            2 * uint64_t{static_cast<uint16_t>(last_avail_idx_ % layout_.size)});
  const Result<uint16_t> head = memory_->ReadVolatile<uint16_t>(entry);
  if (!head.ok()) return Fail(QueueFault::kRingAccess);
  HV_TRY(Walk(*head, chain));
  ++last_avail_idx_;
  return true;
}

Result<void, QueueFault> SplitQueue::Walk(uint16_t head, DescChain& chain) {
  if (head >= layout_.size) return Fail(QueueFault::kHeadOutOfRange);
  chain.Start(head);
  GuestPhysAddr table = layout_.desc;
  uint64_t table_entries = layout_.size;
  bool in_indirect = false;
  uint64_t index = head;
  while (true) {
    // In range: index < table_entries, and the table was checked to lie in
    // guest RAM (the queue's at activation, an indirect one below).
    const GuestPhysAddr at(table.value() + index * sizeof(virtio::VirtqDesc));
    const Result<virtio::VirtqDesc> read = memory_->ReadObj<virtio::VirtqDesc>(at);
    if (!read.ok())
      return Fail(in_indirect ? QueueFault::kBadIndirectTable : QueueFault::kRingAccess);
    const virtio::VirtqDesc desc = *read;

    if ((desc.flags & virtio::kDescFlagIndirect) != 0) {
      if (in_indirect) return Fail(QueueFault::kNestedIndirect);
      if (!indirect_) return Fail(QueueFault::kIndirectNotNegotiated);
      if ((desc.flags & virtio::kDescFlagNext) != 0) return Fail(QueueFault::kIndirectWithNext);
      if (desc.len == 0 || desc.len % sizeof(virtio::VirtqDesc) != 0 ||
          !InGuestRam(*memory_, GuestPhysAddr(desc.addr), desc.len)) {
        return Fail(QueueFault::kBadIndirectTable);
      }
      // The write flag of this descriptor means nothing (2.7.5.3.2).
      table = GuestPhysAddr(desc.addr);
      table_entries = desc.len / sizeof(virtio::VirtqDesc);
      in_indirect = true;
      index = 0;
      continue;
    }

    // Loops and overlong chains end here: at most queue-size buffers.
    if (chain.segments().size() >= layout_.size) return Fail(QueueFault::kChainTooLong);
    chain.Append(DescSegment{GuestPhysAddr(desc.addr), desc.len,
                             (desc.flags & virtio::kDescFlagWrite) != 0});
    if ((desc.flags & virtio::kDescFlagNext) == 0) return {};
    if (desc.next >= table_entries) return Fail(QueueFault::kNextOutOfRange);
    index = desc.next;
  }
}

Result<void, QueueFault> SplitQueue::Push(uint16_t head, uint32_t len) {
  HV_CHECK(active(), "Push on an inactive queue");
  if (fault_) return *fault_;
  const GuestPhysAddr elem(layout_.used.value() + virtio::kRingEntriesOffset +
                           sizeof(virtio::VirtqUsedElem) *
                               uint64_t{static_cast<uint16_t>(used_idx_ % layout_.size)});
  if (!memory_->WriteObj(elem, virtio::VirtqUsedElem{head, len}).ok()) {
    return Fail(QueueFault::kRingAccess);
  }
  // The element must be visible before the index that publishes it.
  std::atomic_thread_fence(std::memory_order_release);
  const uint16_t next = static_cast<uint16_t>(used_idx_ + 1);
  if (!memory_
           ->WriteVolatile<uint16_t>(GuestPhysAddr(layout_.used.value() + virtio::kRingIdxOffset),
                                     next)
           .ok()) {
    return Fail(QueueFault::kRingAccess);
  }
  used_idx_ = next;
  return {};
}

Result<bool, QueueFault> SplitQueue::ShouldInterrupt() {
  HV_CHECK(active(), "ShouldInterrupt on an inactive queue");
  if (fault_) return *fault_;
  const uint16_t old_idx = signalled_used_;
  if (old_idx == used_idx_) return false;
  signalled_used_ = used_idx_;
  // used->idx must be visible before we read the driver's suppression state,
  // or a driver re-enabling interrupts concurrently could be missed.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (event_idx_) {
    const Result<uint16_t> used_event = memory_->ReadVolatile<uint16_t>(
        GuestPhysAddr(layout_.avail.value() + virtio::UsedEventOffset(layout_.size)));
    if (!used_event.ok()) return Fail(QueueFault::kRingAccess);
    return virtio::NeedEvent(*used_event, used_idx_, old_idx);
  }
  const Result<uint16_t> flags = memory_->ReadVolatile<uint16_t>(
      GuestPhysAddr(layout_.avail.value() + virtio::kRingFlagsOffset));
  if (!flags.ok()) return Fail(QueueFault::kRingAccess);
  return (*flags & virtio::kAvailFlagNoInterrupt) == 0;
}

}  // namespace hv::devices
