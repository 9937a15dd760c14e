// Page-table engine throughput on the host, over a simulated physical arena:
// map then unmap 1 GiB in 4 KiB pages and in 2 MiB pages, and queries.
//
//   bazel run -c opt //mm:page_table_benchmark
//
// The space is active on one (counting) CPU, so unmaps go through the whole
// flush path up to the Mmu hook; the hook itself does nothing, so the
// figures leave out the cost of real TLB invalidations. Frames are
// allocated once, outside the timed loops; map takes a new reference to
// each, unmap drops it after the flush. The "per_page" counters are the
// time per 4 KiB page (per 2 MiB page for the 2 MiB benchmarks).
#include <arch/riscv64/mm/pte.h>
#include <arch/x86_64/mm/pte.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include <mm/frame.h>
#include <mm/host_arena.h>
#include <mm/vm_space.h>

namespace hv::mm {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t k2M = uint64_t{2} << 20;
constexpr uint64_t kVa = 4 * kGiB;

// An Mmu that only counts what it is asked to do.
class CountingMmu final : public Mmu {
 public:
  CpuId CurrentCpu() const override { return 0; }
  void SetRoot(HostPhysAddr, uint16_t) override {}
  void ClearRoot() override {}
  void Flush(CpuSet, std::span<const TlbFlushOp> ops, uint16_t) override {
    flushes_ += 1;
    ops_ += ops.size();
  }
  uint64_t flushes() const { return flushes_; }

 private:
  uint64_t flushes_ = 0;
  uint64_t ops_ = 0;
};

// One arena and space per benchmark run; frames for 1 GiB of either size.
template <typename Config>
class Fixture {
 public:
  using Space = VmSpace<Config, ArenaPhysMem>;
  using Vaddr = typename Config::Vaddr;

  explicit Fixture(PagingLevel level) {
    // 1 GiB of frames, plus room for metadata, page tables and alignment.
    const uint64_t size = 2 * kGiB + 256 * (uint64_t{1} << 20);
    arena_.emplace(HostArena::Create(size).value());
    alloc_ = FrameAllocator::Create(arena_->phys(), arena_->phys_base(), size).value();
    space_.emplace(Space::Create(*alloc_, arena_->phys(), mmu_).value());
    space_->Activate();
    const uint64_t count = kGiB / PageSizeAt(level);
    frames_.reserve(count);
    for (uint64_t i = 0; i < count; ++i) frames_.push_back(alloc_->Alloc(level).value());
  }
  ~Fixture() {
    space_->Deactivate();
    space_.reset();
  }

  typename Space::CursorMut Cursor() {
    return space_->OpenCursorMut(*AddrRange<Vaddr>::Create(Vaddr(kVa), kGiB)).value();
  }
  // Returns how many maps failed (none).
  uint64_t MapAll(typename Space::CursorMut& cursor) {
    const PageProperty prop = PageProperty::New(PageFlags::kRW);
    uint64_t failed = 0;
    for (const Frame& frame : frames_) failed += cursor.Map(frame, prop).ok() ? 0 : 1;
    return failed;
  }
  Space& space() { return *space_; }
  uint64_t pages() const { return frames_.size(); }
  const CountingMmu& mmu() const { return mmu_; }

 private:
  std::optional<HostArena> arena_;
  FrameAllocator* alloc_ = nullptr;
  CountingMmu mmu_;
  std::optional<Space> space_;
  std::vector<Frame> frames_;
};

template <typename Config>
void BM_MapUnmap(benchmark::State& state) {
  const auto level = static_cast<PagingLevel>(state.range(0));
  Fixture<Config> fixture(level);
  for (auto _ : state) {
    auto cursor = fixture.Cursor();
    const uint64_t failed = fixture.MapAll(cursor);
    auto jumped = cursor.Jump(typename Fixture<Config>::Vaddr(kVa));
    auto unmapped = cursor.Unmap(kGiB);
    if (failed != 0 || !jumped.ok() || !unmapped.ok() || *unmapped != fixture.pages()) {
      state.SkipWithError("map or unmap failed");
      break;
    }
  }
  state.counters["per_page"] = benchmark::Counter(
      static_cast<double>(fixture.pages()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["flushes"] = benchmark::Counter(static_cast<double>(fixture.mmu().flushes()),
                                                 benchmark::Counter::kAvgIterations);
}

template <typename Config>
void BM_Map(benchmark::State& state) {
  const auto level = static_cast<PagingLevel>(state.range(0));
  Fixture<Config> fixture(level);
  for (auto _ : state) {
    auto cursor = fixture.Cursor();
    benchmark::DoNotOptimize(fixture.MapAll(cursor));
    state.PauseTiming();
    auto jumped = cursor.Jump(typename Fixture<Config>::Vaddr(kVa));
    auto unmapped = cursor.Unmap(kGiB);
    benchmark::DoNotOptimize(jumped);
    benchmark::DoNotOptimize(unmapped);
    { auto done = std::move(cursor); }
    state.ResumeTiming();
  }
  state.counters["per_page"] = benchmark::Counter(
      static_cast<double>(fixture.pages()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// Queries over 1 GiB mapped in 4 KiB pages: a read-only cursor walking
// page by page (Query, Jump to the next page), or jumping at random.
template <typename Config>
void BM_Query(benchmark::State& state) {
  const bool random = state.range(0) != 0;
  Fixture<Config> fixture(1);
  {
    auto cursor = fixture.Cursor();
    benchmark::DoNotOptimize(fixture.MapAll(cursor));
  }
  using Vaddr = typename Fixture<Config>::Vaddr;
  std::vector<uint64_t> order(fixture.pages());
  for (uint64_t i = 0; i < order.size(); ++i) order[i] = kVa + i * kPageSize;
  if (random) std::shuffle(order.begin(), order.end(), std::mt19937_64(1));
  auto cursor = fixture.space().OpenCursor(*AddrRange<Vaddr>::Create(Vaddr(kVa), kGiB)).value();
  for (auto _ : state) {
    for (uint64_t va : order) {
      auto jumped = cursor.Jump(Vaddr(va));
      auto found = cursor.Query();
      benchmark::DoNotOptimize(jumped);
      benchmark::DoNotOptimize(found);
    }
  }
  state.counters["per_query"] = benchmark::Counter(
      static_cast<double>(order.size()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

using Sv39 = HostSpaceConfig<arch::riscv64::Sv39PteFormat<>>;
using Sv48x4 = GuestSpaceConfig<arch::riscv64::Sv48x4PteFormat<>>;
using X86 = HostSpaceConfig<arch::x86_64::X86PteFormat>;

// Arguments: the leaf level (1: 4 KiB pages, 2: 2 MiB pages).
BENCHMARK_TEMPLATE(BM_MapUnmap, Sv39)
    ->ArgName("level")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_MapUnmap, Sv48x4)
    ->ArgName("level")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_MapUnmap, X86)
    ->ArgName("level")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Map, X86)->ArgName("level")->Arg(1)->Unit(benchmark::kMillisecond);
// Argument: 0 sequential, 1 random order.
BENCHMARK_TEMPLATE(BM_Query, Sv39)
    ->ArgName("random")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Query, X86)->ArgName("random")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hv::mm
