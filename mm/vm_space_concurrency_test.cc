// Concurrency stress: threads with cursors on disjoint and on overlapping
// ranges of one VmSpace, checked against the final state. Meant to run
// under --config=tsan as well, where a cursor that did not exclude an
// overlapping one shows up as a data race on the per-page model, which
// threads only touch while holding a cursor over the page.
//
// HV_STRESS_OPS (environment) overrides the operations per thread.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include <mm/frame.h>
#include <mm/testing/arena_space.h>
#include <mm/vm_space.h>

namespace hv::mm {
namespace {

using testing::FakeMmu;
using testing::kGiB;
using testing::kMiB;

constexpr int kThreads = 4;

uint64_t Ops() {
  const char* value = std::getenv("HV_STRESS_OPS");
  return value != nullptr ? std::strtoull(value, nullptr, 0) : 4000;
}

// What one page maps, in the model. Written only under a cursor covering
// the page.
struct PageModel {
  uint64_t pa = 0;  // 0: unmapped
  PageFlags flags = PageFlags::kNone;
};

template <typename Config>
class ConcurrencyTest : public testing::ArenaSpaceTest<Config, 256 * kMiB> {
 protected:
  using Base = testing::ArenaSpaceTest<Config, 256 * kMiB>;
  using Base::alloc_;
  using Base::R;
  using Base::space_;
  using typename Base::RangeT;
  using typename Base::SpaceT;
  using typename Base::VaddrT;

  // Each thread's region in the disjoint test is 4 MiB; all regions share
  // one 1 GiB table, so threads race on creating and freeing the tables
  // above their ranges.
  static constexpr uint64_t kBase = 4 * kGiB;
  static constexpr uint64_t kRegion = 4 * kMiB;
  static constexpr uint64_t kPages = kThreads * kRegion / kPageSize;

  void SetUp() override {
    Base::SetUp();
    for (int i = 0; i < 256; ++i) frames_.push_back(alloc_->Alloc().value());
    pages_.assign(kPages, PageModel{});
  }

  void ReleaseFrames() override { frames_.clear(); }
  PageModel& Page(uint64_t va) { return pages_[(va - kBase) / kPageSize]; }

  // Random operations on cursors within [lo, lo + size), updating the model
  // under the cursor. Each cursor stamps the pages it covers with its
  // thread's id and checks them before leaving: two cursors over one page
  // at once would see each other's stamp (and race, for TSAN).
  void Worker(int id, uint64_t lo, uint64_t size, uint64_t seed) {
    FakeMmu::SetCurrentCpu(static_cast<CpuId>(id));
    std::mt19937_64 rng(seed);
    const uint64_t pages = size / kPageSize;
    for (uint64_t op = 0; op < Ops(); ++op) {
      const uint64_t first = rng() % pages;
      const uint64_t count =
          1 + rng() % std::min<uint64_t>(pages - first, rng() % 8 == 0 ? 1024 : 32);
      const uint64_t start = lo + first * kPageSize;
      const uint64_t len = count * kPageSize;
      auto cursor = space_->OpenCursorMut(R(start, len));
      ASSERT_TRUE(cursor.ok()) << ErrorName(cursor.error());
      for (uint64_t p = 0; p < count; ++p) stamp_[first + (lo - kBase) / kPageSize + p] = id + 1;
      switch (rng() % 3) {
        case 0: {
          for (uint64_t p = 0; p < count && p < 8; ++p) {
            const Frame& frame = frames_[rng() % frames_.size()];
            const PageFlags flags = rng() % 2 ? PageFlags::kRW : PageFlags::kR;
            ASSERT_TRUE(cursor->Map(frame, PageProperty::New(flags)).ok());
            Page(start + p * kPageSize) = PageModel{frame.paddr().value(), flags};
          }
          break;
        }
        case 1: {
          uint64_t expected = 0;
          for (uint64_t p = 0; p < count; ++p) {
            PageModel& page = Page(start + p * kPageSize);
            expected += page.pa != 0 ? 1 : 0;
            page = PageModel{};
          }
          auto unmapped = cursor->Unmap(len);
          ASSERT_TRUE(unmapped.ok());
          EXPECT_EQ(*unmapped, expected);
          break;
        }
        default: {
          while (true) {
            const uint64_t left = start + len - cursor->virt_addr().value();
            auto found = cursor->ProtectNext(
                left, [](PageFlags& flags, CachePolicy&) { flags = PageFlags::kR; });
            ASSERT_TRUE(found.ok());
            if (!found->has_value()) break;
            PageModel& page = Page((*found)->start().value());
            EXPECT_NE(page.pa, 0u) << "protected a page the model says is unmapped";
            page.flags = PageFlags::kR;
          }
          break;
        }
      }
      for (uint64_t p = 0; p < count; ++p) {
        uint64_t& stamp = stamp_[first + (lo - kBase) / kPageSize + p];
        ASSERT_EQ(stamp, static_cast<uint64_t>(id + 1)) << "another cursor was in my range";
        stamp = 0;
      }
    }
  }

  void RunThreads(bool overlapping) {
    stamp_.assign(kPages, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      const uint64_t lo = overlapping ? kBase : kBase + t * kRegion;
      const uint64_t size = overlapping ? kThreads * kRegion : kRegion;
      threads.emplace_back([this, t, lo, size] { Worker(t, lo, size, 1000 + t); });
    }
    for (std::thread& thread : threads) thread.join();
  }

  // The table against the model, then unmap everything.
  void CheckFinalState() {
    FakeMmu::SetCurrentCpu(0);
    {
      auto cursor = space_->OpenCursor(R(kBase, kThreads * kRegion)).value();
      for (uint64_t i = 0; i < kPages; ++i) {
        ASSERT_TRUE(cursor.Jump(VaddrT(kBase + i * kPageSize)).ok());
        auto [range, item] = cursor.Query().value();
        if (pages_[i].pa == 0) {
          EXPECT_FALSE(item.has_value()) << "page " << i;
          continue;
        }
        ASSERT_TRUE(item.has_value()) << "page " << i;
        const auto& ram = std::get<MappedRam>(*item);
        EXPECT_EQ(ram.frame.paddr().value(), pages_[i].pa) << "page " << i;
        EXPECT_EQ(ram.prop.flags, pages_[i].flags) << "page " << i;
      }
    }
    const auto stats = space_->CheckInvariants();
    uint64_t mapped = 0;
    std::map<uint64_t, uint32_t> refs;
    for (const PageModel& page : pages_) {
      if (page.pa != 0) {
        ++mapped;
        ++refs[page.pa];
      }
    }
    EXPECT_EQ(stats.tracked_leaves, mapped);
    for (const Frame& frame : frames_)
      EXPECT_EQ(frame.ref_count(), 1 + refs[frame.paddr().value()]);
    {
      auto cursor = space_->OpenCursorMut(R(kBase, kGiB)).value();
      EXPECT_EQ(cursor.Unmap(kGiB).value(), mapped);
    }
    EXPECT_EQ(space_->CheckInvariants().tables, 1u);
    for (const Frame& frame : frames_) EXPECT_EQ(frame.ref_count(), 1u);
  }

  std::vector<Frame> frames_;
  std::vector<PageModel> pages_;
  std::vector<uint64_t> stamp_;
};

// One format of each kind of table: riscv64 host, riscv64 stage 2, x86_64.
using Configs = ::testing::Types<HostSpaceConfig<testing::Sv39>, GuestSpaceConfig<testing::Sv48x4>,
                                 HostSpaceConfig<testing::X86>>;

TYPED_TEST_SUITE(ConcurrencyTest, Configs, testing::SpaceConfigNames);

TYPED_TEST(ConcurrencyTest, DisjointRangesInParallel) {
  this->RunThreads(/*overlapping=*/false);
  this->CheckFinalState();
}

TYPED_TEST(ConcurrencyTest, OverlappingRangesSerialize) {
  this->RunThreads(/*overlapping=*/true);
  this->CheckFinalState();
}

// CPUs activating and leaving the space while another unmaps: every flush
// goes to a set of CPUs that had the space active at some point, and the
// set ends empty.
TYPED_TEST(ConcurrencyTest, ActivationRacesWithShootdowns) {
  using Va = typename TestFixture::VaddrT;
  std::atomic<bool> stop{false};
  std::vector<std::thread> cpus;
  for (CpuId cpu = 1; cpu < 4; ++cpu) {
    cpus.emplace_back([this, cpu, &stop] {
      FakeMmu::SetCurrentCpu(cpu);
      while (!stop.load()) {
        this->space_->Activate();
        this->space_->Deactivate();
      }
    });
  }
  const uint64_t va = this->kBase;
  for (uint64_t i = 0; i < Ops(); ++i) {
    auto cursor = this->space_->OpenCursorMut(this->R(va, 4 * kPageSize)).value();
    ASSERT_TRUE(
        cursor.Map(this->frames_[i % this->frames_.size()], PageProperty::New(PageFlags::kRW))
            .ok());
    ASSERT_TRUE(cursor.Jump(Va(va)).ok());
    EXPECT_EQ(cursor.Unmap(4 * kPageSize).value(), 1u);
  }
  stop = true;
  for (std::thread& thread : cpus) thread.join();
  for (const auto& record : this->mmu_.flushes()) {
    EXPECT_TRUE(record.cpus.Contains(0)) << "CPU 0 had the space active throughout";
    EXPECT_EQ(record.cpus.bits() & ~uint64_t{0xf}, 0u);
  }
  EXPECT_EQ(this->space_->active_cpus(), CpuSet::Single(0));
}

}  // namespace
}  // namespace hv::mm
