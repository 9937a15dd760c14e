// Host tests of VmSpace: the page-table formats by short name, every space
// configuration as a GoogleTest type list with readable names, and a
// fixture base that builds one space of a configuration over a simulated
// physical arena with the fake MMU, active on CPU 0, and checks at the end
// that every frame went back to the allocator.
#ifndef MM_TESTING_ARENA_SPACE_H_
#define MM_TESTING_ARENA_SPACE_H_

#include <arch/riscv64/mm/pte.h>
#include <arch/x86_64/mm/pte.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <type_traits>

#include <mm/frame.h>
#include <mm/host_arena.h>
#include <mm/testing/fake_mmu.h>
#include <mm/vm_space.h>

namespace hv::mm::testing {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;

using Sv39 = arch::riscv64::Sv39PteFormat<>;
using Sv39Pbmt = arch::riscv64::Sv39PteFormat<arch::riscv64::PteOptions{.svpbmt = true}>;
using Sv48 = arch::riscv64::Sv48PteFormat<>;
using Sv39x4 = arch::riscv64::Sv39x4PteFormat<>;
using Sv48x4 = arch::riscv64::Sv48x4PteFormat<>;
using X86 = arch::x86_64::X86PteFormat;
using Npt = arch::x86_64::NptPteFormat;

// Every format in the kind of space it serves: host spaces (virtual
// addresses, lower half) and guest stage-2 spaces (guest-physical).
using AllSpaceConfigs =
    ::testing::Types<HostSpaceConfig<Sv39>, HostSpaceConfig<Sv39Pbmt>, HostSpaceConfig<Sv48>,
                     GuestSpaceConfig<Sv39x4>, GuestSpaceConfig<Sv48x4>, HostSpaceConfig<X86>,
                     GuestSpaceConfig<Npt>>;

// TYPED_TEST_SUITE names: the format's.
class SpaceConfigNames {
 public:
  template <typename Config>
  static std::string GetName(int) {
    using F = typename Config::Format;
    if constexpr (std::is_same_v<F, Sv39>) return "Sv39";
    if constexpr (std::is_same_v<F, Sv39Pbmt>) return "Sv39Svpbmt";
    if constexpr (std::is_same_v<F, Sv48>) return "Sv48";
    if constexpr (std::is_same_v<F, Sv39x4>) return "Sv39x4";
    if constexpr (std::is_same_v<F, Sv48x4>) return "Sv48x4";
    if constexpr (std::is_same_v<F, X86>) return "X86_64";
    if constexpr (std::is_same_v<F, Npt>) return "Npt";
    return "unknown";
  }
};

// One space of `Config` over an arena of kArenaSize bytes. A derived
// fixture that keeps frames drops them in ReleaseFrames(), which TearDown
// calls after destroying the space and before counting the free frames.
template <typename Config, uint64_t kArenaSize>
class ArenaSpaceTest : public ::testing::Test {
 protected:
  using SpaceT = VmSpace<Config, ArenaPhysMem>;
  using FormatT = typename Config::Format;
  using VaddrT = typename Config::Vaddr;
  using RangeT = AddrRange<VaddrT>;

  void SetUp() override {
    FakeMmu::SetCurrentCpu(0);
    arena_.emplace(HostArena::Create(kArenaSize).value());
    alloc_ = FrameAllocator::Create(arena_->phys(), arena_->phys_base(), kArenaSize).value();
    initial_free_ = alloc_->free_frames();
    space_.emplace(SpaceT::Create(*alloc_, arena_->phys(), mmu_).value());
    space_->Activate();
  }

  void TearDown() override {
    if (space_) {
      space_->Deactivate();
      space_.reset();
    }
    ReleaseFrames();
    // Everything the test allocated is back: frames, tables, the root.
    EXPECT_EQ(alloc_->free_frames(), initial_free_);
  }

  virtual void ReleaseFrames() {}

  static RangeT R(uint64_t start, uint64_t size) { return *RangeT::Create(VaddrT(start), size); }

  std::optional<HostArena> arena_;
  FrameAllocator* alloc_ = nullptr;
  uint64_t initial_free_ = 0;
  FakeMmu mmu_;
  std::optional<SpaceT> space_;
};

}  // namespace hv::mm::testing

#endif  // MM_TESTING_ARENA_SPACE_H_
