// Address spaces: VmSpace, after OSTD's `mm/vm_space.rs`.
//
// A VmSpace is one page table (PageTable) that maps RAM frames and device
// memory (IoMem), with the per-CPU activation record and the CPU set its TLB
// shootdowns go to. The same class serves host spaces (HostSpaceConfig:
// host-virtual addresses, the lower half of a satp/CR3 table) and guest
// stage-2 spaces (GuestSpaceConfig: guest-physical addresses, riscv64
// G-stage or AMD NPT).
//
// OSTD name        here
//   VmSpace::new     VmSpace::Create (fallible: it allocates the root)
//   cursor           OpenCursor
//   cursor_mut       OpenCursorMut
//   activate         Activate (plus Deactivate)
//   query, find_next, jump, virt_addr, map, map_iomem, unmap, protect_next,
//   flusher          Query, FindNext, Jump, virt_addr, Map, MapIoMem, Unmap,
//                    ProtectNext, flusher
//   reader, writer, reader_writer
//                    Reader, Writer, ReaderWriter (host spaces only: the
//                    addresses of a guest stage-2 space are guest-physical,
//                    nothing the CPU can load from)
// Differences, on purpose: Map, MapIoMem, Unmap and ProtectNext return
// errors instead of panicking on bad input; Map returns what it replaced
// (after its flush); Map and MapIoMem use 2 MiB / 1 GiB leaves (frames of
// that size; I/O ranges aligned for them) and split larger leaves they land
// in; ProtectNext issues the flush for what it changed (OSTD leaves that to
// the caller) and the cursor dispatches it at the latest when destroyed.
//
// Readers and writers are fallible (VmReader<Fallible>/VmWriter<Fallible>):
// a copy through an address nothing is mapped at, or mapped without the
// needed right, stops there with kPageFault and the exact count. They are
// handed out only while the space is active on the current CPU and for
// ranges inside the space (CheckAccessible), as in OSTD.
#ifndef MM_VM_SPACE_H_
#define MM_VM_SPACE_H_

#include <hv/base/addr.h>
#include <hv/base/check.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <mm/cpu_set.h>
#include <mm/frame.h>
#include <mm/io.h>
#include <mm/io_mem.h>
#include <mm/page_property.h>
#include <mm/page_table.h>
#include <mm/paging.h>
#include <mm/phys_mem.h>
#include <mm/pte_format.h>
#include <mm/spin_lock.h>
#include <mm/tlb.h>

namespace hv::mm {

// A leaf of a VmSpace: a RAM frame, or a page-aligned piece of I/O memory.
struct VmItem {
  // RAM: the frame (its level is the leaf's). Null for I/O memory.
  Frame frame;
  // I/O memory: the first byte and the leaf's level.
  HostPhysAddr paddr;
  PagingLevel level = 1;
  PageProperty prop;
};

// What a query found mapped. For I/O memory, prop.priv_flags carries
// kAvail1, the software bit that marks I/O leaves (as in OSTD).
struct MappedRam {
  Frame frame;
  PageProperty prop;
  bool operator==(const MappedRam&) const = default;
};
struct MappedIoMem {
  HostPhysAddr paddr;
  PageProperty prop;
  bool operator==(const MappedIoMem&) const = default;
};
using VmQueriedItem = std::variant<MappedRam, MappedIoMem>;

// The page-table configuration of a VmSpace: format F, addresses of type
// VaddrT, root entries [kBegin, kEnd).
template <PteFormat F, typename VaddrT, uint64_t kBegin, uint64_t kEnd>
struct VmSpaceConfig {
  using Format = F;
  using Item = VmItem;
  using Vaddr = VaddrT;
  static constexpr uint64_t kTopLevelIndexBegin = kBegin;
  static constexpr uint64_t kTopLevelIndexEnd = kEnd;

  static constexpr bool IsTracked(const PageProperty& prop) {
    return !Contains(prop.priv_flags, PrivilegedPageFlags::kAvail1);
  }
  static RawLeaf ItemIntoRaw(VmItem&& item) {
    RawLeaf raw{.paddr = item.paddr, .level = item.level, .prop = item.prop};
    if (item.frame) {
      raw.level = item.frame.level();
      raw.paddr = std::move(item.frame).IntoRaw();
      raw.prop.priv_flags -= PrivilegedPageFlags::kAvail1;
    } else {
      raw.prop.priv_flags |= PrivilegedPageFlags::kAvail1;
    }
    return raw;
  }
  static VmItem ItemFromRaw(const RawLeaf& raw, Frame frame) {
    return VmItem{
        .frame = std::move(frame), .paddr = raw.paddr, .level = raw.level, .prop = raw.prop};
  }
};

// A host address space: the lower half of a satp (Sv39/Sv48) or CR3 table.
template <PteFormat F>
using HostSpaceConfig = VmSpaceConfig<F, HostVirtAddr, 0, F::kRootEntries / 2>;
// A guest stage-2 space: all of a G-stage (Sv39x4/Sv48x4) or NPT table.
template <PteFormat F>
using GuestSpaceConfig = VmSpaceConfig<F, GuestPhysAddr, 0, F::kRootEntries>;

struct VmSpaceOptions {
  // The ASID (stage 1) or VMID (stage 2) tagging the space's TLB entries.
  uint16_t asid = 0;
  // A root table whose entries outside the space's range the new root
  // copies (e.g. the kernel's half of a host space).
  std::optional<HostPhysAddr> shared_root;
};

template <typename Config, PhysMem P>
class VmSpace {
  using Table = PageTable<Config, P>;

 public:
  using Vaddr = typename Config::Vaddr;
  using Range = AddrRange<Vaddr>;
  static constexpr size_t kMaxIoMems = 16;
  // The space is [kBase, kBase + kSize). VmSpaces do not reach the top of
  // the 64-bit space (a kernel upper half uses PageTable directly), so every
  // range in them is an AddrRange.
  static constexpr uint64_t kBase = Table::kBase;
  static constexpr uint64_t kSize = Table::kSize;
  static_assert(kBase + kSize != 0, "a VmSpace cannot end at 2^64");

  class Cursor;
  class CursorMut;

  // An empty space. Errors: kNoMemory.
  static Result<VmSpace> Create(FrameAllocator& frames, const P& phys, Mmu& mmu,
                                VmSpaceOptions options = {}) {
    Result<Table> table = options.shared_root
                              ? Table::CreateSharing(frames, phys, *options.shared_root)
                              : Table::Create(frames, phys);
    if (!table.ok()) return table.error();
    return VmSpace(std::move(table).value(), mmu, options.asid);
  }

  // REQUIRES: `other` is active on no CPU and has no open cursor.
  VmSpace(VmSpace&& other) noexcept
      : table_(std::move(other.table_)), mmu_(other.mmu_), asid_(other.asid_) {
    HV_CHECK(other.cpus_.Load().empty(), "moving an active VmSpace");
    SpinLockGuard guard(other.iomems_lock_);
    iomems_ = other.iomems_;
  }
  VmSpace& operator=(VmSpace&&) = delete;
  VmSpace(const VmSpace&) = delete;
  VmSpace& operator=(const VmSpace&) = delete;

  // Unmaps everything and frees the page tables; no flush is needed, as no
  // CPU has the space active. Drops the retained IoMems.
  // REQUIRES: active on no CPU (Deactivate on each first), no open cursor.
  ~VmSpace() { HV_CHECK(cpus_.Load().empty(), "VmSpace destroyed while active"); }

  // A cursor over `range` that only reads. It excludes every other cursor
  // whose range overlaps (see PageTable), so destroy it soon.
  // Errors: kInvalidArgs (unaligned or empty range), kOutOfRange (outside
  // the space).
  Result<Cursor> OpenCursor(Range range) {
    auto inner = HV_TRY(table_.OpenCursor(range.start().value(), range.size()));
    return Cursor(std::move(inner));
  }

  // A cursor that may change mappings in `range`. Errors: as OpenCursor,
  // and kNoMemory.
  Result<CursorMut> OpenCursorMut(Range range) {
    auto inner = HV_TRY(
        table_.OpenCursorMut(range.start().value(), range.size(), TlbFlusher(*mmu_, cpus_, asid_)));
    return CursorMut(this, std::move(inner));
  }

  // Makes this space the current CPU's active one (for its Mmu: satp or
  // hgatp, CR3 or nCR3) and adds the CPU to the set its TLB shootdowns go
  // to. The previously active space loses the CPU.
  // REQUIRES: the caller cannot migrate; the space outlives its activation
  // (Deactivate before destroying it).
  void Activate() { mmu_->ActivateSpace(this, cpus_, table_.root_paddr(), asid_); }
  // If active on the current CPU, switches it to the Mmu's fallback root.
  void Deactivate() { mmu_->DeactivateSpace(this); }
  bool IsActiveOnCurrentCpu() const { return mmu_->ActiveSpace(mmu_->CurrentCpu()) == this; }
  // The CPUs on which the space is active.
  CpuSet active_cpus() const { return cpus_.Load(); }

  // The range [vaddr, vaddr + len) if a reader or writer may access it now:
  // the space is active on the current CPU and the range lies inside it.
  // Errors: kAccessDenied otherwise, including when vaddr + len wraps.
  Result<Range> CheckAccessible(Vaddr vaddr, uint64_t len) const {
    if (!IsActiveOnCurrentCpu()) return Error::kAccessDenied;
    const std::optional<Range> range = Range::Create(vaddr, len);
    if (!range) return Error::kAccessDenied;
    const uint64_t off = vaddr.value() - kBase;
    if (off > kSize || len > kSize - off) return Error::kAccessDenied;
    return *range;
  }

  // A fallible reader of [vaddr, vaddr + len) in this space, which must be
  // the active one on the current CPU; the copies translate through it.
  // Errors: kAccessDenied when the space is not active on the current CPU
  // or the range is not inside the space (vaddr + len wrapping included).
  // REQUIRES (while the reader is used): the space stays active on this
  // CPU and the caller does not migrate, so that its addresses mean this
  // space's mappings.
  Result<VmReader<Fallible>> Reader(Vaddr vaddr,
                                    uint64_t len) const requires std::same_as<Vaddr, HostVirtAddr> {
    const Range range = HV_TRY(CheckAccessible(vaddr, len));
    return VmReader<Fallible>::FromValidatedWindow(PtrFromHostVirt(range.start()), range.size());
  }
  // A fallible writer of [vaddr, vaddr + len). Errors and REQUIRES as
  // Reader.
  Result<VmWriter<Fallible>> Writer(Vaddr vaddr,
                                    uint64_t len) const requires std::same_as<Vaddr, HostVirtAddr> {
    const Range range = HV_TRY(CheckAccessible(vaddr, len));
    return VmWriter<Fallible>::FromValidatedWindow(PtrFromHostVirt(range.start()), range.size());
  }
  // A reader and a writer of the same range (OSTD's reader_writer), for
  // read-modify-write users. Errors and REQUIRES as Reader.
  Result<std::pair<VmReader<Fallible>, VmWriter<Fallible>>> ReaderWriter(
      Vaddr vaddr, uint64_t len) const requires std::same_as<Vaddr, HostVirtAddr> {
    const Range range = HV_TRY(CheckAccessible(vaddr, len));
    return std::pair(
        VmReader<Fallible>::FromValidatedWindow(PtrFromHostVirt(range.start()), range.size()),
        VmWriter<Fallible>::FromValidatedWindow(PtrFromHostVirt(range.start()), range.size()));
  }

  // The IoMem mapped into this space (by MapIoMem) that contains `paddr`,
  // and the offset of `paddr` in it. IoMems stay recorded until the space
  // is destroyed, unmapped or not.
  std::optional<std::pair<IoMem, uint64_t>> FindIoMemByPaddr(HostPhysAddr paddr) const {
    SpinLockGuard guard(iomems_lock_);
    for (const std::optional<IoMem>& io : iomems_) {
      if (io && io->Contains(paddr)) return std::pair(*io, paddr.value() - io->paddr().value());
    }
    return std::nullopt;
  }

  HostPhysAddr root_paddr() const { return table_.root_paddr(); }
  uint16_t asid() const { return asid_; }
  FrameAllocator& allocator() const { return table_.allocator(); }
  // See PageTable::CheckInvariants. REQUIRES: no open cursor.
  typename Table::Stats CheckInvariants() const { return table_.CheckInvariants(); }

 private:
  VmSpace(Table table, Mmu& mmu, uint16_t asid)
      : table_(std::move(table)), mmu_(&mmu), asid_(asid) {}

  // Records `io` (once). Errors: kNoMemory if the record is full.
  Result<void> RetainIoMem(const IoMem& io) {
    SpinLockGuard guard(iomems_lock_);
    std::optional<IoMem>* free_slot = nullptr;
    for (std::optional<IoMem>& slot : iomems_) {
      if (slot && *slot == io) return Ok();
      if (!slot && free_slot == nullptr) free_slot = &slot;
    }
    if (free_slot == nullptr) return Error::kNoMemory;
    *free_slot = io;
    return Ok();
  }

  static VmQueriedItem ToQueried(VmItem&& item) {
    if (item.frame) return MappedRam{.frame = std::move(item.frame), .prop = item.prop};
    return MappedIoMem{.paddr = item.paddr, .prop = item.prop};
  }

  // What both cursors do.
  template <typename Inner>
  class CursorBase {
   public:
    // The slot containing the current address (a whole leaf, or an empty
    // entry at some level) and what is mapped there. Does not move.
    // Errors: kOutOfRange at the end of the cursor's range.
    Result<std::pair<Range, std::optional<VmQueriedItem>>> Query() {
      using Found = std::pair<Range, std::optional<VmQueriedItem>>;
      auto found = inner_.Query();
      if (!found.ok()) return found.error();
      const Range range = *Range::Create(Vaddr(found->va), found->size);
      if (!found->item) return Found(range, std::nullopt);
      return Found(range, ToQueried(std::move(*found->item)));
    }
    // Moves to the first mapped address within `len` bytes and returns it;
    // nullopt (cursor `len` bytes further) if there is none.
    // REQUIRES: `len` page-aligned, not past the cursor's end.
    std::optional<Vaddr> FindNext(uint64_t len) {
      const std::optional<uint64_t> va = inner_.FindNext(len);
      if (!va) return std::nullopt;
      return Vaddr(*va);
    }
    // Errors: kInvalidArgs (unaligned), kOutOfRange (outside the range).
    Result<void> Jump(Vaddr va) { return inner_.Jump(va.value()); }
    Vaddr virt_addr() const { return Vaddr(inner_.virt_addr()); }

   protected:
    explicit CursorBase(Inner inner) : inner_(std::move(inner)) {}
    Inner inner_;
  };

  Table table_;
  Mmu* mmu_;
  uint16_t asid_;
  AtomicCpuSet cpus_;
  mutable SpinLock iomems_lock_;
  std::array<std::optional<IoMem>, kMaxIoMems> iomems_{};
};

template <typename Config, PhysMem P>
class VmSpace<Config, P>::Cursor : public CursorBase<typename Table::Cursor> {
 private:
  friend class VmSpace;
  explicit Cursor(typename Table::Cursor inner)
      : CursorBase<typename Table::Cursor>(std::move(inner)) {}
};

template <typename Config, PhysMem P>
class VmSpace<Config, P>::CursorMut : public CursorBase<typename Table::CursorMut> {
  using Base = CursorBase<typename Table::CursorMut>;

 public:
  // Maps `frame` (at its own level) at the current address and moves past
  // it. kAvail1 in `prop` is ignored. Returns what was mapped exactly there
  // before; its flush has been dispatched, so dropping it is safe.
  // Errors: kInvalidArgs if `frame` is null or from another allocator, or
  // the current address is not aligned to the frame's size; kOutOfRange if
  // the frame does not fit before the cursor's end; kNoMemory.
  Result<std::optional<VmQueriedItem>> Map(Frame frame, PageProperty prop) {
    if (!frame || &frame.allocator() != &space_->allocator()) return Error::kInvalidArgs;
    std::optional<VmItem> replaced =
        HV_TRY(this->inner_.Map(VmItem{.frame = std::move(frame), .prop = prop}));
    if (!replaced) return std::optional<VmQueriedItem>();
    return std::optional<VmQueriedItem>(ToQueried(std::move(*replaced)));
  }

  // Maps [offset, offset + len) of `io`, cut at the end of `io`, at the
  // current address, and moves past what it mapped. Uses 2 MiB and 1 GiB
  // leaves where addresses and length allow. Whatever was mapped there is
  // replaced and flushed. The space records `io` until it is destroyed.
  // Maps nothing if offset >= io.size().
  // Errors: kInvalidArgs if `len` or `offset` is not page-aligned or the
  // physical range does not fit the format; kOutOfRange if the mapping
  // would pass the cursor's end (nothing mapped); kNoMemory if the space
  // records kMaxIoMems IoMems already (nothing mapped) or a table cannot be
  // allocated (mapped up to virt_addr()).
  Result<void> MapIoMem(const IoMem& io, PageProperty prop, uint64_t len, uint64_t offset) {
    using Format = typename Config::Format;
    if (!IsPageAligned(len) || !IsPageAligned(offset)) return Error::kInvalidArgs;
    if (offset >= io.size()) return Ok();
    uint64_t remaining = len < io.size() - offset ? len : io.size() - offset;
    if (remaining == 0) return Ok();
    uint64_t pa = io.paddr().value() + offset;
    if (((pa + remaining - 1) >> Format::kPhysAddrBits) != 0) return Error::kInvalidArgs;
    if (remaining > this->inner_.end() - this->inner_.virt_addr()) return Error::kOutOfRange;
    HV_TRY(space_->RetainIoMem(io));
    while (remaining != 0) {
      const uint64_t va = this->inner_.virt_addr();
      PagingLevel level = Format::kMaxLeafLevel;
      while (level > 1 &&
             (PageSizeAt(level) > remaining || ((va | pa) & (PageSizeAt(level) - 1)) != 0)) {
        --level;
      }
      // What this replaces was flushed already; dropping it releases it.
      HV_TRY(this->inner_.Map(VmItem{.paddr = HostPhysAddr(pa), .level = level, .prop = prop}));
      pa += PageSizeAt(level);
      remaining -= PageSizeAt(level);
    }
    return Ok();
  }

  // Unmaps [virt_addr(), virt_addr() + len), skipping holes, freeing the
  // page-table pages it empties, and moves to its end. Returns the number of
  // RAM leaves removed (I/O leaves are not counted). The flush is dispatched
  // before it returns; frames are released after it.
  // Errors: kInvalidArgs (unaligned len), kOutOfRange (past the cursor's
  // end; nothing changed), kNoMemory (a straddling huge leaf could not be
  // split; unmapped up to virt_addr()).
  Result<uint64_t> Unmap(uint64_t len) { return this->inner_.Unmap(len); }

  // Applies `op(PageFlags&, CachePolicy&)` to the first mapped leaf in
  // [virt_addr(), virt_addr() + len) (splitting one that straddles an end),
  // moves past it and returns its range; nullopt, with the cursor at the
  // range's end, if nothing is mapped there. Privileged flags never change.
  // The flush is issued; it is dispatched by flusher().DispatchTlbFlush() or
  // when the cursor is destroyed.
  // Errors: as Unmap.
  template <typename Op>
  Result<std::optional<Range>> ProtectNext(uint64_t len, Op&& op) {
    const auto found = HV_TRY(this->inner_.ProtectNext(len, std::forward<Op>(op)));
    if (!found) return std::optional<Range>();
    return std::optional<Range>(*Range::Create(Vaddr(found->first), found->second));
  }

  // The flusher that batches this cursor's TLB flushes.
  TlbFlusher& flusher() { return this->inner_.flusher(); }

  // As VmSpace::FindIoMemByPaddr.
  std::optional<std::pair<IoMem, uint64_t>> FindIoMemByPaddr(HostPhysAddr paddr) const {
    return space_->FindIoMemByPaddr(paddr);
  }

 private:
  friend class VmSpace;
  CursorMut(VmSpace* space, typename Table::CursorMut inner)
      : Base(std::move(inner)), space_(space) {}

  VmSpace* space_;
};

}  // namespace hv::mm

#endif  // MM_VM_SPACE_H_
