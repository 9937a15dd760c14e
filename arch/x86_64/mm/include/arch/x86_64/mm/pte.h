// x86_64 4-level paging entries, for the hypervisor's own address spaces and
// (with kNested) for AMD nested page tables, which use the same format.
//
// PageProperty <-> bits:
//   R            P (x86 cannot deny reads: any access right reads back as R)
//   W            RW
//   X            not NX (NX needs EFER.NXE, which the kernel sets)
//   A, D         A, D
//   kUser        US on the leaf; tables always carry US so that the leaf
//                decides. NPT: US is forced on every level and not reported,
//                because the processor performs nested walks and nested
//                accesses as user accesses (AMD APM vol. 2, 15.25.5), so a
//                nested entry without US faults.
//   kGlobal      G (host formats only; NPT drops it: nested translations are
//                tagged by ASID, and G has no meaning there)
//   kAvail1      AVL bit 9: the leaf maps I/O memory, not a RAM frame
//   cache policy PWT/PCD under the fixed PAT layout the kernel programs
//                (kPatMsrValue, Linux's layout; WritePat in pat.h, called by
//                the x86_64 boot code): index 0 WB, 1 WC, 3 UC. The
//                PAT bit is never set, so the index is the same at every
//                level and the PAT bit's position (7 or 12) never matters.
//   no access    a leaf with none of R/W/X keeps P clear and sets AVL bit 10,
//                so it faults but stays mapped.
// Leaves exist at levels 1 (4 KiB), 2 (2 MiB, PS) and 3 (1 GiB, PS; needs
// CPUID.80000001H:EDX.Page1GB, which QEMU's and every SVM-capable CPU have).
#ifndef ARCH_X86_64_MM_PTE_H_
#define ARCH_X86_64_MM_PTE_H_

#include <hv/base/addr.h>
#include <hv/base/std.h>
#include <mm/page_property.h>
#include <mm/paging.h>
#include <mm/pte_format.h>

namespace hv::arch::x86_64 {

inline constexpr uint64_t kPteP = uint64_t{1} << 0;
inline constexpr uint64_t kPteRw = uint64_t{1} << 1;
inline constexpr uint64_t kPteUs = uint64_t{1} << 2;
inline constexpr uint64_t kPtePwt = uint64_t{1} << 3;
inline constexpr uint64_t kPtePcd = uint64_t{1} << 4;
inline constexpr uint64_t kPteA = uint64_t{1} << 5;
inline constexpr uint64_t kPteD = uint64_t{1} << 6;
inline constexpr uint64_t kPtePs = uint64_t{1} << 7;
inline constexpr uint64_t kPteG = uint64_t{1} << 8;
// Software (AVL) bits.
inline constexpr uint64_t kPteSwIo = uint64_t{1} << 9;
inline constexpr uint64_t kPteSwNoAccess = uint64_t{1} << 10;
inline constexpr uint64_t kPteNx = uint64_t{1} << 63;
// Physical address bits 12..51.
inline constexpr uint64_t kPteAddrMask = 0x000f'ffff'ffff'f000;

// IA32_PAT as the kernel must program it for the cache policies above:
// PA0 WB, PA1 WC, PA2 UC-, PA3 UC, PA4 WB, PA5 WP, PA6 UC-, PA7 WT.
inline constexpr uint32_t kPatMsr = 0x277;
inline constexpr uint64_t kPatMsrValue = 0x0407'0506'0007'0106;

template <bool kNested>
struct X86Pte {
  static constexpr mm::PagingLevel kNumLevels = 4;
  static constexpr uint64_t kRootEntries = 512;
  static constexpr mm::PagingLevel kMaxLeafLevel = 3;
  static constexpr uint64_t kAddrBits = 48;
  static constexpr bool kSignExtended = !kNested;
  static constexpr uint64_t kPhysAddrBits = 52;

  static constexpr bool IsPresent(mm::Pte pte) { return pte != 0; }

  static constexpr bool IsLeaf(mm::Pte pte, mm::PagingLevel level) {
    return level == 1 || (level <= kMaxLeafLevel && (pte & kPtePs) != 0);
  }

  static constexpr HostPhysAddr TablePaddr(mm::Pte pte) { return HostPhysAddr(pte & kPteAddrMask); }

  static constexpr HostPhysAddr LeafPaddr(mm::Pte pte, mm::PagingLevel level) {
    return HostPhysAddr(pte & kPteAddrMask & ~(mm::PageSizeAt(level) - 1));
  }

  static constexpr mm::Pte MakeTable(HostPhysAddr pa) {
    return (pa.value() & kPteAddrMask) | kPteP | kPteRw | kPteUs;
  }

  static constexpr mm::Pte MakeLeaf(HostPhysAddr pa, mm::PagingLevel level,
                                    const mm::PageProperty& prop) {
    using mm::Contains;
    using mm::PageFlags;
    using mm::PrivilegedPageFlags;
    mm::Pte pte = pa.value() & kPteAddrMask;
    const bool accessible = (prop.flags & PageFlags::kRWX) != PageFlags::kNone;
    pte |= accessible ? kPteP : kPteSwNoAccess;
    if (Contains(prop.flags, PageFlags::kW)) pte |= kPteRw;
    if (!Contains(prop.flags, PageFlags::kX)) pte |= kPteNx;
    if (Contains(prop.flags, PageFlags::kAccessed)) pte |= kPteA;
    if (Contains(prop.flags, PageFlags::kDirty)) pte |= kPteD;
    if (kNested || Contains(prop.priv_flags, PrivilegedPageFlags::kUser)) pte |= kPteUs;
    if (!kNested && Contains(prop.priv_flags, PrivilegedPageFlags::kGlobal)) pte |= kPteG;
    if (Contains(prop.priv_flags, PrivilegedPageFlags::kAvail1)) pte |= kPteSwIo;
    switch (prop.cache) {
      case mm::CachePolicy::kWriteBack:
        break;
      case mm::CachePolicy::kWriteCombining:
        pte |= kPtePwt;
        break;
      case mm::CachePolicy::kUncacheable:
        pte |= kPtePcd | kPtePwt;
        break;
    }
    if (level > 1) pte |= kPtePs;
    return pte;
  }

  static constexpr mm::PageProperty LeafProperty(mm::Pte pte, mm::PagingLevel /*level*/) {
    using mm::PageFlags;
    using mm::PrivilegedPageFlags;
    mm::PageProperty prop;
    if (pte & kPteP) {
      prop.flags |= PageFlags::kR;
      if (pte & kPteRw) prop.flags |= PageFlags::kW;
      if (!(pte & kPteNx)) prop.flags |= PageFlags::kX;
    }
    if (pte & kPteA) prop.flags |= PageFlags::kAccessed;
    if (pte & kPteD) prop.flags |= PageFlags::kDirty;
    if (!kNested && (pte & kPteUs)) prop.priv_flags |= PrivilegedPageFlags::kUser;
    if (!kNested && (pte & kPteG)) prop.priv_flags |= PrivilegedPageFlags::kGlobal;
    if (pte & kPteSwIo) prop.priv_flags |= PrivilegedPageFlags::kAvail1;
    switch (pte & (kPtePcd | kPtePwt)) {
      case 0:
        prop.cache = mm::CachePolicy::kWriteBack;
        break;
      case kPtePwt:
        prop.cache = mm::CachePolicy::kWriteCombining;
        break;
      default:
        // PCD alone selects PA2 (UC-), which this layout never produces;
        // report it as what it is closest to.
        prop.cache = mm::CachePolicy::kUncacheable;
        break;
    }
    return prop;
  }
};

// The hypervisor's own (and handed-out) 4-level address spaces; CR3.
using X86PteFormat = X86Pte<false>;
// AMD nested page tables (guest-physical -> host-physical); VMCB nCR3.
using NptPteFormat = X86Pte<true>;

static_assert(mm::PteFormat<X86PteFormat>);
static_assert(mm::PteFormat<NptPteFormat>);

}  // namespace hv::arch::x86_64

#endif  // ARCH_X86_64_MM_PTE_H_
