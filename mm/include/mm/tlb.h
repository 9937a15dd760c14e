// TLB maintenance: flush operations, the batching TlbFlusher, and the Mmu
// hooks through which generic mm code reaches the architecture.
//
// Rule of the page-table engine: a mapping that is removed or changed is
// flushed, and whatever it kept alive (a frame, a page-table page) is
// released only after the flush covering it has been dispatched to every
// CPU on which the address space is active.
#ifndef MM_TLB_H_
#define MM_TLB_H_

#include <hv/base/addr.h>
#include <hv/base/check.h>
#include <hv/base/std.h>
#include <mm/cpu_set.h>
#include <mm/frame.h>
#include <mm/paging.h>

namespace hv::mm {

// One TLB invalidation for one address space. Addresses are the inputs of
// the translation (virtual addresses for host spaces, guest-physical ones
// for stage-2 spaces), kept as raw values; a range is a start and a page
// count so that it may end at the top of the address space.
class TlbFlushOp {
 public:
  // Flushes nothing.
  constexpr TlbFlushOp() = default;
  // Everything of the address space.
  static constexpr TlbFlushOp ForAll() { return TlbFlushOp(0, 0, true, true); }
  // The page containing `addr`.
  static constexpr TlbFlushOp ForSingle(uint64_t addr) {
    return TlbFlushOp(addr & ~(kPageSize - 1), 1, false, false);
  }
  // The pages of [start, start + size). REQUIRES: both page-aligned.
  static constexpr TlbFlushOp ForRange(uint64_t start, uint64_t size) {
    return TlbFlushOp(start, size >> kPageShift, false, false);
  }
  // As ForRange, for a range whose page-table pages were freed too, so that
  // cached non-leaf entries must go as well (on riscv64 only a flush without
  // an address does that).
  static constexpr TlbFlushOp ForRangeAndTables(uint64_t start, uint64_t size) {
    return TlbFlushOp(start, size >> kPageShift, false, true);
  }

  constexpr bool is_all() const { return all_; }
  constexpr bool frees_tables() const { return tables_; }
  // REQUIRES (start, num_pages): !is_all().
  constexpr uint64_t start() const { return start_; }
  constexpr uint64_t num_pages() const { return pages_; }
  // True if the page containing `addr` is covered.
  constexpr bool Covers(uint64_t addr) const {
    return all_ || ((addr - start_) >> kPageShift) < pages_;
  }

  constexpr bool operator==(const TlbFlushOp&) const = default;

 private:
  constexpr TlbFlushOp(uint64_t start, uint64_t pages, bool all, bool tables)
      : start_(start), pages_(pages), all_(all), tables_(tables) {}

  uint64_t start_ = 0;
  uint64_t pages_ = 0;
  bool all_ = false;
  bool tables_ = false;
};

// The MMU of one kind of translation root on this machine: riscv64 satp or
// hgatp, x86_64 CR3 or AMD nCR3. It keeps, per CPU, which address space is
// active there, and provides the hooks that program the root register and
// invalidate TLBs. The kernel implementations live in arch/<arch>/mm; host
// tests use mm::testing::FakeMmu, which records what it is asked to do.
class Mmu {
 public:
  Mmu(const Mmu&) = delete;
  Mmu& operator=(const Mmu&) = delete;

  // The CPU the caller runs on.
  // REQUIRES (all hooks): the caller cannot migrate to another CPU.
  virtual CpuId CurrentCpu() const = 0;
  // Makes `root` the current CPU's translation root for address-space tag
  // `asid` (ASID or VMID), and invalidates the current CPU's TLB entries for
  // `asid`, which may be stale: a CPU that did not have the space active was
  // left out of its shootdowns.
  virtual void SetRoot(HostPhysAddr root, uint16_t asid) = 0;
  // Switches the current CPU to the MMU's fallback root (the kernel's own
  // table, or no stage-2 translation).
  virtual void ClearRoot() = 0;
  // Performs `ops` for tag `asid` on every CPU in `cpus` (the current one
  // included if it is in the set) and returns when all are done.
  virtual void Flush(CpuSet cpus, std::span<const TlbFlushOp> ops, uint16_t asid) = 0;

  // Records `space` as the space active on the current CPU, adds the CPU to
  // `cpus` (the space's set), makes `root` current, and removes the CPU from
  // the previously active space's set. Does nothing if `space` is active
  // here already. `space` is an identity only; it is never dereferenced.
  void ActivateSpace(const void* space, AtomicCpuSet& cpus, HostPhysAddr root, uint16_t asid);
  // If `space` is active on the current CPU: switches to the fallback root
  // and forgets it.
  void DeactivateSpace(const void* space);
  // The space active on `cpu`, or nullptr.
  const void* ActiveSpace(CpuId cpu) const;

 protected:
  Mmu() = default;
  ~Mmu() = default;

 private:
  struct Slot {
    std::atomic<const void*> space{nullptr};
    std::atomic<AtomicCpuSet*> cpus{nullptr};
  };
  std::array<Slot, kMaxCpus> slots_{};
};

// Collects the TLB flushes one cursor's changes need, with what must outlive
// them, and dispatches them in a batch: frames and page-table pages handed
// over with a flush are released right after the flush was performed on
// every CPU of the space's CPU set. Above kFullFlushThresholdPages pages (or
// kMaxOps separate ranges) the batch becomes one flush of everything.
//
// If the space is active on no CPU, dispatching flushes nothing: a CPU
// invalidates a space's entries when it activates it (Mmu::SetRoot).
class TlbFlusher {
 public:
  static constexpr size_t kMaxOps = 16;
  static constexpr uint64_t kFullFlushThresholdPages = 32;
  static constexpr size_t kMaxDeferredFrames = 32;

  // Releases a retired page-table page and whatever it still references.
  struct TableReleaser {
    void (*release)(void* context, HostPhysAddr table) = nullptr;
    void* context = nullptr;
    FrameAllocator* allocator = nullptr;
  };

  TlbFlusher(Mmu& mmu, AtomicCpuSet& cpus, uint16_t asid) : mmu_(&mmu), cpus_(&cpus), asid_(asid) {}
  TlbFlusher(TlbFlusher&& other) noexcept;
  TlbFlusher& operator=(TlbFlusher&&) = delete;
  TlbFlusher(const TlbFlusher&) = delete;
  TlbFlusher& operator=(const TlbFlusher&) = delete;
  // Dispatches whatever is pending.
  ~TlbFlusher();

  // Adds `op` to the batch.
  void IssueTlbFlush(TlbFlushOp op);
  // Adds `op`, and keeps `frame` until the batch has been dispatched. May
  // dispatch at once if too many frames are waiting.
  void IssueTlbFlushWith(TlbFlushOp op, Frame frame);
  // Adds `op`, and releases the page-table page `table` (detached from its
  // table by the caller) through the releaser after the dispatch.
  // REQUIRES: a releaser was set.
  void IssueTlbFlushWithTable(TlbFlushOp op, HostPhysAddr table);
  // Performs the pending flushes on every CPU where the space is active,
  // then releases what they retired.
  void DispatchTlbFlush();

  // For the page-table engine, which owns the page-table pages.
  void SetTableReleaser(TableReleaser releaser) { releaser_ = releaser; }

  // What is pending.
  size_t num_pending_ops() const { return num_ops_; }
  bool pending_full_flush() const { return full_; }
  bool has_pending() const {
    return full_ || num_ops_ != 0 || num_frames_ != 0 || tables_head_ != internal::kNoFrame;
  }

 private:
  Mmu* mmu_;
  AtomicCpuSet* cpus_;
  uint16_t asid_;
  TableReleaser releaser_;
  bool full_ = false;
  size_t num_ops_ = 0;
  uint64_t num_pages_ = 0;
  std::array<TlbFlushOp, kMaxOps> ops_{};
  size_t num_frames_ = 0;
  std::array<Frame, kMaxDeferredFrames> frames_{};
  // Retired page-table pages, linked through their FrameMeta::next.
  uint32_t tables_head_ = internal::kNoFrame;
};

}  // namespace hv::mm

#endif  // MM_TLB_H_
