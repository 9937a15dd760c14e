// What the page-table engine needs from a page-table entry format.
//
// A format is a type with only static members, pure constexpr, so that every
// platform (the host included) can build and test it. The formats live with
// their architecture: arch/x86_64/mm/pte.h (x86_64 4-level paging, AMD NPT)
// and arch/riscv64/mm/pte.h (Sv39, Sv48, Sv39x4, Sv48x4).
//
// Every format encodes the empty entry as 0, and every non-empty entry is
// either a table (pointing at the next level) or a leaf. A leaf whose
// PageProperty grants no access is still a leaf: formats keep it with the
// hardware valid bit clear and a software bit set, so it faults but stays
// mapped (and keeps its frame).
#ifndef MM_PTE_FORMAT_H_
#define MM_PTE_FORMAT_H_

#include <hv/base/addr.h>
#include <hv/base/std.h>
#include <mm/page_property.h>
#include <mm/paging.h>

namespace hv::mm {

using Pte = uint64_t;

template <typename F>
concept PteFormat = requires(Pte pte, HostPhysAddr pa, PagingLevel level, PageProperty prop) {
  // Levels of the format; the root table is at level kNumLevels.
  requires std::same_as<std::remove_cv_t<decltype(F::kNumLevels)>, PagingLevel>;
  requires F::kNumLevels >= 2 && F::kNumLevels <= kMaxLevels;
  // Entries of the root table: 512, or 2048 for the 16 KiB roots of the
  // riscv64 G-stage formats. Non-root tables always have 512.
  requires std::same_as<std::remove_cv_t<decltype(F::kRootEntries)>, uint64_t>;
  requires F::kRootEntries >= kEntriesPerTable&& F::kRootEntries * sizeof(Pte) % kPageSize == 0;
  // The highest level at which a leaf may be installed (3: 1 GiB pages).
  requires std::same_as<std::remove_cv_t<decltype(F::kMaxLeafLevel)>, PagingLevel>;
  requires F::kMaxLeafLevel >= 1 && F::kMaxLeafLevel <= F::kNumLevels;
  // Input address bits translated (39, 48, 41, 50), and whether input
  // addresses are sign-extended from the top one (canonical virtual
  // addresses) or zero-extended (guest-physical addresses).
  requires std::same_as<std::remove_cv_t<decltype(F::kAddrBits)>, uint64_t>;
  requires std::same_as < std::remove_cv_t<decltype(F::kSignExtended)>,
  bool > ;
  // Output (host-physical) address bits an entry can hold.
  requires std::same_as<std::remove_cv_t<decltype(F::kPhysAddrBits)>, uint64_t>;

  // True for a table or a leaf, false for the empty entry.
  { F::IsPresent(pte) } -> std::same_as<bool>;
  // REQUIRES: IsPresent(pte). True if `pte`, found at `level`, is a leaf.
  { F::IsLeaf(pte, level) } -> std::same_as<bool>;
  // REQUIRES: `pte` is a table entry. The next table's physical address.
  { F::TablePaddr(pte) } -> std::same_as<HostPhysAddr>;
  // REQUIRES: `pte` is a leaf at `level`. The first byte it maps.
  { F::LeafPaddr(pte, level) } -> std::same_as<HostPhysAddr>;
  // REQUIRES: `pa` is page-aligned and fits kPhysAddrBits.
  { F::MakeTable(pa) } -> std::same_as<Pte>;
  // REQUIRES: `pa` is aligned to PageSizeAt(level), fits kPhysAddrBits, and
  // 1 <= level <= kMaxLeafLevel.
  { F::MakeLeaf(pa, level, prop) } -> std::same_as<Pte>;
  // REQUIRES: `pte` is a leaf at `level`. MakeLeaf's inverse, up to what the
  // format cannot represent (documented per format).
  { F::LeafProperty(pte, level) } -> std::same_as<PageProperty>;
};

}  // namespace hv::mm

#endif  // MM_PTE_FORMAT_H_
