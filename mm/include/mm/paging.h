// Paging vocabulary shared by every page-table format: levels, page sizes and
// the shape of a table.
//
// Levels count from the leaves up, as in OSTD: level 1 entries map 4 KiB
// pages, level 2 entries 2 MiB, level 3 entries 1 GiB, level 4 entries
// 512 GiB. A format with N levels has its root table at level N.
#ifndef MM_PAGING_H_
#define MM_PAGING_H_

#include <hv/base/std.h>

namespace hv::mm {

using PagingLevel = uint8_t;

inline constexpr uint64_t kPageShift = 12;
inline constexpr uint64_t kPageSize = uint64_t{1} << kPageShift;
// Index bits per level and entries of a non-root table (every format here).
inline constexpr uint64_t kBitsPerLevel = 9;
inline constexpr uint64_t kEntriesPerTable = uint64_t{1} << kBitsPerLevel;
inline constexpr PagingLevel kMaxLevels = 4;

// log2 of the bytes one entry at `level` maps.
constexpr uint64_t LevelShift(PagingLevel level) {
  return kPageShift + kBitsPerLevel * (level - 1);
}
// The bytes one entry at `level` maps: 4 KiB, 2 MiB, 1 GiB, 512 GiB.
constexpr uint64_t PageSizeAt(PagingLevel level) { return uint64_t{1} << LevelShift(level); }

constexpr bool IsPageAligned(uint64_t value) { return (value & (kPageSize - 1)) == 0; }

}  // namespace hv::mm

#endif  // MM_PAGING_H_
