// VmSpace and the page-table engine on the host, for every format, over a
// simulated physical arena with the fake MMU. Assertions read the tables
// with an independent walker (WalkTo) and check the flush records.
#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include <mm/frame.h>
#include <mm/io_mem.h>
#include <mm/testing/arena_space.h>
#include <mm/vm_space.h>

namespace hv::mm {
namespace {

using testing::FakeMmu;
using testing::kGiB;
using testing::kMiB;

constexpr uint64_t k2M = 2 * kMiB;

template <typename Config>
class VmSpaceTest : public testing::ArenaSpaceTest<Config, 64 * kMiB> {
 protected:
  using Base = testing::ArenaSpaceTest<Config, 64 * kMiB>;
  using Base::alloc_;
  using Base::arena_;
  using Base::R;
  using Base::space_;
  using typename Base::FormatT;
  using typename Base::RangeT;
  using typename Base::SpaceT;
  using typename Base::VaddrT;

  // A 1 GiB-aligned window inside every space.
  static constexpr uint64_t kVa = 4 * kGiB;
  // Device memory, outside the arena (the engine never touches it).
  static constexpr uint64_t kIoPa = 0x10'0000'0000;

  static PageProperty Rw() { return PageProperty::New(PageFlags::kRW); }
  static PageProperty Io(PageProperty prop) {
    prop.priv_flags |= PrivilegedPageFlags::kAvail1;
    return prop;
  }
  Frame NewFrame(PagingLevel level = 1) { return alloc_->Alloc(level).value(); }

  typename SpaceT::CursorMut Mut(uint64_t start, uint64_t size) {
    return space_->OpenCursorMut(R(start, size)).value();
  }

  // The leaf entry translating `va`, and its level, as the hardware would
  // find it; nullopt if the walk ends at an empty entry.
  std::optional<std::pair<Pte, PagingLevel>> WalkTo(uint64_t va) const {
    HostPhysAddr table = space_->root_paddr();
    for (PagingLevel level = FormatT::kNumLevels; level >= 1; --level) {
      const uint64_t entries =
          level == FormatT::kNumLevels ? FormatT::kRootEntries : kEntriesPerTable;
      const uint64_t index = (va >> LevelShift(level)) & (entries - 1);
      // SAFETY: `table` is a page-table page in the arena; index < entries.
      const Pte pte = static_cast<const Pte*>(arena_->phys().PhysToVirt(table))[index];
      if (pte == 0) return std::nullopt;
      if (FormatT::IsLeaf(pte, level)) return std::pair(pte, level);
      table = FormatT::TablePaddr(pte);
    }
    ADD_FAILURE() << "table entry at level 1";
    return std::nullopt;
  }
  // Asserts that `va` is translated by exactly `pte` at `level`.
  void ExpectLeaf(uint64_t va, HostPhysAddr pa, PagingLevel level, const PageProperty& prop) {
    const auto found = WalkTo(va);
    ASSERT_TRUE(found.has_value()) << std::hex << va << " not mapped";
    EXPECT_EQ(found->second, level) << std::hex << va;
    EXPECT_EQ(found->first, FormatT::MakeLeaf(pa, level, prop)) << std::hex << va;
  }
  void ExpectUnmapped(uint64_t va) { EXPECT_FALSE(WalkTo(va).has_value()) << std::hex << va; }

  uint64_t Tables() const { return space_->CheckInvariants().tables; }
};

TYPED_TEST_SUITE(VmSpaceTest, testing::AllSpaceConfigs, testing::SpaceConfigNames);

TYPED_TEST(VmSpaceTest, MapQueryUnmapOnePage) {
  using Vaddr = typename TestFixture::VaddrT;
  const uint64_t va = this->kVa + 5 * kPageSize;
  Frame frame = this->NewFrame();
  const HostPhysAddr pa = frame.paddr();
  {
    auto cursor = this->Mut(va, kPageSize);
    EXPECT_EQ(cursor.virt_addr().value(), va);
    auto replaced = cursor.Map(frame, this->Rw());
    ASSERT_TRUE(replaced.ok());
    EXPECT_FALSE(replaced->has_value());
    EXPECT_EQ(cursor.virt_addr().value(), va + kPageSize);
  }
  this->ExpectLeaf(va, pa, 1, this->Rw());
  this->ExpectUnmapped(va + kPageSize);
  EXPECT_EQ(frame.ref_count(), 2u) << "the table holds one reference";

  {
    auto cursor = this->space_->OpenCursor(this->R(va, kPageSize)).value();
    auto [range, item] = cursor.Query().value();
    EXPECT_EQ(range, this->R(va, kPageSize));
    ASSERT_TRUE(item.has_value());
    const auto* ram = std::get_if<MappedRam>(&*item);
    ASSERT_NE(ram, nullptr);
    EXPECT_EQ(ram->frame, frame);
    EXPECT_EQ(ram->prop, this->Rw());
  }

  const size_t flushes = this->mmu_.num_flushes();
  {
    auto cursor = this->Mut(va, kPageSize);
    EXPECT_EQ(cursor.Unmap(kPageSize).value(), 1u);
    EXPECT_TRUE(this->mmu_.Flushed(va, 0, flushes)) << "unmap must flush before returning";
    EXPECT_FALSE(cursor.Query().ok()) << "the cursor is at its end";
    ASSERT_TRUE(cursor.Jump(Vaddr(va)).ok());
    EXPECT_FALSE(cursor.Query()->second.has_value());
  }
  this->ExpectUnmapped(va);
  EXPECT_EQ(frame.ref_count(), 1u);
  EXPECT_EQ(this->Tables(), 1u) << "emptied page-table pages are freed";
}

TYPED_TEST(VmSpaceTest, QueryReportsTheEmptySlotAndDoesNotMove) {
  // With nothing mapped, a read-only cursor stays at the root: the empty
  // slot is a whole root entry.
  auto cursor = this->space_->OpenCursor(this->R(this->kVa, kPageSize)).value();
  auto [range, item] = cursor.Query().value();
  EXPECT_FALSE(item.has_value());
  const uint64_t root_entry = PageSizeAt(TypeParam::Format::kNumLevels);
  EXPECT_EQ(range, this->R(this->kVa & ~(root_entry - 1), root_entry));
  EXPECT_EQ(cursor.virt_addr().value(), this->kVa);
}

TYPED_TEST(VmSpaceTest, FindNextAndJump) {
  using Vaddr = typename TestFixture::VaddrT;
  const uint64_t base = this->kVa;
  Frame frame = this->NewFrame();
  {
    auto cursor = this->Mut(base, 8 * k2M);
    for (uint64_t off : {3 * kPageSize, k2M + 7 * kPageSize, 5 * k2M}) {
      ASSERT_TRUE(cursor.Jump(Vaddr(base + off)).ok());
      ASSERT_TRUE(cursor.Map(frame, this->Rw()).ok());
    }
    ASSERT_TRUE(cursor.Jump(Vaddr(base)).ok());
    EXPECT_EQ(cursor.FindNext(8 * k2M)->value(), base + 3 * kPageSize);
    EXPECT_EQ(cursor.virt_addr().value(), base + 3 * kPageSize);
    // A mapped current address is found at once.
    EXPECT_EQ(cursor.FindNext(kPageSize)->value(), base + 3 * kPageSize);
    ASSERT_TRUE(cursor.Jump(Vaddr(base + 4 * kPageSize)).ok());
    EXPECT_EQ(cursor.FindNext(8 * k2M - 4 * kPageSize)->value(), base + k2M + 7 * kPageSize);
    ASSERT_TRUE(cursor.Jump(Vaddr(base + k2M + 8 * kPageSize)).ok());
    // Not within 1 MiB: nullopt, cursor 1 MiB further.
    EXPECT_FALSE(cursor.FindNext(kMiB).has_value());
    EXPECT_EQ(cursor.virt_addr().value(), base + k2M + 8 * kPageSize + kMiB);
    EXPECT_EQ(cursor.FindNext(8 * k2M - (k2M + 8 * kPageSize + kMiB))->value(), base + 5 * k2M);
    EXPECT_EQ(cursor.Unmap(8 * k2M - 5 * k2M).value(), 1u);
    ASSERT_TRUE(cursor.Jump(Vaddr(base)).ok());
    EXPECT_EQ(cursor.Unmap(8 * k2M).value(), 2u);
  }
  EXPECT_EQ(frame.ref_count(), 1u);
}

TYPED_TEST(VmSpaceTest, RemapReturnsTheOldFrameAfterItsFlush) {
  using Vaddr = typename TestFixture::VaddrT;
  const uint64_t va = this->kVa + 9 * kPageSize;
  HostPhysAddr old_pa;
  {
    Frame old_frame = this->NewFrame();
    old_pa = old_frame.paddr();
    auto cursor = this->Mut(va, kPageSize);
    ASSERT_TRUE(cursor.Map(std::move(old_frame), this->Rw()).ok());
  }
  ASSERT_EQ(this->alloc_->RefCount(old_pa), 1u) << "only the table holds it";

  bool flushed_while_held = false;
  this->mmu_.set_on_flush([&](const FakeMmu::FlushRecord& record) {
    if (record.Covers(va)) flushed_while_held = this->alloc_->IsAllocated(old_pa);
  });
  Frame new_frame = this->NewFrame();
  const PageProperty prop = PageProperty::New(PageFlags::kR);
  {
    auto cursor = this->Mut(va, kPageSize);
    auto replaced = cursor.Map(new_frame, prop).value();
    EXPECT_TRUE(flushed_while_held) << "the remap must flush while the old frame is alive";
    ASSERT_TRUE(replaced.has_value());
    auto* ram = std::get_if<MappedRam>(&*replaced);
    ASSERT_NE(ram, nullptr);
    EXPECT_EQ(ram->frame.paddr(), old_pa);
    EXPECT_EQ(ram->prop, this->Rw());
    this->ExpectLeaf(va, new_frame.paddr(), 1, prop);
    replaced.reset();
    EXPECT_FALSE(this->alloc_->IsAllocated(old_pa)) << "dropping the returned frame frees it";
    ASSERT_TRUE(cursor.Jump(Vaddr(va)).ok());
    ASSERT_TRUE(cursor.Unmap(kPageSize).ok());
  }
  this->mmu_.set_on_flush(nullptr);
}

TYPED_TEST(VmSpaceTest, UnmapReleasesFramesOnlyAfterTheFlush) {
  const uint64_t va = this->kVa;
  std::vector<HostPhysAddr> pas;
  {
    auto cursor = this->Mut(va, 40 * kPageSize);
    for (int i = 0; i < 40; ++i) {
      Frame frame = this->NewFrame();
      pas.push_back(frame.paddr());
      ASSERT_TRUE(cursor.Map(std::move(frame), this->Rw()).ok());
    }
  }
  // The first flush covering each page must come while its frame is held.
  std::set<int> covered_pages;
  bool freed_before_flush = false;
  this->mmu_.set_on_flush([&](const FakeMmu::FlushRecord& record) {
    for (int i = 0; i < 40; ++i) {
      if (record.Covers(va + i * kPageSize) && covered_pages.insert(i).second &&
          !this->alloc_->IsAllocated(pas[i])) {
        freed_before_flush = true;
      }
    }
  });
  {
    auto cursor = this->Mut(va, 40 * kPageSize);
    // 40 frames are more than the flusher keeps: it dispatches on the way.
    EXPECT_EQ(cursor.Unmap(40 * kPageSize).value(), 40u);
  }
  this->mmu_.set_on_flush(nullptr);
  EXPECT_FALSE(freed_before_flush);
  EXPECT_EQ(covered_pages.size(), 40u);
  for (HostPhysAddr pa : pas) EXPECT_FALSE(this->alloc_->IsAllocated(pa));
}

TYPED_TEST(VmSpaceTest, PageTablePagesAreFreedOnlyAfterTheFlush) {
  using Format = typename TestFixture::FormatT;
  const uint64_t va = this->kVa + 3 * k2M;
  Frame frame = this->NewFrame();
  {
    auto cursor = this->Mut(va, k2M);
    ASSERT_TRUE(cursor.Map(frame, this->Rw()).ok());
  }
  // The 4 KiB table that holds the leaf: from the level-2 entry.
  HostPhysAddr table = this->space_->root_paddr();
  for (PagingLevel level = Format::kNumLevels; level > 1; --level) {
    const uint64_t entries = level == Format::kNumLevels ? Format::kRootEntries : kEntriesPerTable;
    // SAFETY: `table` is a page-table page in the arena; the index is in it.
    const Pte pte = static_cast<const Pte*>(
        this->arena_->phys().PhysToVirt(table))[(va >> LevelShift(level)) & (entries - 1)];
    ASSERT_TRUE(Format::IsPresent(pte) && !Format::IsLeaf(pte, level));
    table = Format::TablePaddr(pte);
  }
  // The first flush covering the range must come while the table is held.
  bool seen = false;
  bool flushed_while_held = false;
  bool flushed_tables = false;
  this->mmu_.set_on_flush([&](const FakeMmu::FlushRecord& record) {
    if (seen || !record.Covers(va)) return;
    seen = true;
    flushed_while_held = this->alloc_->IsAllocated(table);
    for (const TlbFlushOp& op : record.ops) flushed_tables |= op.is_all() || op.frees_tables();
  });
  {
    // The whole 2 MiB: the table is detached with its leaf and released
    // after the flush.
    auto cursor = this->Mut(va, k2M);
    EXPECT_EQ(cursor.Unmap(k2M).value(), 1u);
    EXPECT_FALSE(this->alloc_->IsAllocated(table));
  }
  this->mmu_.set_on_flush(nullptr);
  EXPECT_TRUE(flushed_while_held);
  EXPECT_TRUE(flushed_tables)
      << "a flush retiring a table must say so (riscv64 needs a full fence)";
  EXPECT_EQ(frame.ref_count(), 1u);
}

TYPED_TEST(VmSpaceTest, UnmapSkipsHolesAndCountsOnlyRam) {
  using Vaddr = typename TestFixture::VaddrT;
  const uint64_t va = this->kVa + 16 * kPageSize;
  Frame frame = this->NewFrame();
  const IoMem io = IoMem::Create(HostPhysAddr(this->kIoPa), kPageSize).value();
  {
    auto cursor = this->Mut(va, 16 * kPageSize);
    for (uint64_t page : {0, 2, 5}) {
      ASSERT_TRUE(cursor.Jump(Vaddr(va + page * kPageSize)).ok());
      ASSERT_TRUE(cursor.Map(frame, this->Rw()).ok());
    }
    ASSERT_TRUE(cursor.Jump(Vaddr(va + 7 * kPageSize)).ok());
    ASSERT_TRUE(cursor.MapIoMem(io, this->Rw(), kPageSize, 0).ok());
  }
  EXPECT_EQ(frame.ref_count(), 4u);
  {
    auto cursor = this->Mut(va, 16 * kPageSize);
    EXPECT_EQ(cursor.Unmap(16 * kPageSize).value(), 3u);
    EXPECT_EQ(cursor.virt_addr().value(), va + 16 * kPageSize);
    // Unmapping a hole is fine.
    ASSERT_TRUE(cursor.Jump(Vaddr(va)).ok());
    EXPECT_EQ(cursor.Unmap(16 * kPageSize).value(), 0u);
  }
  for (uint64_t page = 0; page < 16; ++page) this->ExpectUnmapped(va + page * kPageSize);
  EXPECT_EQ(frame.ref_count(), 1u);
  EXPECT_EQ(this->Tables(), 1u);
}

TYPED_TEST(VmSpaceTest, EmptyPageTablesAreFreed) {
  Frame frame = this->NewFrame();
  const uint64_t vas[] = {this->kVa, this->kVa + 3 * k2M + kPageSize, this->kVa + 2 * kGiB};
  for (uint64_t va : vas) {
    auto cursor = this->Mut(va, kPageSize);
    ASSERT_TRUE(cursor.Map(frame, this->Rw()).ok());
  }
  const uint64_t tables = this->Tables();
  EXPECT_GT(tables, 4u);
  EXPECT_EQ(this->space_->CheckInvariants().empty_tables, 0u);
  // Unmap through a cursor over the whole window: tables below its guard go
  // during the unmap, the guard's chain when the cursor is destroyed.
  {
    auto cursor = this->Mut(this->kVa, 4 * kGiB);
    EXPECT_EQ(cursor.Unmap(4 * kGiB).value(), 3u);
  }
  EXPECT_EQ(this->Tables(), 1u);
  // A cursor that creates the path to its range and maps nothing leaves
  // nothing behind either.
  { auto cursor = this->Mut(this->kVa + 77 * kPageSize, kPageSize); }
  EXPECT_EQ(this->Tables(), 1u);
  EXPECT_EQ(frame.ref_count(), 1u);
}

TYPED_TEST(VmSpaceTest, HugeFrameIsOneLeafAndSplitsOnPartialUnmap) {
  const uint64_t va = this->kVa + 6 * k2M;
  Frame huge = this->NewFrame(2);
  const HostPhysAddr pa = huge.paddr();
  {
    auto cursor = this->Mut(va, k2M);
    ASSERT_TRUE(cursor.Map(huge, this->Rw()).ok());
  }
  this->ExpectLeaf(va, pa, 2, this->Rw());
  this->ExpectLeaf(va + k2M - kPageSize, pa, 2, this->Rw());
  EXPECT_EQ(huge.ref_count(), 2u);
  {
    auto cursor = this->space_->OpenCursor(this->R(va + 9 * kPageSize, kPageSize)).value();
    auto [range, item] = cursor.Query().value();
    EXPECT_EQ(range, this->R(va, k2M));
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(std::get<MappedRam>(*item).frame, huge);
  }
  const size_t flushes = this->mmu_.num_flushes();
  {
    auto cursor = this->Mut(va + 5 * kPageSize, kPageSize);
    EXPECT_EQ(cursor.Unmap(kPageSize).value(), 1u);
  }
  EXPECT_TRUE(this->mmu_.Flushed(va, 0, flushes)) << "the split must flush the 2 MiB leaf";
  EXPECT_TRUE(this->mmu_.Flushed(va + k2M - kPageSize, 0, flushes));
  this->ExpectLeaf(va, pa, 1, this->Rw());
  this->ExpectLeaf(va + 4 * kPageSize, HostPhysAddr(pa.value() + 4 * kPageSize), 1, this->Rw());
  this->ExpectUnmapped(va + 5 * kPageSize);
  this->ExpectLeaf(va + 6 * kPageSize, HostPhysAddr(pa.value() + 6 * kPageSize), 1, this->Rw());
  // One reference per remaining 4 KiB piece, plus the handle.
  EXPECT_EQ(huge.ref_count(), 1u + 511u);
  {
    auto cursor = this->space_->OpenCursor(this->R(va + 6 * kPageSize, kPageSize)).value();
    auto [range, item] = cursor.Query().value();
    EXPECT_EQ(range, this->R(va + 6 * kPageSize, kPageSize));
    const Frame& piece = std::get<MappedRam>(*item).frame;
    EXPECT_EQ(piece.paddr().value(), pa.value() + 6 * kPageSize);
    EXPECT_EQ(piece.level(), 1);
  }
  {
    auto cursor = this->Mut(va, k2M);
    EXPECT_EQ(cursor.Unmap(k2M).value(), 511u);
  }
  EXPECT_EQ(huge.ref_count(), 1u);
  EXPECT_EQ(this->Tables(), 1u);
}

TYPED_TEST(VmSpaceTest, ProtectSplitsOnlyWhatItMustAndFlushes) {
  const uint64_t va = this->kVa + 2 * k2M;
  Frame huge = this->NewFrame(2);
  {
    auto cursor = this->Mut(va, k2M);
    ASSERT_TRUE(cursor.Map(huge, this->Rw()).ok());
  }
  const size_t flushes = this->mmu_.num_flushes();
  const PageProperty ro = PageProperty::New(PageFlags::kR);
  {
    auto cursor = this->Mut(va + 3 * kPageSize, 2 * kPageSize);
    auto drop_write = [](PageFlags& flags, CachePolicy&) { flags -= PageFlags::kW; };
    auto first = cursor.ProtectNext(2 * kPageSize, drop_write).value();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(*first, this->R(va + 3 * kPageSize, kPageSize));
    auto second = cursor.ProtectNext(kPageSize, drop_write).value();
    EXPECT_EQ(*second, this->R(va + 4 * kPageSize, kPageSize));
    EXPECT_FALSE(cursor.ProtectNext(0, drop_write).value().has_value());
    // Issued, not yet dispatched.
    EXPECT_FALSE(this->mmu_.Flushed(va + 3 * kPageSize, 0, flushes));
  }
  // Destroying the cursor dispatched the protect's flushes.
  EXPECT_TRUE(this->mmu_.Flushed(va + 3 * kPageSize, 0, flushes));
  EXPECT_TRUE(this->mmu_.Flushed(va + 4 * kPageSize, 0, flushes));
  const HostPhysAddr pa = huge.paddr();
  this->ExpectLeaf(va + 2 * kPageSize, HostPhysAddr(pa.value() + 2 * kPageSize), 1, this->Rw());
  this->ExpectLeaf(va + 3 * kPageSize, HostPhysAddr(pa.value() + 3 * kPageSize), 1, ro);
  this->ExpectLeaf(va + 4 * kPageSize, HostPhysAddr(pa.value() + 4 * kPageSize), 1, ro);
  this->ExpectLeaf(va + 5 * kPageSize, HostPhysAddr(pa.value() + 5 * kPageSize), 1, this->Rw());
  {
    auto cursor = this->Mut(va, k2M);
    EXPECT_EQ(cursor.Unmap(k2M).value(), 512u);
  }
}

TYPED_TEST(VmSpaceTest, ProtectWholeLeavesAndExplicitDispatch) {
  using Vaddr = typename TestFixture::VaddrT;
  const uint64_t va = this->kVa;
  Frame frame = this->NewFrame();
  {
    auto cursor = this->Mut(va, 8 * kPageSize);
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(cursor.Map(frame, this->Rw()).ok());
  }
  {
    auto cursor = this->Mut(va, 8 * kPageSize);
    int protected_leaves = 0;
    while (true) {
      const uint64_t left = va + 8 * kPageSize - cursor.virt_addr().value();
      auto found = cursor.ProtectNext(
          left, [](PageFlags& flags, CachePolicy&) { flags = PageFlags::kNone; });
      ASSERT_TRUE(found.ok());
      if (!found->has_value()) break;
      ++protected_leaves;
    }
    EXPECT_EQ(protected_leaves, 8);
    const size_t flushes = this->mmu_.num_flushes();
    cursor.flusher().DispatchTlbFlush();
    for (int i = 0; i < 8; ++i) EXPECT_TRUE(this->mmu_.Flushed(va + i * kPageSize, 0, flushes));
    // Inaccessible leaves stay mapped and keep their frames.
    ASSERT_TRUE(cursor.Jump(Vaddr(va)).ok());
    auto [range, item] = cursor.Query().value();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(std::get<MappedRam>(*item).prop.flags, PageFlags::kNone);
    EXPECT_EQ(frame.ref_count(), 1u + 8u + 1u);
  }
  this->ExpectLeaf(va, frame.paddr(), 1, PageProperty{});
  {
    auto cursor = this->Mut(va, 8 * kPageSize);
    EXPECT_EQ(cursor.Unmap(8 * kPageSize).value(), 8u);
  }
}

TYPED_TEST(VmSpaceTest, ProtectOnHolesFindsNothing) {
  auto cursor = this->Mut(this->kVa, 64 * kPageSize);
  bool called = false;
  auto found = cursor.ProtectNext(64 * kPageSize, [&](PageFlags&, CachePolicy&) { called = true; });
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  EXPECT_FALSE(called);
  EXPECT_EQ(cursor.virt_addr().value(), this->kVa + 64 * kPageSize);
}

TYPED_TEST(VmSpaceTest, MapIoMemUsesHugeLeavesStopsAtTheEndAndIsRetained) {
  using Vaddr = typename TestFixture::VaddrT;
  const uint64_t va = this->kVa;
  const IoMem io = IoMem::Create(HostPhysAddr(this->kIoPa), k2M + 2 * kPageSize).value();
  const PageProperty prop = this->Rw();
  {
    auto cursor = this->Mut(va, 4 * k2M);
    // Asks for 4 MiB; the IoMem ends after 2 MiB + 8 KiB.
    ASSERT_TRUE(cursor.MapIoMem(io, prop, 2 * k2M, 0).ok());
    EXPECT_EQ(cursor.virt_addr().value(), va + k2M + 2 * kPageSize);
    auto [range, item] = cursor.Query().value();
    EXPECT_FALSE(item.has_value());
    ASSERT_TRUE(cursor.Jump(Vaddr(va + kPageSize)).ok());
    auto [huge_range, huge_item] = cursor.Query().value();
    EXPECT_EQ(huge_range, this->R(va, k2M));
    ASSERT_TRUE(huge_item.has_value());
    const auto* mapped = std::get_if<MappedIoMem>(&*huge_item);
    ASSERT_NE(mapped, nullptr);
    EXPECT_EQ(mapped->paddr.value(), this->kIoPa);
    EXPECT_EQ(mapped->prop, this->Io(prop));
    EXPECT_EQ(cursor.FindIoMemByPaddr(HostPhysAddr(this->kIoPa + k2M + kPageSize)),
              std::optional(std::pair(io, k2M + kPageSize)));
  }
  this->ExpectLeaf(va, HostPhysAddr(this->kIoPa), 2, this->Io(prop));
  this->ExpectLeaf(va + k2M, HostPhysAddr(this->kIoPa + k2M), 1, this->Io(prop));
  this->ExpectLeaf(va + k2M + kPageSize, HostPhysAddr(this->kIoPa + k2M + kPageSize), 1,
                   this->Io(prop));
  this->ExpectUnmapped(va + k2M + 2 * kPageSize);
  {
    // With an offset, and a length shorter than the IoMem.
    auto cursor = this->Mut(va + 3 * k2M, kPageSize);
    ASSERT_TRUE(cursor.MapIoMem(io, prop, kPageSize, k2M).ok());
    // An offset past the end maps nothing and does not move.
    ASSERT_TRUE(cursor.Jump(Vaddr(va + 3 * k2M)).ok());
    ASSERT_TRUE(cursor.MapIoMem(io, prop, kPageSize, io.size()).ok());
    EXPECT_EQ(cursor.virt_addr().value(), va + 3 * k2M);
  }
  this->ExpectLeaf(va + 3 * k2M, HostPhysAddr(this->kIoPa + k2M), 1, this->Io(prop));
  {
    auto cursor = this->Mut(va, 4 * k2M);
    EXPECT_EQ(cursor.Unmap(4 * k2M).value(), 0u) << "I/O leaves are not frames";
  }
  EXPECT_EQ(this->Tables(), 1u);
  // Retained until the space goes, mappings or not.
  EXPECT_EQ(this->space_->FindIoMemByPaddr(HostPhysAddr(this->kIoPa)),
            std::optional(std::pair(io, 0ul)));
  EXPECT_FALSE(this->space_->FindIoMemByPaddr(HostPhysAddr(this->kIoPa + io.size())).has_value());
}

TYPED_TEST(VmSpaceTest, GigabyteIoLeavesSplitTwice) {
  const uint64_t va = this->kVa;
  const IoMem io = IoMem::Create(HostPhysAddr(this->kIoPa), kGiB).value();
  const PageProperty prop = this->Rw();
  {
    auto cursor = this->Mut(va, kGiB);
    ASSERT_TRUE(cursor.MapIoMem(io, prop, kGiB, 0).ok());
  }
  this->ExpectLeaf(va + 123 * kPageSize, HostPhysAddr(this->kIoPa), 3, this->Io(prop));
  {
    auto cursor = this->Mut(va + k2M + 3 * kPageSize, kPageSize);
    EXPECT_EQ(cursor.Unmap(kPageSize).value(), 0u);
  }
  this->ExpectLeaf(va, HostPhysAddr(this->kIoPa), 2, this->Io(prop));
  this->ExpectLeaf(va + 2 * k2M, HostPhysAddr(this->kIoPa + 2 * k2M), 2, this->Io(prop));
  this->ExpectLeaf(va + k2M, HostPhysAddr(this->kIoPa + k2M), 1, this->Io(prop));
  this->ExpectUnmapped(va + k2M + 3 * kPageSize);
  this->ExpectLeaf(va + k2M + 4 * kPageSize, HostPhysAddr(this->kIoPa + k2M + 4 * kPageSize), 1,
                   this->Io(prop));
  {
    auto cursor = this->Mut(va, kGiB);
    EXPECT_EQ(cursor.Unmap(kGiB).value(), 0u);
  }
  EXPECT_EQ(this->Tables(), 1u);
}

TYPED_TEST(VmSpaceTest, HugeMapReplacesASubtree) {
  const uint64_t va = this->kVa + 4 * k2M;
  std::vector<HostPhysAddr> small;
  {
    auto cursor = this->Mut(va, k2M);
    for (int i = 0; i < 3; ++i) {
      Frame frame = this->NewFrame();
      small.push_back(frame.paddr());
      ASSERT_TRUE(cursor.Jump(typename TestFixture::VaddrT(va + i * 100 * kPageSize)).ok());
      ASSERT_TRUE(cursor.Map(std::move(frame), this->Rw()).ok());
    }
  }
  const uint64_t tables = this->Tables();
  Frame huge = this->NewFrame(2);
  const size_t flushes = this->mmu_.num_flushes();
  {
    auto cursor = this->Mut(va, k2M);
    auto replaced = cursor.Map(huge, this->Rw());
    ASSERT_TRUE(replaced.ok());
    EXPECT_FALSE(replaced->has_value()) << "several mappings went, not one";
  }
  EXPECT_TRUE(this->mmu_.Flushed(va + 200 * kPageSize, 0, flushes));
  for (HostPhysAddr pa : small) EXPECT_FALSE(this->alloc_->IsAllocated(pa));
  EXPECT_EQ(this->Tables(), tables - 1) << "the 4 KiB table went";
  this->ExpectLeaf(va + 100 * kPageSize, huge.paddr(), 2, this->Rw());
  {
    auto cursor = this->Mut(va, k2M);
    EXPECT_EQ(cursor.Unmap(k2M).value(), 1u);
  }
}

TYPED_TEST(VmSpaceTest, RamPropertyCannotClaimToBeIo) {
  Frame frame = this->NewFrame();
  auto cursor = this->Mut(this->kVa, kPageSize);
  ASSERT_TRUE(cursor.Map(frame, this->Io(this->Rw())).ok());
  ASSERT_TRUE(cursor.Jump(typename TestFixture::VaddrT(this->kVa)).ok());
  auto [range, item] = cursor.Query().value();
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(std::get<MappedRam>(*item).prop, this->Rw());
  EXPECT_EQ(cursor.Unmap(kPageSize).value(), 1u);
}

TYPED_TEST(VmSpaceTest, BadInputIsRefusedAndChangesNothing) {
  using Vaddr = typename TestFixture::VaddrT;
  using Range = typename TestFixture::RangeT;
  const uint64_t va = this->kVa;
  const uint64_t space_end = TestFixture::SpaceT::kBase + TestFixture::SpaceT::kSize;
  EXPECT_EQ(this->space_->OpenCursorMut(this->R(va + 1, kPageSize)).error(), Error::kInvalidArgs);
  EXPECT_EQ(this->space_->OpenCursorMut(this->R(va, kPageSize + 1)).error(), Error::kInvalidArgs);
  EXPECT_EQ(this->space_->OpenCursorMut(this->R(va, 0)).error(), Error::kInvalidArgs);
  EXPECT_EQ(this->space_->OpenCursor(this->R(space_end, kPageSize)).error(), Error::kOutOfRange);
  EXPECT_EQ(this->space_->OpenCursorMut(this->R(space_end - kPageSize, 2 * kPageSize)).error(),
            Error::kOutOfRange);
  EXPECT_FALSE(Range::Create(Vaddr(~uint64_t{0} - kPageSize + 1), 2 * kPageSize).has_value())
      << "wrapping ranges cannot even be formed";

  Frame frame = this->NewFrame();
  Frame huge = this->NewFrame(2);
  {
    auto cursor = this->Mut(va, 4 * kPageSize);
    EXPECT_EQ(cursor.Map(Frame(), this->Rw()).error(), Error::kInvalidArgs);
    EXPECT_EQ(cursor.Map(huge, this->Rw()).error(), Error::kOutOfRange) << "2 MiB in 16 KiB";
    EXPECT_EQ(huge.ref_count(), 1u) << "a refused frame is not kept";
    EXPECT_EQ(cursor.Unmap(kPageSize + 1).error(), Error::kInvalidArgs);
    EXPECT_EQ(cursor.Unmap(5 * kPageSize).error(), Error::kOutOfRange);
    auto keep = [](PageFlags&, CachePolicy&) {};
    EXPECT_EQ(cursor.ProtectNext(5 * kPageSize, keep).error(), Error::kOutOfRange);
    EXPECT_EQ(cursor.Jump(Vaddr(va + 4 * kPageSize)).error(), Error::kOutOfRange);
    EXPECT_EQ(cursor.Jump(Vaddr(va - kPageSize)).error(), Error::kOutOfRange);
    EXPECT_EQ(cursor.Jump(Vaddr(va + 8)).error(), Error::kInvalidArgs);
    const IoMem io = IoMem::Create(HostPhysAddr(this->kIoPa), 8 * kPageSize).value();
    EXPECT_EQ(cursor.MapIoMem(io, this->Rw(), 100, 0).error(), Error::kInvalidArgs);
    EXPECT_EQ(cursor.MapIoMem(io, this->Rw(), kPageSize, 100).error(), Error::kInvalidArgs);
    EXPECT_EQ(cursor.MapIoMem(io, this->Rw(), 8 * kPageSize, 0).error(), Error::kOutOfRange);
    EXPECT_FALSE(this->space_->FindIoMemByPaddr(io.paddr()).has_value())
        << "a refused IoMem is not retained";
    EXPECT_EQ(cursor.virt_addr().value(), va);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(cursor.Map(frame, this->Rw()).ok());
    EXPECT_EQ(cursor.Map(frame, this->Rw()).error(), Error::kOutOfRange) << "at the end";
    EXPECT_EQ(cursor.Query().error(), Error::kOutOfRange);
    EXPECT_DEATH(cursor.FindNext(kPageSize), "past the cursor's range");
    ASSERT_TRUE(cursor.Jump(Vaddr(va + kPageSize)).ok());
    EXPECT_EQ(cursor.Map(this->NewFrame(2), this->Rw()).error(), Error::kOutOfRange);
    EXPECT_DEATH(cursor.FindNext(kPageSize + 1), "unaligned");
  }
  {
    auto cursor = this->Mut(va, 2 * k2M);
    ASSERT_TRUE(cursor.Jump(Vaddr(va + kPageSize)).ok());
    EXPECT_EQ(cursor.Map(huge, this->Rw()).error(), Error::kInvalidArgs) << "unaligned for 2 MiB";
    EXPECT_EQ(cursor.virt_addr().value(), va + kPageSize);
    ASSERT_TRUE(cursor.Jump(Vaddr(va)).ok());
    EXPECT_EQ(cursor.Unmap(2 * k2M).value(), 4u);
  }
  EXPECT_EQ(frame.ref_count(), 1u);
  EXPECT_EQ(this->Tables(), 1u);
}

TYPED_TEST(VmSpaceTest, FramesOfAnotherAllocatorAreRefused) {
  HostArena other_arena = HostArena::Create(4 * kMiB, HostPhysAddr(0x4'0000'0000)).value();
  FrameAllocator* other =
      FrameAllocator::Create(other_arena.phys(), other_arena.phys_base(), 4 * kMiB).value();
  auto cursor = this->Mut(this->kVa, kPageSize);
  EXPECT_EQ(cursor.Map(other->Alloc().value(), this->Rw()).error(), Error::kInvalidArgs);
}

TYPED_TEST(VmSpaceTest, ShootdownsGoToTheCpusWhereTheSpaceIsActive) {
  const uint64_t va = this->kVa;
  const auto activations = this->mmu_.activations();
  ASSERT_EQ(activations.size(), 1u);
  EXPECT_EQ(activations[0].cpu, 0u);
  EXPECT_EQ(activations[0].root, this->space_->root_paddr());
  EXPECT_TRUE(this->space_->IsActiveOnCurrentCpu());
  std::thread([&] {
    FakeMmu::SetCurrentCpu(3);
    this->space_->Activate();
  }).join();
  EXPECT_EQ(this->space_->active_cpus(), CpuSet::FromBits(0b1001));
  {
    auto cursor = this->Mut(va, kPageSize);
    ASSERT_TRUE(cursor.Map(this->NewFrame(), this->Rw()).ok());
    ASSERT_TRUE(cursor.Jump(typename TestFixture::VaddrT(va)).ok());
    ASSERT_TRUE(cursor.Unmap(kPageSize).ok());
  }
  const auto flushes = this->mmu_.flushes();
  ASSERT_FALSE(flushes.empty());
  EXPECT_EQ(flushes.back().cpus, CpuSet::FromBits(0b1001));
  EXPECT_TRUE(flushes.back().Covers(va));
  // Deactivated everywhere: changes flush nothing (activation flushes).
  std::thread([&] {
    FakeMmu::SetCurrentCpu(3);
    this->space_->Deactivate();
  }).join();
  this->space_->Deactivate();
  EXPECT_TRUE(this->space_->active_cpus().empty());
  this->mmu_.ClearRecords();
  {
    auto cursor = this->Mut(va, kPageSize);
    ASSERT_TRUE(cursor.Map(this->NewFrame(), this->Rw()).ok());
    ASSERT_TRUE(cursor.Jump(typename TestFixture::VaddrT(va)).ok());
    ASSERT_TRUE(cursor.Unmap(kPageSize).ok());
  }
  EXPECT_EQ(this->mmu_.num_flushes(), 0u);
}

TYPED_TEST(VmSpaceTest, AccessibleOnlyWhenActiveAndInside) {
  using Vaddr = typename TestFixture::VaddrT;
  using Space = typename TestFixture::SpaceT;
  EXPECT_TRUE(this->space_->CheckAccessible(Vaddr(this->kVa), 100).ok());
  EXPECT_EQ(*this->space_->CheckAccessible(Vaddr(this->kVa), 100), this->R(this->kVa, 100));
  EXPECT_TRUE(this->space_->CheckAccessible(Vaddr(Space::kBase + Space::kSize - 8), 8).ok());
  EXPECT_EQ(this->space_->CheckAccessible(Vaddr(Space::kBase + Space::kSize - 8), 9).error(),
            Error::kAccessDenied);
  EXPECT_EQ(this->space_->CheckAccessible(Vaddr(this->kVa), ~uint64_t{0}).error(),
            Error::kAccessDenied)
      << "vaddr + len wraps";
  this->space_->Deactivate();
  EXPECT_EQ(this->space_->CheckAccessible(Vaddr(this->kVa), 100).error(), Error::kAccessDenied);
}

// Readers and writers exist for host spaces only: a guest space's addresses
// are guest-physical.
template <typename Space>
concept HasReader = requires(const Space& space, typename Space::Vaddr va) {
  space.Reader(va, 1);
  space.Writer(va, 1);
  space.ReaderWriter(va, 1);
};
static_assert(HasReader<VmSpace<HostSpaceConfig<testing::Sv39>, ArenaPhysMem>>);
static_assert(HasReader<VmSpace<HostSpaceConfig<testing::X86>, ArenaPhysMem>>);
static_assert(!HasReader<VmSpace<GuestSpaceConfig<testing::Sv39x4>, ArenaPhysMem>>);
static_assert(!HasReader<VmSpace<GuestSpaceConfig<testing::Npt>, ArenaPhysMem>>);

// The window a reader/writer covers is exactly the range asked for. (The
// copies themselves translate through the space, which only a kernel can
// do: mm/vm_space_ktest.cc.)
TYPED_TEST(VmSpaceTest, ReadersAndWritersCoverExactlyTheRange) {
  using Space = typename TestFixture::SpaceT;
  if constexpr (!HasReader<Space>) {
    GTEST_SKIP() << "no readers for a guest space";
  } else {
    const HostVirtAddr va(this->kVa + 5);
    const auto* start = PtrFromHostVirt<const std::byte>(va);
    auto reader = this->space_->Reader(va, 100);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(reader->cursor(), start);
    EXPECT_EQ(reader->remain(), 100u);
    auto writer = this->space_->Writer(va, 100);
    ASSERT_TRUE(writer.ok());
    EXPECT_EQ(writer->cursor(), start);
    EXPECT_EQ(writer->avail(), 100u);
    auto both = this->space_->ReaderWriter(va, 100);
    ASSERT_TRUE(both.ok());
    EXPECT_EQ(both->first.cursor(), start);
    EXPECT_EQ(both->first.remain(), 100u);
    EXPECT_EQ(both->second.cursor(), start);
    EXPECT_EQ(both->second.avail(), 100u);
    // The last bytes of the space, and an empty window at its very end.
    const HostVirtAddr last(Space::kBase + Space::kSize - 8);
    EXPECT_EQ(this->space_->Reader(last, 8).value().remain(), 8u);
    EXPECT_EQ(this->space_->Writer(HostVirtAddr(Space::kBase + Space::kSize), 0).value().avail(),
              0u);
  }
}

TYPED_TEST(VmSpaceTest, ReadersAndWritersAreRefusedOutsideTheSpace) {
  using Space = typename TestFixture::SpaceT;
  if constexpr (!HasReader<Space>) {
    GTEST_SKIP() << "no readers for a guest space";
  } else {
    auto& space = *this->space_;
    const uint64_t end = Space::kBase + Space::kSize;
    struct Case {
      uint64_t va;
      uint64_t len;
      const char* what;
    };
    const Case cases[] = {
        {end - 8, 9, "one byte past the end"},
        {end, 1, "starts at the end"},
        {end + kPageSize, 1, "starts past the end"},
        {~uint64_t{0} - 15, 16, "the top of the 64-bit space"},
        {this->kVa, ~uint64_t{0}, "vaddr + len wraps"},
        {this->kVa, uint64_t{0} - this->kVa, "ends exactly at 2^64"},
        {this->kVa, uint64_t{0} - this->kVa + 1, "wraps by one byte"},
    };
    for (const Case& c : cases) {
      EXPECT_EQ(space.Reader(HostVirtAddr(c.va), c.len).error(), Error::kAccessDenied) << c.what;
      EXPECT_EQ(space.Writer(HostVirtAddr(c.va), c.len).error(), Error::kAccessDenied) << c.what;
      EXPECT_EQ(space.ReaderWriter(HostVirtAddr(c.va), c.len).error(), Error::kAccessDenied)
          << c.what;
    }
  }
}

TYPED_TEST(VmSpaceTest, ReadersAndWritersNeedTheSpaceActiveOnThisCpu) {
  using Space = typename TestFixture::SpaceT;
  if constexpr (!HasReader<Space>) {
    GTEST_SKIP() << "no readers for a guest space";
  } else {
    auto& space = *this->space_;
    const HostVirtAddr va(this->kVa);
    auto expect_denied = [&](const char* what) {
      EXPECT_EQ(space.Reader(va, 8).error(), Error::kAccessDenied) << what;
      EXPECT_EQ(space.Writer(va, 8).error(), Error::kAccessDenied) << what;
      EXPECT_EQ(space.ReaderWriter(va, 8).error(), Error::kAccessDenied) << what;
    };
    ASSERT_TRUE(space.Reader(va, 8).ok());
    // Active on CPU 0 only: another CPU may not use it.
    std::thread([&] {
      FakeMmu::SetCurrentCpu(2);
      expect_denied("active on another CPU only");
    }).join();
    // Another space activated on this CPU takes its place.
    {
      auto other = Space::Create(*this->alloc_, this->arena_->phys(), this->mmu_).value();
      other.Activate();
      expect_denied("another space is active here");
      EXPECT_TRUE(other.Reader(va, 8).ok());
      other.Deactivate();
    }
    expect_denied("deactivated by the other space's activation");
    space.Activate();
    ASSERT_TRUE(space.Writer(va, 8).ok());
    space.Deactivate();
    expect_denied("deactivated");
    EXPECT_EQ(this->mmu_.activations().back().root, HostPhysAddr()) << "the fallback root";
  }
}

TYPED_TEST(VmSpaceTest, OutOfMemoryLeavesAConsistentTable) {
  std::vector<Frame> hog;
  while (true) {
    auto frame = this->alloc_->Alloc();
    if (!frame.ok()) break;
    hog.push_back(std::move(frame).value());
  }
  Frame frame = std::move(hog.back());
  hog.pop_back();
  EXPECT_EQ(this->space_->OpenCursorMut(this->R(this->kVa, kPageSize)).error(), Error::kNoMemory);
  // One frame for the table a 4-level format needs on the way to a 1 GiB
  // range; mapping then runs out.
  hog.pop_back();
  {
    auto cursor = this->space_->OpenCursorMut(this->R(this->kVa, kGiB)).value();
    EXPECT_EQ(cursor.Map(frame, this->Rw()).error(), Error::kNoMemory);
    EXPECT_EQ(frame.ref_count(), 1u);
  }
  this->space_->CheckInvariants();
  hog.clear();
  {
    auto cursor = this->Mut(this->kVa, kPageSize);
    ASSERT_TRUE(cursor.Map(frame, this->Rw()).ok());
  }
  this->ExpectLeaf(this->kVa, frame.paddr(), 1, this->Rw());
}

TYPED_TEST(VmSpaceTest, DestroyingTheSpaceReleasesEverything) {
  const IoMem io = IoMem::Create(HostPhysAddr(this->kIoPa), k2M).value();
  std::vector<HostPhysAddr> pas;
  {
    auto cursor = this->Mut(this->kVa, 4 * k2M);
    for (int i = 0; i < 5; ++i) {
      Frame frame = this->NewFrame();
      pas.push_back(frame.paddr());
      ASSERT_TRUE(cursor.Map(std::move(frame), this->Rw()).ok());
    }
    Frame huge = this->NewFrame(2);
    pas.push_back(huge.paddr());
    ASSERT_TRUE(cursor.Jump(typename TestFixture::VaddrT(this->kVa + k2M)).ok());
    ASSERT_TRUE(cursor.Map(std::move(huge), this->Rw()).ok());
    ASSERT_TRUE(cursor.MapIoMem(io, this->Rw(), k2M, 0).ok());
  }
  EXPECT_DEATH(this->space_.reset(), "destroyed while active");
  this->space_->Deactivate();
  this->space_.reset();
  for (HostPhysAddr pa : pas) EXPECT_FALSE(this->alloc_->IsAllocated(pa));
  EXPECT_EQ(this->mmu_.num_flushes(), 0u) << "nothing was replaced or unmapped";
}

TYPED_TEST(VmSpaceTest, SharedRootEntriesAreCopiedAndNeverOwned) {
  using Space = typename TestFixture::SpaceT;
  using Format = typename TestFixture::FormatT;
  constexpr uint64_t kOwned = TypeParam::kTopLevelIndexEnd - TypeParam::kTopLevelIndexBegin;
  if constexpr (kOwned == Format::kRootEntries) {
    GTEST_SKIP() << "a guest space owns its whole root";
  } else {
    // A "kernel" root with an entry in the half the space does not own.
    const HostPhysAddr kernel_root = this->alloc_->AllocPageTable(0).value();
    auto* entries = static_cast<Pte*>(this->arena_->phys().PhysToVirt(kernel_root));
    for (uint64_t i = 0; i < kEntriesPerTable; ++i) entries[i] = 0;
    const Pte kernel_entry = Format::MakeLeaf(HostPhysAddr(kGiB), 3, this->Rw());
    entries[Format::kRootEntries - 1] = kernel_entry;
    {
      Space user = Space::Create(*this->alloc_, this->arena_->phys(), this->mmu_,
                                 {.asid = 5, .shared_root = kernel_root})
                       .value();
      const auto* copied =
          static_cast<const Pte*>(this->arena_->phys().PhysToVirt(user.root_paddr()));
      EXPECT_EQ(copied[Format::kRootEntries - 1], kernel_entry);
      EXPECT_EQ(copied[0], 0u);
      EXPECT_EQ(user.asid(), 5);
      user.CheckInvariants();
    }
    this->alloc_->FreePageTable(kernel_root);
  }
}

TYPED_TEST(VmSpaceTest, OverlappingCursorsWaitDisjointOnesDoNot) {
  const uint64_t va = this->kVa;
  // Two separate 2 MiB regions, each with its own 4 KiB table.
  Frame frame = this->NewFrame();
  for (uint64_t region : {va, va + 64 * k2M}) {
    auto cursor = this->Mut(region, kPageSize);
    ASSERT_TRUE(cursor.Map(frame, this->Rw()).ok());
  }
  std::atomic<bool> second_open{false};
  std::thread overlapping;
  {
    auto held = this->Mut(va, 16 * kPageSize);
    // Disjoint and under another table: opens while `held` lives (if it
    // waited, the join would hang and the test time out).
    std::thread([&] {
      auto other = this->space_->OpenCursorMut(this->R(va + 64 * k2M, kPageSize));
      EXPECT_TRUE(other.ok());
    }).join();
    // Overlapping: waits until `held` is destroyed.
    overlapping = std::thread([&] {
      auto other = this->space_->OpenCursorMut(this->R(va + 8 * kPageSize, 16 * kPageSize));
      second_open = true;
      ASSERT_TRUE(other.ok());
      EXPECT_EQ(other->Unmap(16 * kPageSize).value(), 0u) << "sees the unmap done under `held`";
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(second_open.load()) << "an overlapping cursor got in";
    EXPECT_EQ(held.Unmap(16 * kPageSize).value(), 1u);
  }
  overlapping.join();
  EXPECT_TRUE(second_open.load());
  {
    auto cursor = this->Mut(va, kGiB);
    EXPECT_EQ(cursor.Unmap(kGiB).value(), 1u);
  }
  EXPECT_EQ(frame.ref_count(), 1u);
}

}  // namespace
}  // namespace hv::mm
