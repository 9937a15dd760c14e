// The page-table engine: one implementation of page tables, cursors and
// their locking for every format (PteFormat) and both environments
// (PhysMem), after OSTD's `page_table` module.
//
// A PageTable<Config, PhysMem> owns a tree of page-table pages allocated from
// a FrameAllocator and reached through the PhysMem policy. Config says which
// format, which part of the root table belongs to this table
// (kTopLevelIndexBegin..End; the rest may be shared from another root and is
// never touched), and what a leaf item is (see PageTableConfig).
//
// Addresses here are raw 64-bit inputs of the translation (virtual for host
// spaces, guest-physical for stage-2 spaces); VmSpace gives them types.
//
// Locking. A cursor owns a range [va, va + len) exclusively: cursors over
// overlapping ranges serialize, cursors whose ranges lie under different
// page-table pages run in parallel. Each page-table page has a spinlock (in
// its FrameMeta). Opening a cursor walks from the root with lock coupling
// (lock the child, then unlock the parent) down to the lowest page whose
// subtree covers the whole range (the guard; a mutable cursor creates the
// missing tables on the way so that the guard is as low as possible), then
// locks, depth-first and top-down, every page of the guard's subtree that
// intersects the range. It keeps all these locks until it is destroyed;
// tables it creates are born locked. Every acquisition that may wait goes
// from a held page to a page below it in the same subtree, in address
// order, so cursors cannot deadlock. This is OSTD's scheme minus RCU: a
// page is only freed by a cursor holding both it and its parent, and no one
// can wait for a page without holding its parent, so no one ever waits on
// a freed page. The price is granularity: two cursors whose ranges share a
// page-table page (e.g. two 4 KiB ranges under one leaf table) serialize.
// The locks do not disable interrupts (see SpinLock).
//
// TLB coherence. A CursorMut carries a TlbFlusher. Every change of an
// existing entry issues a flush for the range it covered; frames and
// page-table pages that a change retires go to the flusher and are released
// only after the flush has been dispatched. Map (when it replaces
// something) and Unmap dispatch before returning; ProtectNext only issues,
// and the cursor dispatches at the latest when it is destroyed.
#ifndef MM_PAGE_TABLE_H_
#define MM_PAGE_TABLE_H_

#include <hv/base/addr.h>
#include <hv/base/check.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <mm/frame.h>
#include <mm/internal/frame_meta.h>
#include <mm/page_property.h>
#include <mm/paging.h>
#include <mm/phys_mem.h>
#include <mm/pte_format.h>
#include <mm/tlb.h>

namespace hv::mm {

// A leaf as a page-table entry records it.
struct RawLeaf {
  HostPhysAddr paddr;
  PagingLevel level = 1;
  PageProperty prop;
};

// What a page table maps and how items are kept in entries.
//   Format                the PteFormat
//   kTopLevelIndexBegin,  the root entries this table owns
//   kTopLevelIndexEnd
//   Item                  what Map takes and Query returns
//   IsTracked(prop)       true if a leaf with `prop` holds a reference to a
//                         frame of the table's FrameAllocator (released on
//                         unmap); false for untracked leaves such as I/O
//                         memory
//   ItemIntoRaw(item)     the leaf for `item`; a tracked item's frame
//                         reference moves into the returned leaf
//   ItemFromRaw(raw, f)   the item for a leaf; `f` is the frame reference for
//                         a tracked leaf, null otherwise
template <typename C>
concept PageTableConfig = PteFormat<typename C::Format> &&
    requires(typename C::Item item, const RawLeaf& raw, Frame frame, const PageProperty& prop) {
  requires std::same_as<std::remove_cv_t<decltype(C::kTopLevelIndexBegin)>, uint64_t>;
  requires std::same_as<std::remove_cv_t<decltype(C::kTopLevelIndexEnd)>, uint64_t>;
  requires C::kTopLevelIndexBegin < C::kTopLevelIndexEnd;
  requires C::kTopLevelIndexEnd <= C::Format::kRootEntries;
  { C::IsTracked(prop) } -> std::same_as<bool>;
  { C::ItemIntoRaw(std::move(item)) } -> std::same_as<RawLeaf>;
  { C::ItemFromRaw(raw, std::move(frame)) } -> std::same_as<typename C::Item>;
};

template <PageTableConfig Config, PhysMem P>
class PageTable {
 public:
  using Format = typename Config::Format;
  using Item = typename Config::Item;

  static constexpr PagingLevel kTopLevel = Format::kNumLevels;
  // Offsets from kBase are what the engine works with internally: they run
  // from 0 to kSize without wrapping, whatever the sign extension.
  static constexpr uint64_t kSize = (Config::kTopLevelIndexEnd - Config::kTopLevelIndexBegin)
                                    << LevelShift(kTopLevel);
  static constexpr uint64_t kBase = [] {
    const uint64_t base = Config::kTopLevelIndexBegin << LevelShift(kTopLevel);
    const uint64_t sign = uint64_t{1} << (Format::kAddrBits - 1);
    return Format::kSignExtended && (base & sign) != 0 ? base | ~(2 * sign - 1) : base;
  }();

  // What a query found: the slot [va, va + size) containing the cursor (a
  // leaf, or an empty entry at some level) and the item there, if any.
  struct QueryResult {
    uint64_t va;
    uint64_t size;
    std::optional<Item> item;
  };

  class Cursor;
  class CursorMut;

  // An empty table (root only). Errors: kNoMemory.
  static Result<PageTable> Create(FrameAllocator& alloc, const P& phys) {
    const HostPhysAddr root = HV_TRY(AllocTablePage(alloc, phys, kTopLevel, /*locked=*/false));
    return PageTable(alloc, phys, root);
  }

  // An empty table whose root entries outside [kTopLevelIndexBegin,
  // kTopLevelIndexEnd) are copied from `shared_root` (e.g. the kernel's half
  // of a host space). Those entries are never changed or freed by this table.
  // They are copied once: the owner of `shared_root` must not add or remove
  // root entries afterwards (preallocate its upper-level tables, as OSTD
  // does for the kernel half).
  // REQUIRES: `shared_root` is a root table of the same format reachable
  // through `phys`. Errors: kNoMemory.
  static Result<PageTable> CreateSharing(FrameAllocator& alloc, const P& phys,
                                         HostPhysAddr shared_root) {
    PageTable table = HV_TRY(Create(alloc, phys));
    const Pte* from = TableAt(phys, shared_root);
    Pte* to = TableAt(phys, table.root_);
    for (uint64_t i = 0; i < Format::kRootEntries; ++i) {
      if (i < Config::kTopLevelIndexBegin || i >= Config::kTopLevelIndexEnd) {
        StorePte(&to[i], LoadPte(&from[i]));
      }
    }
    return table;
  }

  PageTable(PageTable&& other) noexcept
      : alloc_(other.alloc_), phys_(other.phys_), root_(std::exchange(other.root_, {})) {}
  PageTable& operator=(PageTable&&) = delete;
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // Releases every mapping and page-table page without any TLB flush.
  // REQUIRES: no cursor is open and the table is active on no CPU (so no
  // TLB holds its entries).
  ~PageTable() {
    if (root_ == HostPhysAddr()) return;
    ReleaseSubtree(root_, kTopLevel);
  }

  HostPhysAddr root_paddr() const { return root_; }
  FrameAllocator& allocator() const { return *alloc_; }
  const P& phys() const { return phys_; }

  // A read-only cursor over [va, va + len). It never allocates.
  // Errors: kInvalidArgs if `va` or `len` is not page-aligned or `len` is 0;
  // kOutOfRange if the range is not inside [kBase, kBase + kSize).
  Result<Cursor> OpenCursor(uint64_t va, uint64_t len) {
    const uint64_t start = HV_TRY(CheckRange(va, len));
    Cursor cursor(this, start, start + len);
    HV_TRY(cursor.Lock(/*create_path=*/false));
    return cursor;
  }

  // A cursor that may change [va, va + len), flushing through `flusher`.
  // Errors: as OpenCursor, and kNoMemory if a table on the way to the range
  // cannot be allocated.
  Result<CursorMut> OpenCursorMut(uint64_t va, uint64_t len, TlbFlusher flusher) {
    const uint64_t start = HV_TRY(CheckRange(va, len));
    CursorMut cursor(this, start, start + len, std::move(flusher));
    HV_TRY(cursor.Lock(/*create_path=*/true));
    return cursor;
  }

  // The shape of the tree, checked against the metadata: each page's child
  // count, level and state. Panics on an inconsistency.
  // REQUIRES: no cursor is open.
  struct Stats {
    uint64_t tables = 0;        // page-table pages, the root included
    uint64_t empty_tables = 0;  // non-root pages without entries
    uint64_t leaves = 0;
    uint64_t tracked_leaves = 0;
  };
  Stats CheckInvariants() const {
    Stats stats;
    CheckSubtree(root_, kTopLevel, stats);
    return stats;
  }

 private:
  PageTable(FrameAllocator& alloc, const P& phys, HostPhysAddr root)
      : alloc_(&alloc), phys_(phys), root_(root) {}

  static Pte LoadPte(const Pte* pte) {
    // SAFETY: `pte` points into a page-table page reached through PhysMem;
    // entries are naturally aligned 64-bit words, which the hardware walker
    // may read concurrently, hence the single atomic access.
    return __atomic_load_n(pte, __ATOMIC_RELAXED);
  }
  static void StorePte(Pte* pte, Pte value) {
    // SAFETY: as LoadPte; release so that a new table's contents are
    // visible before the entry pointing at it.
    __atomic_store_n(pte, value, __ATOMIC_RELEASE);
  }
  static Pte* TableAt(const P& phys, HostPhysAddr pa) {
    // SAFETY: `pa` is a page-table page of this table (allocated by
    // AllocTablePage) and PhysMem maps it; entries are 8-byte aligned.
    return static_cast<Pte*>(phys.PhysToVirt(pa));
  }
  Pte* TableAt(HostPhysAddr pa) const { return TableAt(phys_, pa); }
  internal::FrameMeta& Meta(HostPhysAddr pa) const { return alloc_->meta(pa); }

  static uint64_t EntriesAt(PagingLevel level) {
    return level == kTopLevel ? Format::kRootEntries : kEntriesPerTable;
  }
  // The entry index of offset `off` in the page at `level` on its path.
  static uint64_t IndexOf(PagingLevel level, uint64_t off) {
    if (level == kTopLevel) return Config::kTopLevelIndexBegin + (off >> LevelShift(level));
    return (off >> LevelShift(level)) & (kEntriesPerTable - 1);
  }

  static Result<HostPhysAddr> AllocTablePage(FrameAllocator& alloc, const P& phys,
                                             PagingLevel level, bool locked) {
    const uint64_t bytes = EntriesAt(level) * sizeof(Pte);
    const auto order = static_cast<uint32_t>(std::countr_zero(bytes >> kPageShift));
    const HostPhysAddr pa = HV_TRY(alloc.AllocPageTable(order));
    Pte* entries = TableAt(phys, pa);
    // SAFETY: the block was just allocated for this table (EntriesAt(level)
    // entries fill it exactly) and is not yet reachable by anyone else.
    for (uint64_t i = 0; i < EntriesAt(level); ++i) entries[i] = 0;
    internal::FrameMeta& meta = alloc.meta(pa);
    meta.pt_level = level;
    meta.pt_children = 0;
    meta.pt_lock.Reset(locked);
    return pa;
  }

  Result<uint64_t> CheckRange(uint64_t va, uint64_t len) const {
    if (!IsPageAligned(va) || !IsPageAligned(len) || len == 0) return Error::kInvalidArgs;
    const uint64_t start = va - kBase;
    if (start >= kSize || len > kSize - start) return Error::kOutOfRange;
    return start;
  }

  // Tracked leaves below `table` (a subtree being unmapped).
  uint64_t CountTracked(HostPhysAddr table, PagingLevel level) const {
    const Pte* entries = TableAt(table);
    uint64_t count = 0;
    for (uint64_t i = 0; i < EntriesAt(level); ++i) {
      const Pte pte = LoadPte(&entries[i]);
      if (!Format::IsPresent(pte)) continue;
      if (Format::IsLeaf(pte, level)) {
        count += Config::IsTracked(Format::LeafProperty(pte, level)) ? 1 : 0;
      } else {
        count += CountTracked(Format::TablePaddr(pte), level - 1);
      }
    }
    return count;
  }

  // Drops every reference the subtree holds and frees its pages. For the
  // root, only the owned entries.
  void ReleaseSubtree(HostPhysAddr table, PagingLevel level) {
    Pte* entries = TableAt(table);
    const uint64_t begin = level == kTopLevel ? Config::kTopLevelIndexBegin : 0;
    const uint64_t end = level == kTopLevel ? Config::kTopLevelIndexEnd : kEntriesPerTable;
    for (uint64_t i = begin; i < end; ++i) {
      const Pte pte = LoadPte(&entries[i]);
      if (!Format::IsPresent(pte)) continue;
      if (Format::IsLeaf(pte, level)) {
        if (Config::IsTracked(Format::LeafProperty(pte, level))) {
          alloc_->ReleaseRaw(Format::LeafPaddr(pte, level));
        }
      } else {
        ReleaseSubtree(Format::TablePaddr(pte), level - 1);
      }
    }
    alloc_->FreePageTable(table);
  }

  static void ReleaseRetired(void* context, HostPhysAddr table) {
    auto* self = static_cast<PageTable*>(context);
    self->ReleaseSubtree(table, self->Meta(table).pt_level);
  }

  void CheckSubtree(HostPhysAddr table, PagingLevel level, Stats& stats) const {
    const internal::FrameMeta& meta = Meta(table);
    HV_CHECK(meta.state == internal::FrameState::kPageTable, "page %#lx is not a page table",
             static_cast<unsigned long>(table.value()));
    HV_CHECK(meta.pt_level == level, "page %#lx at level %d says level %d",
             static_cast<unsigned long>(table.value()), level, meta.pt_level);
    HV_CHECK(!meta.pt_lock.is_locked(), "page %#lx still locked",
             static_cast<unsigned long>(table.value()));
    ++stats.tables;
    const Pte* entries = TableAt(table);
    const uint64_t begin = level == kTopLevel ? Config::kTopLevelIndexBegin : 0;
    const uint64_t end = level == kTopLevel ? Config::kTopLevelIndexEnd : kEntriesPerTable;
    uint64_t children = 0;
    for (uint64_t i = 0; i < EntriesAt(level); ++i) {
      const Pte pte = LoadPte(&entries[i]);
      if (!Format::IsPresent(pte) || i < begin || i >= end) continue;
      ++children;
      if (Format::IsLeaf(pte, level)) {
        HV_CHECK(level <= Format::kMaxLeafLevel, "leaf at level %d", level);
        ++stats.leaves;
        if (Config::IsTracked(Format::LeafProperty(pte, level))) {
          ++stats.tracked_leaves;
          HV_CHECK(alloc_->RefCount(Format::LeafPaddr(pte, level)) > 0, "leaf maps a free frame");
        }
      } else {
        HV_CHECK(level > 1, "table entry at level 1");
        CheckSubtree(Format::TablePaddr(pte), level - 1, stats);
      }
    }
    HV_CHECK(meta.pt_children == children, "page %#lx counts %u children, has %lu",
             static_cast<unsigned long>(table.value()), meta.pt_children,
             static_cast<unsigned long>(children));
    if (level != kTopLevel && children == 0) ++stats.empty_tables;
  }

  FrameAllocator* alloc_;
  P phys_;
  HostPhysAddr root_;
};

// A read-only cursor. See PageTable for what it locks; it holds its range
// until destroyed. Movable, not copyable.
template <PageTableConfig Config, PhysMem P>
class PageTable<Config, P>::Cursor {
 public:
  Cursor(Cursor&& other) noexcept { TakeFrom(other); }
  Cursor& operator=(Cursor&&) = delete;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor() { Unlock(); }

  // The current address.
  uint64_t virt_addr() const { return kBase + va_; }
  // The cursor's range.
  uint64_t start() const { return kBase + start_; }
  uint64_t end() const { return kBase + end_; }

  // The slot at the current address and its item. Does not move the cursor.
  // Errors: kOutOfRange if the cursor is at the end of its range.
  Result<QueryResult> Query() {
    if (va_ >= end_) return Error::kOutOfRange;
    Pte* slot = DescendToSlot();
    const Pte pte = LoadPte(slot);
    const uint64_t size = PageSizeAt(level_);
    const uint64_t slot_start = va_ & ~(size - 1);
    if (!Format::IsPresent(pte)) {
      return QueryResult{.va = kBase + slot_start, .size = size, .item = std::nullopt};
    }
    const RawLeaf raw = LeafOf(pte, level_);
    Frame frame;
    if (Config::IsTracked(raw.prop)) frame = Frame::CloneFromRaw(*pt_->alloc_, raw.paddr, level_);
    return QueryResult{
        .va = kBase + slot_start, .size = size, .item = Config::ItemFromRaw(raw, std::move(frame))};
  }

  // Moves to the first mapped address in [virt_addr(), virt_addr() + len)
  // and returns it (it may lie inside a leaf that starts earlier). Returns
  // nullopt, with the cursor at virt_addr() + len, if there is none.
  // REQUIRES: `len` is page-aligned and does not pass the cursor's end.
  std::optional<uint64_t> FindNext(uint64_t len) {
    HV_CHECK(IsPageAligned(len) && len <= end_ - va_,
             "FindNext(%#lx) past the cursor's range or unaligned",
             static_cast<unsigned long>(len));
    const uint64_t limit = va_ + len;
    while (va_ < limit) {
      Pte* slot = EntryAt(level_, va_);
      const Pte pte = LoadPte(slot);
      if (!Format::IsPresent(pte)) {
        MoveTo(SlotEnd() < limit ? SlotEnd() : limit);
        continue;
      }
      if (!Format::IsLeaf(pte, level_)) {
        Push(Format::TablePaddr(pte));
        continue;
      }
      return kBase + va_;
    }
    return std::nullopt;
  }

  // Moves to `va`, forwards or backwards.
  // Errors: kInvalidArgs if `va` is not page-aligned; kOutOfRange if it is
  // outside [start(), end()).
  Result<void> Jump(uint64_t va) {
    if (!IsPageAligned(va)) return Error::kInvalidArgs;
    const uint64_t off = va - kBase;
    if (off < start_ || off >= end_) return Error::kOutOfRange;
    MoveTo(off);
    return Ok();
  }

 protected:
  friend class PageTable;

  Cursor() = default;
  Cursor(PageTable* pt, uint64_t start, uint64_t end)
      : pt_(pt), start_(start), end_(end), va_(start) {}

  void TakeFrom(Cursor& other) {
    pt_ = other.pt_;
    start_ = other.start_;
    end_ = other.end_;
    va_ = other.va_;
    level_ = other.level_;
    guard_level_ = other.guard_level_;
    guard_detached_ = other.guard_detached_;
    tables_ = other.tables_;
    table_pa_ = other.table_pa_;
    locked_ = std::exchange(other.locked_, false);
  }

  // Takes the range (see PageTable). With `create_path`, creates missing
  // tables on the way so that the guard is the lowest page covering it.
  Result<void> Lock(bool create_path) {
    PagingLevel level = kTopLevel;
    HostPhysAddr page = pt_->root_;
    pt_->Meta(page).pt_lock.Lock();
    SetPath(level, page);
    while (level > 1) {
      const uint64_t shift = LevelShift(level);
      // Descend only while the range lies inside one entry and a leaf could
      // not cover it whole at this level.
      if ((start_ >> shift) != ((end_ - 1) >> shift)) break;
      if (end_ - start_ == PageSizeAt(level) && level <= Format::kMaxLeafLevel) break;
      Pte* slot = EntryAt(level, start_);
      const Pte pte = LoadPte(slot);
      HostPhysAddr child;
      if (!Format::IsPresent(pte)) {
        if (!create_path) break;
        auto created = AllocTablePage(*pt_->alloc_, pt_->phys_, level - 1, /*locked=*/true);
        if (!created.ok()) {
          pt_->Meta(page).pt_lock.Unlock();
          return created.error();
        }
        child = *created;
        StorePte(slot, Format::MakeTable(child));
        ++pt_->Meta(page).pt_children;
      } else if (Format::IsLeaf(pte, level)) {
        break;
      } else {
        child = Format::TablePaddr(pte);
        pt_->Meta(child).pt_lock.Lock();
      }
      pt_->Meta(page).pt_lock.Unlock();
      --level;
      page = child;
      SetPath(level, page);
    }
    guard_level_ = level;
    level_ = level;
    locked_ = true;
    ForEachTableBelow(page, level, AlignDown(start_, level),
                      [this](HostPhysAddr table) { pt_->Meta(table).pt_lock.Lock(); });
    return Ok();
  }

  // Releases every lock the cursor holds under its guard, and the guard.
  void Unlock() {
    if (!locked_) return;
    locked_ = false;
    if (guard_detached_) return;
    const HostPhysAddr guard = table_pa_[guard_level_];
    ForEachTableBelow(guard, guard_level_, AlignDown(start_, guard_level_),
                      [this](HostPhysAddr table) { pt_->Meta(table).pt_lock.Unlock(); });
    pt_->Meta(guard).pt_lock.Unlock();
  }

  // Start of the page at `level` whose subtree contains `off`.
  static uint64_t AlignDown(uint64_t off, PagingLevel level) {
    if (level == kTopLevel) return 0;
    return off & ~(PageSizeAt(level + 1) - 1);
  }

  // Calls `fn` on every table below `table` (at `level`, covering offsets
  // from `base`) that intersects [start_, end_), parents before children.
  // `fn` runs before the walk reads a table's entries, so it may lock it.
  template <typename Fn>
  void ForEachTableBelow(HostPhysAddr table, PagingLevel level, uint64_t base, Fn&& fn) {
    if (level == 1) return;
    const uint64_t size = PageSizeAt(level);
    const uint64_t span = level == kTopLevel ? kSize : size * kEntriesPerTable;
    const uint64_t first = (start_ > base ? start_ : base) & ~(size - 1);
    const uint64_t last = end_ < base + span ? end_ : base + span;
    const Pte* entries = pt_->TableAt(table);
    for (uint64_t off = first; off < last; off += size) {
      const Pte pte = LoadPte(&entries[IndexOf(level, off)]);
      if (!Format::IsPresent(pte) || Format::IsLeaf(pte, level)) continue;
      const HostPhysAddr child = Format::TablePaddr(pte);
      fn(child);
      ForEachTableBelow(child, level - 1, off, fn);
    }
  }

  void SetPath(PagingLevel level, HostPhysAddr page) {
    table_pa_[level] = page;
    tables_[level] = pt_->TableAt(page);
  }
  Pte* EntryAt(PagingLevel level, uint64_t off) const {
    // SAFETY: tables_[level] is the page on the path at `level` and
    // IndexOf() < EntriesAt(level) for offsets inside the space.
    return tables_[level] + IndexOf(level, off);
  }
  void Push(HostPhysAddr child) {
    --level_;
    SetPath(level_, child);
  }
  // End of the entry at level_ containing va_.
  uint64_t SlotEnd() const { return (va_ & ~(PageSizeAt(level_) - 1)) + PageSizeAt(level_); }
  // Descends through tables to the leaf or empty entry for va_.
  Pte* DescendToSlot() {
    for (;;) {
      Pte* slot = EntryAt(level_, va_);
      const Pte pte = LoadPte(slot);
      if (level_ == 1 || !Format::IsPresent(pte) || Format::IsLeaf(pte, level_)) return slot;
      Push(Format::TablePaddr(pte));
    }
  }
  static bool SamePage(PagingLevel level, uint64_t a, uint64_t b) {
    return (a >> LevelShift(level + 1)) == (b >> LevelShift(level + 1));
  }
  // Moves to `to`, leaving the pages that do not contain it.
  void MoveTo(uint64_t to) {
    while (level_ < guard_level_ && !SamePage(level_, va_, to)) ++level_;
    va_ = to;
  }
  static RawLeaf LeafOf(Pte pte, PagingLevel level) {
    return RawLeaf{.paddr = Format::LeafPaddr(pte, level),
                   .level = level,
                   .prop = Format::LeafProperty(pte, level)};
  }

  PageTable* pt_ = nullptr;
  uint64_t start_ = 0;
  uint64_t end_ = 0;
  uint64_t va_ = 0;
  PagingLevel level_ = 0;
  PagingLevel guard_level_ = 0;
  // The guard page was freed (a mutable cursor that emptied it).
  bool guard_detached_ = false;
  bool locked_ = false;
  // The page at each level on the path to va_: valid from level_ up; above
  // guard_level_ they are the (unlocked) pages the cursor came through.
  std::array<Pte*, kMaxLevels + 1> tables_{};
  std::array<HostPhysAddr, kMaxLevels + 1> table_pa_{};
};

// A cursor that changes mappings. See PageTable for locking and flushing.
template <PageTableConfig Config, PhysMem P>
class PageTable<Config, P>::CursorMut : public PageTable<Config, P>::Cursor {
  using Base = Cursor;

 public:
  CursorMut(CursorMut&& other) noexcept : flusher_(std::move(other.flusher_)) {
    this->TakeFrom(other);
    extra_locked_ = std::exchange(other.extra_locked_, HostPhysAddr());
    flusher_.SetTableReleaser(Releaser());
  }
  CursorMut& operator=(CursorMut&&) = delete;

  // Frees the guard page (and the pages above it) if the cursor left it
  // empty and no other cursor is using the parent, dispatches every
  // pending flush, then releases the range.
  ~CursorMut() {
    if (!this->locked_) return;
    ReleaseEmptyGuard();
    flusher_.DispatchTlbFlush();
    this->Unlock();
    if (extra_locked_ != HostPhysAddr()) this->pt_->Meta(extra_locked_).pt_lock.Unlock();
  }

  TlbFlusher& flusher() { return flusher_; }

  // Maps `item` at the current address and moves past it. Returns the item
  // that was mapped exactly there before, after the flush retiring it was
  // dispatched. Smaller mappings the new leaf covers are unmapped as by
  // Unmap (flushed, released after the flush); a larger leaf containing the
  // slot is split first.
  // Errors (nothing changed, the item is dropped): kOutOfRange if the leaf
  // does not fit between virt_addr() and end(); kInvalidArgs if virt_addr()
  // or the item's address is not aligned to the leaf's size, the level is
  // not 1..kMaxLeafLevel, or the address does not fit the format; kNoMemory
  // if a table cannot be allocated (tables created so far stay).
  Result<std::optional<Item>> Map(Item item) {
    // Convert here, where the item was built, and pass scalars: reading
    // back an item or leaf the caller just wrote field by field costs a
    // store-forwarding stall per map on x86.
    const RawLeaf raw = Config::ItemIntoRaw(std::move(item));
    return MapRaw(raw.paddr, raw.level, raw.prop);
  }

  // Removes every mapping in [virt_addr(), virt_addr() + len), splitting
  // leaves that straddle its ends, frees the page-table pages this empties,
  // dispatches the flush and moves to the end. Returns the number of
  // tracked leaves removed (a 2 MiB leaf counts once; untracked leaves such
  // as I/O memory do not count). Holes are skipped.
  // Errors: kInvalidArgs if `len` is not page-aligned; kOutOfRange if it
  // passes end() (nothing changed); kNoMemory if a leaf to split needs a
  // table that cannot be allocated: everything before virt_addr() was
  // unmapped and flushed.
  Result<uint64_t> Unmap(uint64_t len) {
    HV_TRY(CheckLen(len));
    const uint64_t limit = this->va_ + len;
    uint64_t count = 0;
    Result<void> status = Ok();
    while (this->va_ < limit) {
      Pte* slot = this->EntryAt(this->level_, this->va_);
      const Pte pte = LoadPte(slot);
      const PagingLevel level = this->level_;
      const uint64_t size = PageSizeAt(level);
      const uint64_t slot_start = this->va_ & ~(size - 1);
      const uint64_t slot_end = slot_start + size;
      if (!Format::IsPresent(pte)) {
        MoveToReleasing(slot_end < limit ? slot_end : limit);
        continue;
      }
      const bool whole = this->va_ == slot_start && slot_end <= limit;
      if (!Format::IsLeaf(pte, level)) {
        if (!whole) {
          this->Push(Format::TablePaddr(pte));
          continue;
        }
        StorePte(slot, 0);
        --this->pt_->Meta(this->table_pa_[level]).pt_children;
        count += this->pt_->CountTracked(Format::TablePaddr(pte), level - 1);
        flusher_.IssueTlbFlushWithTable(TlbFlushOp::ForRangeAndTables(kBase + slot_start, size),
                                        Format::TablePaddr(pte));
        MoveToReleasing(slot_end);
        continue;
      }
      if (!whole) {
        status = Split(slot, pte);
        if (!status.ok()) break;
        continue;
      }
      StorePte(slot, 0);
      --this->pt_->Meta(this->table_pa_[level]).pt_children;
      const RawLeaf raw = Base::LeafOf(pte, level);
      const TlbFlushOp op = TlbFlushOp::ForRange(kBase + slot_start, size);
      if (Config::IsTracked(raw.prop)) {
        ++count;
        flusher_.IssueTlbFlushWith(op, Frame::FromRaw(*this->pt_->alloc_, raw.paddr, level));
      } else {
        flusher_.IssueTlbFlush(op);
      }
      MoveToReleasing(slot_end);
    }
    ReleaseEmptyPath();
    flusher_.DispatchTlbFlush();
    if (!status.ok()) return status.error();
    return count;
  }

  // Finds the first mapped leaf in [virt_addr(), virt_addr() + len), lets
  // `op(flags, cache)` change its property (privileged flags stay), issues
  // the flush for it and moves past it. A leaf straddling either end of the
  // range is split first, so only the range changes. Returns the leaf's
  // range [va, va + size), or nullopt (cursor at the range's end) if there
  // is none. The flush is issued, not dispatched: it happens at the next
  // dispatch through flusher(), at the latest when the cursor is destroyed.
  // Errors: kInvalidArgs / kOutOfRange for `len` as Unmap; kNoMemory if a
  // split needs a table that cannot be allocated.
  template <typename Op>
  Result<std::optional<std::pair<uint64_t, uint64_t>>> ProtectNext(uint64_t len, Op&& op) {
    HV_TRY(CheckLen(len));
    const uint64_t limit = this->va_ + len;
    while (this->va_ < limit) {
      Pte* slot = this->EntryAt(this->level_, this->va_);
      const Pte pte = LoadPte(slot);
      const PagingLevel level = this->level_;
      const uint64_t size = PageSizeAt(level);
      const uint64_t slot_start = this->va_ & ~(size - 1);
      const uint64_t slot_end = slot_start + size;
      if (!Format::IsPresent(pte)) {
        this->MoveTo(slot_end < limit ? slot_end : limit);
        continue;
      }
      if (!Format::IsLeaf(pte, level)) {
        this->Push(Format::TablePaddr(pte));
        continue;
      }
      if (this->va_ != slot_start || slot_end > limit) {
        HV_TRY(Split(slot, pte));
        continue;
      }
      const PageProperty old_prop = Format::LeafProperty(pte, level);
      PageProperty prop = old_prop;
      op(prop.flags, prop.cache);
      prop.priv_flags = old_prop.priv_flags;
      const Pte updated = Format::MakeLeaf(Format::LeafPaddr(pte, level), level, prop);
      if (updated != pte) {
        StorePte(slot, updated);
        flusher_.IssueTlbFlush(TlbFlushOp::ForRange(kBase + slot_start, size));
      }
      this->MoveTo(slot_end);
      return std::optional(std::pair(kBase + slot_start, size));
    }
    return std::optional<std::pair<uint64_t, uint64_t>>();
  }

 private:
  friend class PageTable;

  CursorMut(PageTable* pt, uint64_t start, uint64_t end, TlbFlusher flusher)
      : Base(pt, start, end), flusher_(std::move(flusher)) {
    flusher_.SetTableReleaser(Releaser());
  }

  // Map, for a leaf in raw form whose frame reference (if tracked) the
  // caller hands over.
  Result<std::optional<Item>> MapRaw(HostPhysAddr paddr, PagingLevel leaf_level,
                                     PageProperty prop) {
    const RawLeaf raw{.paddr = paddr, .level = leaf_level, .prop = prop};
    if (auto checked = CheckLeaf(raw); !checked.ok()) {
      DropRaw(raw);
      return checked.error();
    }
    const PagingLevel level = raw.level;
    const uint64_t size = PageSizeAt(level);
    while (this->level_ < level) ++this->level_;
    while (this->level_ > level) {
      if (auto descended = DescendCreating(); !descended.ok()) {
        DropRaw(raw);
        return descended.error();
      }
    }
    Pte* slot = this->EntryAt(level, this->va_);
    const Pte old = LoadPte(slot);
    StorePte(slot, Format::MakeLeaf(raw.paddr, level, raw.prop));
    std::optional<Item> replaced;
    if (!Format::IsPresent(old)) {
      ++this->pt_->Meta(this->table_pa_[level]).pt_children;
    } else if (Format::IsLeaf(old, level)) {
      const RawLeaf old_raw = Base::LeafOf(old, level);
      Frame frame;
      if (Config::IsTracked(old_raw.prop)) {
        frame = Frame::FromRaw(*this->pt_->alloc_, old_raw.paddr, level);
      }
      flusher_.IssueTlbFlush(TlbFlushOp::ForRange(kBase + this->va_, size));
      flusher_.DispatchTlbFlush();
      replaced = Config::ItemFromRaw(old_raw, std::move(frame));
    } else {
      flusher_.IssueTlbFlushWithTable(TlbFlushOp::ForRangeAndTables(kBase + this->va_, size),
                                      Format::TablePaddr(old));
      flusher_.DispatchTlbFlush();
    }
    this->MoveTo(this->va_ + size);
    return replaced;
  }

  TlbFlusher::TableReleaser Releaser() {
    return TlbFlusher::TableReleaser{.release = &PageTable::ReleaseRetired,
                                     .context = this->pt_,
                                     .allocator = this->pt_->alloc_};
  }

  Result<void> CheckLen(uint64_t len) const {
    if (!IsPageAligned(len)) return Error::kInvalidArgs;
    if (len > this->end_ - this->va_) return Error::kOutOfRange;
    return Ok();
  }

  Result<void> CheckLeaf(const RawLeaf& raw) const {
    if (raw.level < 1 || raw.level > Format::kMaxLeafLevel) return Error::kInvalidArgs;
    const uint64_t size = PageSizeAt(raw.level);
    if (!raw.paddr.IsAligned(size) || (raw.paddr.value() >> Format::kPhysAddrBits) != 0) {
      return Error::kInvalidArgs;
    }
    if (this->va_ >= this->end_ || size > this->end_ - this->va_) return Error::kOutOfRange;
    if ((this->va_ & (size - 1)) != 0) return Error::kInvalidArgs;
    // A leaf fitting the range fits under the guard (whose subtree covers
    // the whole range), so it is at most the guard's level.
    HV_CHECK(raw.level <= this->guard_level_, "leaf above the cursor's guard");
    return Ok();
  }

  // Gives back the reference a raw leaf took from an item that is not mapped.
  void DropRaw(const RawLeaf& raw) {
    if (Config::IsTracked(raw.prop)) {
      Frame dropped = Frame::FromRaw(*this->pt_->alloc_, raw.paddr, raw.level);
    }
  }

  // One level down towards va_, creating a table or splitting a leaf.
  Result<void> DescendCreating() {
    const PagingLevel level = this->level_;
    Pte* slot = this->EntryAt(level, this->va_);
    const Pte pte = LoadPte(slot);
    if (!Format::IsPresent(pte)) {
      const HostPhysAddr child =
          HV_TRY(AllocTablePage(*this->pt_->alloc_, this->pt_->phys_, level - 1, /*locked=*/true));
      StorePte(slot, Format::MakeTable(child));
      ++this->pt_->Meta(this->table_pa_[level]).pt_children;
      this->Push(child);
    } else if (Format::IsLeaf(pte, level)) {
      HV_TRY(Split(slot, pte));
    } else {
      this->Push(Format::TablePaddr(pte));
    }
    return Ok();
  }

  // Replaces the leaf `pte` in `slot` (at level_ > 1) by a table of leaves
  // one level down that map the same memory with the same property, flushes
  // the old leaf's range, and descends into the new table.
  Result<void> Split(Pte* slot, Pte pte) {
    const PagingLevel level = this->level_;
    HV_CHECK(level > 1, "split of a 4 KiB leaf");
    const RawLeaf raw = Base::LeafOf(pte, level);
    const HostPhysAddr child =
        HV_TRY(AllocTablePage(*this->pt_->alloc_, this->pt_->phys_, level - 1, /*locked=*/true));
    Pte* entries = this->pt_->TableAt(child);
    const uint64_t step = PageSizeAt(level - 1);
    // SAFETY: `child` is a fresh 512-entry table, invisible until the
    // StorePte below publishes it.
    for (uint64_t i = 0; i < kEntriesPerTable; ++i) {
      entries[i] =
          Format::MakeLeaf(HostPhysAddr(raw.paddr.value() + i * step), level - 1, raw.prop);
    }
    this->pt_->Meta(child).pt_children = kEntriesPerTable;
    if (Config::IsTracked(raw.prop)) {
      this->pt_->alloc_->AddRawRefs(raw.paddr, kEntriesPerTable - 1);
    }
    StorePte(slot, Format::MakeTable(child));
    const uint64_t size = PageSizeAt(level);
    flusher_.IssueTlbFlush(TlbFlushOp::ForRange(kBase + (this->va_ & ~(size - 1)), size));
    this->Push(child);
    return Ok();
  }

  // Detaches the page at `level` on the path (containing offset `off`) from
  // its parent if it has no entries left, and retires it.
  void ReleaseIfEmpty(PagingLevel level, uint64_t off) {
    const HostPhysAddr page = this->table_pa_[level];
    if (this->pt_->Meta(page).pt_children != 0) return;
    StorePte(this->EntryAt(level + 1, off), 0);
    --this->pt_->Meta(this->table_pa_[level + 1]).pt_children;
    const uint64_t span = PageSizeAt(level + 1);
    flusher_.IssueTlbFlushWithTable(
        TlbFlushOp::ForRangeAndTables(kBase + (off & ~(span - 1)), span), page);
  }

  // MoveTo that frees the pages below the guard it leaves empty.
  void MoveToReleasing(uint64_t to) {
    while (this->level_ < this->guard_level_ && !Base::SamePage(this->level_, this->va_, to)) {
      ReleaseIfEmpty(this->level_, this->va_);
      ++this->level_;
    }
    this->va_ = to;
  }

  // Frees the empty pages on the current path below the guard.
  void ReleaseEmptyPath() {
    while (this->level_ < this->guard_level_ &&
           this->pt_->Meta(this->table_pa_[this->level_]).pt_children == 0) {
      ReleaseIfEmpty(this->level_, this->va_);
      ++this->level_;
    }
  }

  // If the guard is empty, detaches it from its parent, and so on upwards
  // while pages become empty, taking each parent's lock only if it is free
  // (waiting for a parent while holding a child could deadlock). Nobody can
  // be waiting for a page whose parent we hold, so freeing it is safe. The
  // topmost parent locked here stays locked until the cursor is destroyed.
  void ReleaseEmptyGuard() {
    PagingLevel level = this->guard_level_;
    HostPhysAddr page = this->table_pa_[level];
    while (level < kTopLevel && this->pt_->Meta(page).pt_children == 0) {
      const HostPhysAddr parent = this->table_pa_[level + 1];
      if (!this->pt_->Meta(parent).pt_lock.TryLock()) break;
      Pte* slot = this->pt_->TableAt(parent) + IndexOf(level + 1, this->start_);
      HV_CHECK(Format::TablePaddr(LoadPte(slot)) == page, "guard is not where the cursor found it");
      StorePte(slot, 0);
      --this->pt_->Meta(parent).pt_children;
      const uint64_t span = PageSizeAt(level + 1);
      flusher_.IssueTlbFlushWithTable(
          TlbFlushOp::ForRangeAndTables(kBase + (this->start_ & ~(span - 1)), span), page);
      if (page == this->table_pa_[this->guard_level_]) {
        this->guard_detached_ = true;
      }
      extra_locked_ = parent;
      page = parent;
      ++level;
    }
  }

  TlbFlusher flusher_;
  // A page above the guard locked by ReleaseEmptyGuard and still attached.
  HostPhysAddr extra_locked_;
};

}  // namespace hv::mm

#endif  // MM_PAGE_TABLE_H_
