// FrameAllocator and Frame over a simulated physical arena.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include <mm/frame.h>
#include <mm/host_arena.h>

namespace hv::mm {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

class FrameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    arena_.emplace(HostArena::Create(kArenaSize).value());
    alloc_ = FrameAllocator::Create(arena_->phys(), arena_->phys_base(), kArenaSize).value();
    initial_free_ = alloc_->free_frames();
  }

  static constexpr uint64_t kArenaSize = 64 * kMiB;
  std::optional<HostArena> arena_;
  FrameAllocator* alloc_ = nullptr;
  uint64_t initial_free_ = 0;
};

TEST_F(FrameTest, MetadataLivesAtTheStartOfTheRegion) {
  // 64 MiB = 16384 frames; the allocator and 16384 metadata entries take a
  // few frames, and everything else is free.
  const uint64_t frames = kArenaSize / kPageSize;
  const uint64_t reserved = frames - initial_free_;
  EXPECT_GE(reserved * kPageSize, frames * sizeof(internal::FrameMeta));
  EXPECT_LE(reserved, frames * sizeof(internal::FrameMeta) / kPageSize + 2);
  EXPECT_TRUE(alloc_->Contains(arena_->phys_base()));
  EXPECT_FALSE(alloc_->Contains(HostPhysAddr(arena_->phys_base().value() + kArenaSize)));
}

TEST_F(FrameTest, AllocatesDistinctAlignedFramesAndFreesOnLastReference) {
  std::set<uint64_t> seen;
  std::vector<Frame> frames;
  for (int i = 0; i < 100; ++i) {
    Frame f = alloc_->Alloc().value();
    EXPECT_TRUE(f.paddr().IsAligned(kPageSize));
    EXPECT_EQ(f.level(), 1);
    EXPECT_EQ(f.size(), kPageSize);
    EXPECT_EQ(f.ref_count(), 1u);
    EXPECT_TRUE(seen.insert(f.paddr().value()).second) << "frame handed out twice";
    frames.push_back(std::move(f));
  }
  EXPECT_EQ(alloc_->free_frames(), initial_free_ - 100);

  const HostPhysAddr pa = frames[0].paddr();
  Frame copy = frames[0];
  EXPECT_EQ(copy, frames[0]);
  EXPECT_EQ(alloc_->RefCount(pa), 2u);
  frames[0].Reset();
  EXPECT_FALSE(frames[0]);
  EXPECT_TRUE(alloc_->IsAllocated(pa));
  EXPECT_EQ(alloc_->RefCount(pa), 1u);
  copy.Reset();
  EXPECT_FALSE(alloc_->IsAllocated(pa));
  EXPECT_EQ(alloc_->RefCount(pa), 0u);

  frames.clear();
  EXPECT_EQ(alloc_->free_frames(), initial_free_);
}

TEST_F(FrameTest, HugeFramesAreNaturallyAlignedAndCoalesceBack) {
  Frame huge = alloc_->Alloc(2).value();
  EXPECT_EQ(huge.level(), 2);
  EXPECT_EQ(huge.size(), 2 * kMiB);
  EXPECT_TRUE(huge.paddr().IsAligned(2 * kMiB));
  EXPECT_EQ(alloc_->free_frames(), initial_free_ - 512);
  // Every 4 KiB piece belongs to the block.
  for (uint64_t off = 0; off < 2 * kMiB; off += kPageSize) {
    ASSERT_TRUE(alloc_->IsAllocated(HostPhysAddr(huge.paddr().value() + off)));
  }
  huge.Reset();
  EXPECT_EQ(alloc_->free_frames(), initial_free_);
  // After coalescing, a 2 MiB block is available again, as many as fit.
  std::vector<Frame> blocks;
  while (true) {
    auto f = alloc_->Alloc(2);
    if (!f.ok()) {
      EXPECT_EQ(f.error(), Error::kNoMemory);
      break;
    }
    blocks.push_back(std::move(f).value());
  }
  // 64 MiB minus the metadata's frames (at the start) leaves 31 aligned blocks.
  EXPECT_EQ(blocks.size(), 31u);
  blocks.clear();
  EXPECT_EQ(alloc_->free_frames(), initial_free_);
}

TEST_F(FrameTest, PiecesOfAHugeFrameShareItsCount) {
  Frame huge = alloc_->Alloc(2).value();
  const HostPhysAddr base = huge.paddr();
  const HostPhysAddr piece_pa(base.value() + 7 * kPageSize);
  // A page table that split a 2 MiB leaf holds one raw reference per piece.
  HostPhysAddr raw = Frame(huge).IntoRaw();
  EXPECT_EQ(raw, base);
  alloc_->AddRawRefs(base, 511);
  EXPECT_EQ(huge.ref_count(), 513u);
  Frame piece = Frame::CloneFromRaw(*alloc_, piece_pa, 1);
  EXPECT_EQ(piece.level(), 1);
  EXPECT_EQ(piece.paddr(), piece_pa);
  EXPECT_EQ(alloc_->RefCount(piece_pa), 514u);
  huge.Reset();
  piece.Reset();
  for (int i = 0; i < 511; ++i) alloc_->ReleaseRaw(HostPhysAddr(base.value() + i * kPageSize));
  EXPECT_TRUE(alloc_->IsAllocated(base));
  Frame last = Frame::FromRaw(*alloc_, HostPhysAddr(base.value() + 511 * kPageSize), 1);
  EXPECT_EQ(last.ref_count(), 1u);
  last.Reset();
  EXPECT_FALSE(alloc_->IsAllocated(base));
  EXPECT_EQ(alloc_->free_frames(), initial_free_);
}

TEST_F(FrameTest, RunsOutCleanlyAndRecovers) {
  std::vector<Frame> frames;
  while (true) {
    auto f = alloc_->Alloc();
    if (!f.ok()) {
      EXPECT_EQ(f.error(), Error::kNoMemory);
      break;
    }
    frames.push_back(std::move(f).value());
  }
  EXPECT_EQ(frames.size(), initial_free_);
  EXPECT_EQ(alloc_->free_frames(), 0u);
  EXPECT_EQ(alloc_->Alloc(2).error(), Error::kNoMemory);
  frames.clear();
  EXPECT_EQ(alloc_->free_frames(), initial_free_);
  EXPECT_TRUE(alloc_->Alloc(2).ok());
}

TEST_F(FrameTest, PageTablePagesAreBlocksOfTheRequestedOrder) {
  const HostPhysAddr root = alloc_->AllocPageTable(2).value();
  EXPECT_TRUE(root.IsAligned(4 * kPageSize));
  EXPECT_EQ(alloc_->free_frames(), initial_free_ - 4);
  EXPECT_EQ(alloc_->meta(root).state, internal::FrameState::kPageTable);
  alloc_->FreePageTable(root);
  EXPECT_EQ(alloc_->free_frames(), initial_free_);
}

TEST_F(FrameTest, RejectsBadInput) {
  EXPECT_EQ(alloc_->Alloc(0).error(), Error::kInvalidArgs);
  EXPECT_EQ(alloc_->Alloc(4).error(), Error::kInvalidArgs);
  const ArenaPhysMem phys = arena_->phys();
  EXPECT_EQ(FrameAllocator::Create(phys, HostPhysAddr(phys.phys_base().value() + 1), kPageSize * 4)
                .error(),
            Error::kInvalidArgs);
  EXPECT_EQ(FrameAllocator::Create(phys, phys.phys_base(), kPageSize + 8).error(),
            Error::kInvalidArgs);
  EXPECT_EQ(
      FrameAllocator::Create(phys, HostPhysAddr(~uint64_t{0} & ~(kPageSize - 1)), 2 * kPageSize)
          .error(),
      Error::kInvalidArgs);
  // One frame cannot hold its own metadata and another frame.
  EXPECT_EQ(FrameAllocator::Create(phys, phys.phys_base(), kPageSize).error(), Error::kNoMemory);
}

TEST_F(FrameTest, MisuseIsCaught) {
  Frame f = alloc_->Alloc().value();
  const HostPhysAddr pa = f.paddr();
  f.Reset();
  EXPECT_DEATH(Frame::FromRaw(*alloc_, pa, 1), "free frame");
  EXPECT_DEATH(Frame::CloneFromRaw(*alloc_, pa, 1), "freed frame");
  EXPECT_DEATH(alloc_->ReleaseRaw(pa), "released more often");
  EXPECT_DEATH(alloc_->meta(HostPhysAddr(arena_->phys_base().value() + kArenaSize)), "not managed");
}

TEST(HostArenaTest, PhysToVirtIsLinearAndBounded) {
  HostArena arena = HostArena::Create(kGiB).value();
  const ArenaPhysMem phys = arena.phys();
  EXPECT_EQ(phys.phys_base(), HostArena::kDefaultPhysBase);
  auto* first = static_cast<std::byte*>(phys.PhysToVirt(arena.phys_base()));
  auto* later = static_cast<std::byte*>(
      phys.PhysToVirt(HostPhysAddr(arena.phys_base().value() + 3 * kPageSize + 8)));
  EXPECT_EQ(later - first, static_cast<std::ptrdiff_t>(3 * kPageSize + 8));
  EXPECT_EQ(phys.VirtToPhys(later).value(), arena.phys_base().value() + 3 * kPageSize + 8);
  EXPECT_DEATH(phys.PhysToVirt(HostPhysAddr(arena.phys_base().value() + kGiB)),
               "outside the arena");
  EXPECT_EQ(HostArena::Create(kPageSize + 1).error(), Error::kInvalidArgs);
}

}  // namespace
}  // namespace hv::mm
