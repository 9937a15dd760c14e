#include <mm/tlb.h>

namespace hv::mm {

void Mmu::ActivateSpace(const void* space, AtomicCpuSet& cpus, HostPhysAddr root, uint16_t asid) {
  const CpuId cpu = CurrentCpu();
  Slot& slot = slots_[cpu];
  if (slot.space.load(std::memory_order_relaxed) == space) return;
  // Join the new space's set before switching to it, so that no shootdown
  // for it misses this CPU once it can translate through the new root.
  cpus.Add(cpu);
  AtomicCpuSet* previous = slot.cpus.load(std::memory_order_relaxed);
  slot.space.store(space, std::memory_order_relaxed);
  slot.cpus.store(&cpus, std::memory_order_relaxed);
  SetRoot(root, asid);
  // Leave the old space's set only once its root is no longer current.
  if (previous != nullptr) previous->Remove(cpu);
}

void Mmu::DeactivateSpace(const void* space) {
  const CpuId cpu = CurrentCpu();
  Slot& slot = slots_[cpu];
  if (slot.space.load(std::memory_order_relaxed) != space) return;
  ClearRoot();
  slot.cpus.load(std::memory_order_relaxed)->Remove(cpu);
  slot.space.store(nullptr, std::memory_order_relaxed);
  slot.cpus.store(nullptr, std::memory_order_relaxed);
}

const void* Mmu::ActiveSpace(CpuId cpu) const {
  HV_CHECK(cpu < kMaxCpus, "CPU %u out of range", cpu);
  return slots_[cpu].space.load(std::memory_order_relaxed);
}

TlbFlusher::TlbFlusher(TlbFlusher&& other) noexcept
    : mmu_(other.mmu_),
      cpus_(other.cpus_),
      asid_(other.asid_),
      releaser_(other.releaser_),
      full_(std::exchange(other.full_, false)),
      num_ops_(std::exchange(other.num_ops_, 0)),
      num_pages_(std::exchange(other.num_pages_, 0)),
      ops_(other.ops_),
      num_frames_(std::exchange(other.num_frames_, 0)),
      frames_(std::move(other.frames_)),
      tables_head_(std::exchange(other.tables_head_, internal::kNoFrame)) {}

TlbFlusher::~TlbFlusher() { DispatchTlbFlush(); }

void TlbFlusher::IssueTlbFlush(TlbFlushOp op) {
  if (full_) return;
  if (op.is_all() || num_pages_ + op.num_pages() > kFullFlushThresholdPages) {
    full_ = true;
    num_ops_ = 0;
    num_pages_ = 0;
    return;
  }
  if (op.num_pages() == 0) return;
  num_pages_ += op.num_pages();
  // Unmapping walks addresses upwards: extend the last range when it can.
  if (num_ops_ != 0) {
    TlbFlushOp& last = ops_[num_ops_ - 1];
    if (last.start() + (last.num_pages() << kPageShift) == op.start()) {
      last = last.frees_tables() || op.frees_tables()
                 ? TlbFlushOp::ForRangeAndTables(last.start(), (last.num_pages() + op.num_pages())
                                                                   << kPageShift)
                 : TlbFlushOp::ForRange(last.start(), (last.num_pages() + op.num_pages())
                                                          << kPageShift);
      return;
    }
  }
  if (num_ops_ == kMaxOps) {
    full_ = true;
    num_ops_ = 0;
    num_pages_ = 0;
    return;
  }
  ops_[num_ops_++] = op;
}

void TlbFlusher::IssueTlbFlushWith(TlbFlushOp op, Frame frame) {
  IssueTlbFlush(op);
  frames_[num_frames_++] = std::move(frame);
  if (num_frames_ == kMaxDeferredFrames) DispatchTlbFlush();
}

void TlbFlusher::IssueTlbFlushWithTable(TlbFlushOp op, HostPhysAddr table) {
  HV_CHECK(releaser_.release != nullptr, "no releaser for page-table pages");
  IssueTlbFlush(op);
  internal::FrameMeta& meta = releaser_.allocator->meta(table);
  meta.next = tables_head_;
  tables_head_ =
      static_cast<uint32_t>((table.value() - releaser_.allocator->base().value()) >> kPageShift);
}

void TlbFlusher::DispatchTlbFlush() {
  if (full_ || num_ops_ != 0) {
    // A CPU missing from the set activates the space, and flushes, after
    // the changes (see AtomicCpuSet).
    const CpuSet cpus = cpus_->LoadForShootdown();
    if (!cpus.empty()) {
      if (full_) {
        const TlbFlushOp all = TlbFlushOp::ForAll();
        mmu_->Flush(cpus, std::span(&all, 1), asid_);
      } else {
        mmu_->Flush(cpus, std::span(ops_.data(), num_ops_), asid_);
      }
    }
    full_ = false;
    num_ops_ = 0;
    num_pages_ = 0;
  }
  for (size_t i = 0; i < num_frames_; ++i) frames_[i].Reset();
  num_frames_ = 0;
  while (tables_head_ != internal::kNoFrame) {
    const HostPhysAddr table(releaser_.allocator->base().value() +
                             (uint64_t{tables_head_} << kPageShift));
    tables_head_ = releaser_.allocator->meta(table).next;
    releaser_.release(releaser_.context, table);
  }
}

}  // namespace hv::mm
