// RISC-V page-table entries: Sv39 and Sv48 for the hypervisor's own address
// spaces (satp), Sv39x4 and Sv48x4 for guest stage-2 (G-stage, hgatp).
//
// PageProperty <-> bits:
//   R, W, X      R, W, X. W without R is reserved by the spec, so W implies R
//                (a page mapped W-only reads back as RW).
//   A, D         A, D (stored as given; hardware without Svadu faults on a
//                clear A/D instead of setting it)
//   kUser        U. G-stage: U is forced on every leaf and not reported:
//                G-stage accesses are checked as U-mode accesses (privileged
//                spec, "Guest Physical Address Translation"), so a leaf
//                without U faults.
//   kGlobal      G (satp formats only; reserved in G-stage entries).
//   kAvail1      RSW bit 8: the leaf maps I/O memory, not a RAM frame.
//   cache policy with the Svpbmt option, PBMT: write-back = PMA (0),
//                write-combining = NC (1), uncacheable = IO (2). Without it
//                (the default: QEMU 7.2 virt lacks Svpbmt unless enabled) the
//                entry has no cache attribute, the PMAs decide, and
//                LeafProperty reports kWriteBack.
//   no access    a leaf with none of R/W/X has V clear and RSW bit 9 set, so
//                it faults but stays mapped (R=W=X=0 with V set would mean
//                "pointer to the next level").
// Non-leaf entries carry V only (A, D, U are reserved there). Leaves exist at
// levels 1 (4 KiB), 2 (2 MiB) and 3 (1 GiB); Sv48's 512 GiB pages are not
// used. The x4 formats have a 16 KiB root of 2048 entries (16 KiB aligned)
// and translate 41 (Sv39x4) or 50 (Sv48x4) guest-physical address bits.
#ifndef ARCH_RISCV64_MM_PTE_H_
#define ARCH_RISCV64_MM_PTE_H_

#include <hv/base/addr.h>
#include <hv/base/std.h>
#include <mm/page_property.h>
#include <mm/paging.h>
#include <mm/pte_format.h>

namespace hv::arch::riscv64 {

inline constexpr uint64_t kPteV = uint64_t{1} << 0;
inline constexpr uint64_t kPteR = uint64_t{1} << 1;
inline constexpr uint64_t kPteW = uint64_t{1} << 2;
inline constexpr uint64_t kPteX = uint64_t{1} << 3;
inline constexpr uint64_t kPteU = uint64_t{1} << 4;
inline constexpr uint64_t kPteG = uint64_t{1} << 5;
inline constexpr uint64_t kPteA = uint64_t{1} << 6;
inline constexpr uint64_t kPteD = uint64_t{1} << 7;
// Software (RSW) bits.
inline constexpr uint64_t kPteSwIo = uint64_t{1} << 8;
inline constexpr uint64_t kPteSwNoAccess = uint64_t{1} << 9;
inline constexpr uint64_t kPtePpnShift = 10;
// PPN, bits 10..53.
inline constexpr uint64_t kPtePpnMask = ((uint64_t{1} << 44) - 1) << kPtePpnShift;
// Svpbmt memory types, bits 61..62.
inline constexpr uint64_t kPtePbmtMask = uint64_t{3} << 61;
inline constexpr uint64_t kPtePbmtNc = uint64_t{1} << 61;
inline constexpr uint64_t kPtePbmtIo = uint64_t{2} << 61;

struct PteOptions {
  // Encode cache policies in PBMT (needs Svpbmt and menvcfg.PBMTE).
  bool svpbmt = false;
};

template <mm::PagingLevel kLevels, bool kGStage, PteOptions kOptions = PteOptions{}>
struct RiscvPte {
  static constexpr mm::PagingLevel kNumLevels = kLevels;
  static constexpr uint64_t kRootEntries = kGStage ? 2048 : 512;
  static constexpr mm::PagingLevel kMaxLeafLevel = 3;
  static constexpr uint64_t kAddrBits =
      mm::kPageShift + mm::kBitsPerLevel * kLevels + (kGStage ? 2 : 0);
  static constexpr bool kSignExtended = !kGStage;
  static constexpr uint64_t kPhysAddrBits = 56;
  // The MODE field of satp (Sv39 8, Sv48 9) or hgatp (Sv39x4 8, Sv48x4 9).
  static constexpr uint64_t kTranslationMode = kLevels == 3 ? 8 : 9;

  static constexpr bool IsPresent(mm::Pte pte) { return pte != 0; }

  static constexpr bool IsLeaf(mm::Pte pte, mm::PagingLevel /*level*/) {
    return (pte & (kPteR | kPteW | kPteX | kPteSwNoAccess)) != 0;
  }

  static constexpr HostPhysAddr TablePaddr(mm::Pte pte) {
    return HostPhysAddr(((pte & kPtePpnMask) >> kPtePpnShift) << mm::kPageShift);
  }

  static constexpr HostPhysAddr LeafPaddr(mm::Pte pte, mm::PagingLevel /*level*/) {
    return TablePaddr(pte);
  }

  static constexpr mm::Pte MakeTable(HostPhysAddr pa) { return Ppn(pa) | kPteV; }

  static constexpr mm::Pte MakeLeaf(HostPhysAddr pa, mm::PagingLevel /*level*/,
                                    const mm::PageProperty& prop) {
    using mm::Contains;
    using mm::PageFlags;
    using mm::PrivilegedPageFlags;
    mm::Pte pte = Ppn(pa);
    const bool accessible = (prop.flags & PageFlags::kRWX) != PageFlags::kNone;
    pte |= accessible ? kPteV : kPteSwNoAccess;
    if (Contains(prop.flags, PageFlags::kR)) pte |= kPteR;
    if (Contains(prop.flags, PageFlags::kW)) pte |= kPteW | kPteR;
    if (Contains(prop.flags, PageFlags::kX)) pte |= kPteX;
    if (Contains(prop.flags, PageFlags::kAccessed)) pte |= kPteA;
    if (Contains(prop.flags, PageFlags::kDirty)) pte |= kPteD;
    if (kGStage || Contains(prop.priv_flags, PrivilegedPageFlags::kUser)) pte |= kPteU;
    if (!kGStage && Contains(prop.priv_flags, PrivilegedPageFlags::kGlobal)) pte |= kPteG;
    if (Contains(prop.priv_flags, PrivilegedPageFlags::kAvail1)) pte |= kPteSwIo;
    if constexpr (kOptions.svpbmt) {
      switch (prop.cache) {
        case mm::CachePolicy::kWriteBack:
          break;
        case mm::CachePolicy::kWriteCombining:
          pte |= kPtePbmtNc;
          break;
        case mm::CachePolicy::kUncacheable:
          pte |= kPtePbmtIo;
          break;
      }
    }
    return pte;
  }

  static constexpr mm::PageProperty LeafProperty(mm::Pte pte, mm::PagingLevel /*level*/) {
    using mm::PageFlags;
    using mm::PrivilegedPageFlags;
    mm::PageProperty prop;
    if (pte & kPteR) prop.flags |= PageFlags::kR;
    if (pte & kPteW) prop.flags |= PageFlags::kW;
    if (pte & kPteX) prop.flags |= PageFlags::kX;
    if (pte & kPteA) prop.flags |= PageFlags::kAccessed;
    if (pte & kPteD) prop.flags |= PageFlags::kDirty;
    if (!kGStage && (pte & kPteU)) prop.priv_flags |= PrivilegedPageFlags::kUser;
    if (!kGStage && (pte & kPteG)) prop.priv_flags |= PrivilegedPageFlags::kGlobal;
    if (pte & kPteSwIo) prop.priv_flags |= PrivilegedPageFlags::kAvail1;
    if constexpr (kOptions.svpbmt) {
      switch (pte & kPtePbmtMask) {
        case kPtePbmtNc:
          prop.cache = mm::CachePolicy::kWriteCombining;
          break;
        case kPtePbmtIo:
          prop.cache = mm::CachePolicy::kUncacheable;
          break;
        default:
          prop.cache = mm::CachePolicy::kWriteBack;
          break;
      }
    }
    return prop;
  }

 private:
  static constexpr mm::Pte Ppn(HostPhysAddr pa) {
    return ((pa.value() >> mm::kPageShift) << kPtePpnShift) & kPtePpnMask;
  }
};

// satp formats: the hypervisor's own (and handed-out) address spaces.
template <PteOptions kOptions = PteOptions{}>
using Sv39PteFormat = RiscvPte<3, false, kOptions>;
template <PteOptions kOptions = PteOptions{}>
using Sv48PteFormat = RiscvPte<4, false, kOptions>;
// hgatp formats: guest-physical -> host-physical (G-stage).
template <PteOptions kOptions = PteOptions{}>
using Sv39x4PteFormat = RiscvPte<3, true, kOptions>;
template <PteOptions kOptions = PteOptions{}>
using Sv48x4PteFormat = RiscvPte<4, true, kOptions>;

static_assert(mm::PteFormat<Sv39PteFormat<>>);
static_assert(mm::PteFormat<Sv48PteFormat<>>);
static_assert(mm::PteFormat<Sv39x4PteFormat<>>);
static_assert(mm::PteFormat<Sv48x4PteFormat<PteOptions{.svpbmt = true}>>);

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_MM_PTE_H_
