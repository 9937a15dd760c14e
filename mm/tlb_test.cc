// TlbFlusher batching and deferred release, and the Mmu activation record,
// against the fake MMU.
#include <gtest/gtest.h>

#include <mm/frame.h>
#include <mm/host_arena.h>
#include <mm/testing/fake_mmu.h>
#include <mm/tlb.h>

namespace hv::mm {
namespace {

using testing::FakeMmu;

TEST(TlbFlushOp, Covers) {
  const TlbFlushOp single = TlbFlushOp::ForSingle(0x5123);
  EXPECT_EQ(single.start(), 0x5000u);
  EXPECT_EQ(single.num_pages(), 1u);
  EXPECT_TRUE(single.Covers(0x5fff));
  EXPECT_FALSE(single.Covers(0x6000));
  EXPECT_FALSE(single.Covers(0x4fff));
  const TlbFlushOp top = TlbFlushOp::ForRange(~uint64_t{0} - 2 * kPageSize + 1, 2 * kPageSize);
  EXPECT_TRUE(top.Covers(~uint64_t{0}));
  EXPECT_FALSE(top.Covers(0));
  EXPECT_TRUE(TlbFlushOp::ForAll().Covers(12345));
  EXPECT_TRUE(TlbFlushOp::ForRangeAndTables(0, kPageSize).frees_tables());
}

class TlbFlusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    arena_.emplace(HostArena::Create(16 << 20).value());
    alloc_ = FrameAllocator::Create(arena_->phys(), arena_->phys_base(), 16 << 20).value();
    FakeMmu::SetCurrentCpu(0);
  }

  std::optional<HostArena> arena_;
  FrameAllocator* alloc_ = nullptr;
  FakeMmu mmu_;
  AtomicCpuSet cpus_;
};

TEST_F(TlbFlusherTest, BatchesAndMergesUntilDispatch) {
  cpus_.Add(0);
  cpus_.Add(3);
  TlbFlusher flusher(mmu_, cpus_, /*asid=*/7);
  flusher.IssueTlbFlush(TlbFlushOp::ForSingle(0x1000));
  flusher.IssueTlbFlush(TlbFlushOp::ForSingle(0x2000));  // contiguous: merged
  flusher.IssueTlbFlush(TlbFlushOp::ForSingle(0x9000));
  EXPECT_EQ(flusher.num_pending_ops(), 2u);
  EXPECT_EQ(mmu_.num_flushes(), 0u);
  flusher.DispatchTlbFlush();
  ASSERT_EQ(mmu_.num_flushes(), 1u);
  const FakeMmu::FlushRecord record = mmu_.flushes()[0];
  EXPECT_EQ(record.cpus, CpuSet::FromBits(0b1001));
  EXPECT_EQ(record.asid, 7);
  ASSERT_EQ(record.ops.size(), 2u);
  EXPECT_EQ(record.ops[0], TlbFlushOp::ForRange(0x1000, 2 * kPageSize));
  EXPECT_EQ(record.ops[1], TlbFlushOp::ForSingle(0x9000));
  EXPECT_FALSE(flusher.has_pending());
  flusher.DispatchTlbFlush();
  EXPECT_EQ(mmu_.num_flushes(), 1u) << "nothing pending, nothing flushed";
}

TEST_F(TlbFlusherTest, BecomesAFullFlushAboveTheThreshold) {
  cpus_.Add(0);
  TlbFlusher flusher(mmu_, cpus_, 0);
  for (uint64_t i = 0; i < TlbFlusher::kFullFlushThresholdPages; ++i) {
    flusher.IssueTlbFlush(TlbFlushOp::ForSingle(i * 2 * kPageSize));  // not contiguous
    if (i < TlbFlusher::kMaxOps) {
      EXPECT_FALSE(flusher.pending_full_flush()) << i;
    }
  }
  EXPECT_TRUE(flusher.pending_full_flush()) << "more ranges than kMaxOps";
  flusher.DispatchTlbFlush();
  ASSERT_EQ(mmu_.num_flushes(), 1u);
  EXPECT_EQ(mmu_.flushes()[0].ops, std::vector{TlbFlushOp::ForAll()});

  flusher.IssueTlbFlush(TlbFlushOp::ForRange(0, TlbFlusher::kFullFlushThresholdPages * kPageSize));
  EXPECT_FALSE(flusher.pending_full_flush());
  flusher.IssueTlbFlush(TlbFlushOp::ForSingle(0x100000));
  EXPECT_TRUE(flusher.pending_full_flush()) << "more pages than the threshold";
}

TEST_F(TlbFlusherTest, FramesAreReleasedOnlyAfterTheFlush) {
  cpus_.Add(0);
  Frame frame = alloc_->Alloc().value();
  const HostPhysAddr pa = frame.paddr();
  bool flushed_while_alive = false;
  mmu_.set_on_flush([&](const FakeMmu::FlushRecord& record) {
    flushed_while_alive = record.Covers(0x4000) && alloc_->IsAllocated(pa);
  });
  TlbFlusher flusher(mmu_, cpus_, 0);
  flusher.IssueTlbFlushWith(TlbFlushOp::ForSingle(0x4000), std::move(frame));
  EXPECT_TRUE(alloc_->IsAllocated(pa)) << "released before any flush";
  flusher.DispatchTlbFlush();
  EXPECT_TRUE(flushed_while_alive);
  EXPECT_FALSE(alloc_->IsAllocated(pa)) << "not released after the flush";
}

TEST_F(TlbFlusherTest, TooManyDeferredFramesDispatchEarly) {
  cpus_.Add(0);
  TlbFlusher flusher(mmu_, cpus_, 0);
  for (size_t i = 0; i < TlbFlusher::kMaxDeferredFrames; ++i) {
    flusher.IssueTlbFlushWith(TlbFlushOp::ForSingle(i * kPageSize), alloc_->Alloc().value());
  }
  EXPECT_EQ(mmu_.num_flushes(), 1u);
  EXPECT_FALSE(flusher.has_pending());
}

TEST_F(TlbFlusherTest, InactiveSpaceReleasesWithoutFlushing) {
  Frame frame = alloc_->Alloc().value();
  const HostPhysAddr pa = frame.paddr();
  {
    TlbFlusher flusher(mmu_, cpus_, 0);
    flusher.IssueTlbFlushWith(TlbFlushOp::ForSingle(0), std::move(frame));
  }  // the destructor dispatches
  EXPECT_EQ(mmu_.num_flushes(), 0u);
  EXPECT_FALSE(alloc_->IsAllocated(pa));
}

TEST_F(TlbFlusherTest, DestructorDispatches) {
  cpus_.Add(2);
  { TlbFlusher(mmu_, cpus_, 0).IssueTlbFlush(TlbFlushOp::ForSingle(0x7000)); }
  EXPECT_TRUE(mmu_.Flushed(0x7000, 2));
}

TEST(MmuTest, ActivationMovesTheCpuBetweenSpaces) {
  FakeMmu mmu;
  AtomicCpuSet a_cpus;
  AtomicCpuSet b_cpus;
  const int a = 0;
  const int b = 0;
  FakeMmu::SetCurrentCpu(1);
  mmu.ActivateSpace(&a, a_cpus, HostPhysAddr(0x1000), 1);
  EXPECT_EQ(mmu.ActiveSpace(1), &a);
  EXPECT_EQ(a_cpus.Load(), CpuSet::Single(1));
  mmu.ActivateSpace(&a, a_cpus, HostPhysAddr(0x1000), 1);
  EXPECT_EQ(mmu.activations().size(), 1u) << "re-activating the active space does nothing";

  FakeMmu::SetCurrentCpu(2);
  mmu.ActivateSpace(&a, a_cpus, HostPhysAddr(0x1000), 1);
  EXPECT_EQ(a_cpus.Load(), CpuSet::FromBits(0b110));

  FakeMmu::SetCurrentCpu(1);
  mmu.ActivateSpace(&b, b_cpus, HostPhysAddr(0x2000), 2);
  EXPECT_EQ(mmu.ActiveSpace(1), &b);
  EXPECT_EQ(a_cpus.Load(), CpuSet::Single(2));
  EXPECT_EQ(b_cpus.Load(), CpuSet::Single(1));

  mmu.DeactivateSpace(&a);  // not active on CPU 1: nothing happens
  EXPECT_EQ(mmu.ActiveSpace(1), &b);
  mmu.DeactivateSpace(&b);
  EXPECT_EQ(mmu.ActiveSpace(1), nullptr);
  EXPECT_TRUE(b_cpus.Load().empty());

  const std::vector<FakeMmu::Activation> expected = {
      {1, HostPhysAddr(0x1000), 1},
      {2, HostPhysAddr(0x1000), 1},
      {1, HostPhysAddr(0x2000), 2},
      {1, HostPhysAddr(), 0},
  };
  EXPECT_EQ(mmu.activations(), expected);
  FakeMmu::SetCurrentCpu(0);
}

}  // namespace
}  // namespace hv::mm
