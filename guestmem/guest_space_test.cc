// GuestSpace over the page-table engine on a simulated physical arena, for
// the riscv64 G-stage (Sv39x4) and AMD NPT formats.
#include <arch/riscv64/mm/pte.h>
#include <arch/x86_64/mm/pte.h>
#include <gtest/gtest.h>
#include <guestmem/guest_space.h>
#include <mm/host_arena.h>
#include <mm/testing/fake_mmu.h>

#include <cstring>
#include <random>
#include <vector>

namespace hv::guestmem {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kRam = 0x8000'0000;

template <typename F>
class GuestSpaceTest : public ::testing::Test {
 protected:
  using Space = GuestSpace<F, mm::ArenaPhysMem>;

  GuestSpaceTest() {
    mm::testing::FakeMmu::SetCurrentCpu(0);
    arena_.emplace(mm::HostArena::Create(64 * kMiB, HostPhysAddr(0x4000'0000)).value());
    frames_ = mm::FrameAllocator::Create(arena_->phys(), arena_->phys_base(), 64 * kMiB).value();
    space_.emplace(Space::Create(*frames_, arena_->phys(), mmu_, /*vmid=*/3).value());
  }
  ~GuestSpaceTest() override { space_.reset(); }

  // The host bytes behind gpa, found independently through the table.
  std::byte* HostOf(uint64_t gpa) {
    Translation t = space_->TranslateAndGetLimit(GuestPhysAddr(gpa)).value();
    return PtrFromHostVirt<std::byte>(t.hva);
  }

  std::optional<mm::HostArena> arena_;
  mm::FrameAllocator* frames_ = nullptr;
  mm::testing::FakeMmu mmu_;
  std::optional<Space> space_;
};

using Formats = ::testing::Types<arch::riscv64::Sv39x4PteFormat<>, arch::x86_64::NptPteFormat>;
TYPED_TEST_SUITE(GuestSpaceTest, Formats);

TYPED_TEST(GuestSpaceTest, RamIsZeroedAndTheLimitRunsToTheEndOfTheLeaf) {
  const uint64_t before = this->frames_->free_frames();
  // 2 MiB + 8 KiB: one huge leaf, then two 4 KiB leaves.
  ASSERT_TRUE(this->space_->MapRam(GuestPhysAddr(kRam), 2 * kMiB + 8192).ok());
  // 512 + 2 guest frames, plus the page-table pages on the way (at most one
  // per level below the root).
  EXPECT_GE(before - this->frames_->free_frames(), 512u + 2u);
  EXPECT_LE(before - this->frames_->free_frames(), 512u + 2u + 3u);
  Translation t = this->space_->TranslateAndGetLimit(GuestPhysAddr(kRam + 0x1234)).value();
  EXPECT_EQ(t.limit, 2 * kMiB - 0x1234);
  t = this->space_->TranslateAndGetLimit(GuestPhysAddr(kRam + 2 * kMiB + 4096 + 10)).value();
  EXPECT_EQ(t.limit, 4096u - 10);
  std::vector<std::byte> out(64, std::byte{0xff});
  ASSERT_TRUE(this->space_->ReadBuffer(GuestPhysAddr(kRam + 2 * kMiB - 32), out).ok());
  for (std::byte b : out) EXPECT_EQ(b, std::byte{0});
}

TYPED_TEST(GuestSpaceTest, WritesLandInTheMappedFrames) {
  ASSERT_TRUE(this->space_->MapRam(GuestPhysAddr(kRam), 4 * 4096).ok());
  const char text[] = "across a page boundary";
  ASSERT_TRUE(
      this->space_->WriteBuffer(GuestPhysAddr(kRam + 4096 - 6), std::as_bytes(std::span(text)))
          .ok());
  EXPECT_EQ(std::memcmp(this->HostOf(kRam + 4096 - 6), text, 6), 0);
  EXPECT_EQ(std::memcmp(this->HostOf(kRam + 4096), text + 6, sizeof(text) - 6), 0);
  EXPECT_EQ(this->space_->template ReadObj<uint64_t>(GuestPhysAddr(kRam + 4096 - 2)).value(),
            this->space_->template ReadObj<uint64_t>(GuestPhysAddr(kRam + 4096 - 2)).value());
}

TYPED_TEST(GuestSpaceTest, HolesAndTheEndOfRamStopCopiesExactly) {
  ASSERT_TRUE(this->space_->MapRam(GuestPhysAddr(kRam), 8192).ok());
  ASSERT_TRUE(this->space_->MapRam(GuestPhysAddr(kRam + 3 * 4096), 4096).ok());
  std::vector<std::byte> out(100);
  EXPECT_EQ(this->space_->ReadBuffer(GuestPhysAddr(kRam + 8192 - 40), out).error(),
            (CopyError{Error::kOutOfRange, 40}));
  EXPECT_EQ(this->space_->WriteBuffer(GuestPhysAddr(kRam + 4 * 4096 - 1), out).error(),
            (CopyError{Error::kOutOfRange, 1}));
  EXPECT_EQ(this->space_->TranslateAndGetLimit(GuestPhysAddr(0)).error(), Error::kOutOfRange);
  // Past the space's guest-physical range (G-stage Sv39x4: 2^41; NPT: 2^48).
  EXPECT_EQ(this->space_->TranslateAndGetLimit(GuestPhysAddr(uint64_t{1} << 60)).error(),
            Error::kOutOfRange);
}

TYPED_TEST(GuestSpaceTest, PassthroughDeviceMemoryIsNotRam) {
  const mm::IoMem io = mm::IoMem::Create(HostPhysAddr(0x1000'0000), 0x1000).value();
  ASSERT_TRUE(this->space_->MapIoMem(GuestPhysAddr(0x1000'0000), io, 0x1000, 0).ok());
  EXPECT_EQ(this->space_->TranslateAndGetLimit(GuestPhysAddr(0x1000'0008)).error(),
            Error::kAccessDenied);
  EXPECT_EQ(this->space_->template ReadObj<uint32_t>(GuestPhysAddr(0x1000'0000)).error(),
            Error::kAccessDenied);
  EXPECT_TRUE(this->space_->space().FindIoMemByPaddr(HostPhysAddr(0x1000'0004)).has_value());
}

TYPED_TEST(GuestSpaceTest, BadRequestsChangeNothing) {
  ASSERT_TRUE(this->space_->MapRam(GuestPhysAddr(kRam), 8192).ok());
  const uint64_t free = this->frames_->free_frames();
  EXPECT_EQ(this->space_->MapRam(GuestPhysAddr(kRam + 4096), 8192).error(), Error::kAlreadyExists);
  EXPECT_EQ(this->space_->MapRam(GuestPhysAddr(kRam + 1), 4096).error(), Error::kInvalidArgs);
  EXPECT_EQ(this->space_->MapRam(GuestPhysAddr(kRam), 100).error(), Error::kInvalidArgs);
  EXPECT_EQ(this->space_->MapRam(GuestPhysAddr(kRam), 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(this->space_->MapRam(GuestPhysAddr(~uint64_t{0} - 4095), 8192).error(),
            Error::kInvalidArgs);
  EXPECT_EQ(this->space_->MapRam(GuestPhysAddr(uint64_t{1} << 60), 4096).error(),
            Error::kOutOfRange);
  EXPECT_EQ(this->frames_->free_frames(), free);
}

TYPED_TEST(GuestSpaceTest, UnmapTakesRamAwayAndFreesItAfterTheFlush) {
  const uint64_t before = this->frames_->free_frames();
  ASSERT_TRUE(this->space_->MapRam(GuestPhysAddr(kRam), 4 * 4096).ok());
  // Active (as when the guest runs): the unmap must flush the CPU.
  this->space_->space().Activate();
  const size_t flushes = this->mmu_.num_flushes();
  EXPECT_EQ(this->space_->Unmap(GuestPhysAddr(kRam + 4096), 2 * 4096).value(), 2u);
  EXPECT_TRUE(this->mmu_.Flushed(kRam + 4096, 0, flushes));
  EXPECT_TRUE(this->mmu_.Flushed(kRam + 2 * 4096, 0, flushes));
  EXPECT_FALSE(this->mmu_.Flushed(kRam, 0, flushes));
  this->space_->space().Deactivate();
  EXPECT_EQ(this->space_->TranslateAndGetLimit(GuestPhysAddr(kRam + 4096)).error(),
            Error::kOutOfRange);
  EXPECT_TRUE(this->space_->TranslateAndGetLimit(GuestPhysAddr(kRam + 3 * 4096)).ok());
  EXPECT_EQ(this->space_->Unmap(GuestPhysAddr(kRam), 4 * 4096).value(), 2u);
  // All guest frames are back (the page-table pages may stay for reuse).
  EXPECT_LE(before - this->frames_->free_frames(), 8u);
}

TYPED_TEST(GuestSpaceTest, RandomAccessMatchesAFlatModel) {
  // 1 MiB of RAM in three pieces with holes between them.
  struct Piece {
    uint64_t gpa, size;
  };
  const Piece pieces[] = {
      {kRam, 256 * 1024}, {kRam + 512 * 1024, 256 * 1024}, {kRam + 768 * 1024, 256 * 1024}};
  for (const Piece& p : pieces) {
    ASSERT_TRUE(this->space_->MapRam(GuestPhysAddr(p.gpa), p.size).ok());
  }
  auto in_ram = [&](uint64_t gpa) {
    for (const Piece& p : pieces) {
      if (gpa >= p.gpa && gpa < p.gpa + p.size) return true;
    }
    return false;
  };
  std::vector<std::byte> model(1 << 20, std::byte{0});
  std::mt19937_64 rng(7);
  std::vector<std::byte> buf;
  for (int op = 0; op < 20000; ++op) {
    const uint64_t off = rng() % model.size();
    const size_t len = static_cast<size_t>(rng() % 5000);
    if (off + len > model.size()) continue;
    size_t expect = 0;
    while (expect < len && in_ram(kRam + off + expect)) ++expect;
    buf.resize(len);
    if (rng() % 2) {
      for (auto& b : buf) b = static_cast<std::byte>(rng());
      CopyResult r = this->space_->WriteBuffer(GuestPhysAddr(kRam + off), buf);
      ASSERT_EQ(r.ok() ? r.value() : r.error().done, expect);
      std::memcpy(model.data() + off, buf.data(), expect);
    } else {
      CopyResult r = this->space_->ReadBuffer(GuestPhysAddr(kRam + off), buf);
      ASSERT_EQ(r.ok() ? r.value() : r.error().done, expect);
      ASSERT_EQ(std::memcmp(buf.data(), model.data() + off, expect), 0);
    }
  }
}

}  // namespace
}  // namespace hv::guestmem
