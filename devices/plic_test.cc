#include <devices/plic.h>
#include <gtest/gtest.h>

#include <map>

namespace hv::devices {
namespace {

class Outputs final : public PlicTarget {
 public:
  void SetExternalInterrupt(uint32_t context, bool pending) override {
    level[context] = pending;
    ++changes;
  }
  std::map<uint32_t, bool> level;
  int changes = 0;
};

constexpr uint64_t Priority(uint32_t s) { return 4 * s; }
constexpr uint64_t Enable(uint32_t c, uint32_t w) { return 0x2000 + 0x80 * c + 4 * w; }
constexpr uint64_t Threshold(uint32_t c) { return 0x200000 + 0x1000 * c; }
constexpr uint64_t Claim(uint32_t c) { return 0x200004 + 0x1000 * c; }

class PlicTest : public ::testing::Test {
 protected:
  PlicTest() : plic_(4, &out_) {}
  void W(uint64_t off, uint32_t v) { ASSERT_TRUE(plic_.Write(off, 4, v).ok()); }
  uint32_t R(uint64_t off) { return static_cast<uint32_t>(plic_.Read(off, 4).value()); }

  Outputs out_;
  Plic plic_;
};

TEST_F(PlicTest, ALevelRaisesTheEnabledContextAboveThreshold) {
  W(Priority(10), 1);
  W(Enable(1, 0), 1u << 10);  // hart 0, S-mode
  plic_.SetIrqLevel(10, true);
  EXPECT_TRUE(out_.level[1]);
  EXPECT_FALSE(out_.level[0]);  // M-mode context: not enabled
  EXPECT_EQ(R(0x1000), 1u << 10);
  // Raising the threshold to the priority masks it.
  W(Threshold(1), 1);
  EXPECT_FALSE(out_.level[1]);
  W(Threshold(1), 0);
  EXPECT_TRUE(out_.level[1]);
}

// A machine reset forgets the guest's configuration and claims; a source
// whose device still holds its line high is pending again.
TEST_F(PlicTest, ResetClearsTheGuestsStateButNotTheLevels) {
  W(Priority(10), 3);
  W(Priority(11), 3);
  W(Enable(1, 0), (1u << 10) | (1u << 11));
  plic_.SetIrqLevel(10, true);
  plic_.SetIrqLevel(11, true);
  EXPECT_EQ(R(Claim(1)), 10u);  // 10 claimed (not pending), 11 still pending
  EXPECT_EQ(R(0x1000), 1u << 11);
  EXPECT_TRUE(out_.level[1]);
  plic_.SetIrqLevel(11, false);  // 11's device lowers its line
  plic_.Reset();
  EXPECT_FALSE(out_.level[1]);
  EXPECT_EQ(R(Priority(10)), 0u);
  EXPECT_EQ(R(Enable(1, 0)), 0u);
  EXPECT_EQ(R(Threshold(1)), 0u);
  EXPECT_EQ(R(0x1000), 1u << 10);  // line 10 is still high: pending again, unclaimed
  W(Priority(10), 1);
  W(Enable(1, 0), 1u << 10);
  EXPECT_TRUE(out_.level[1]);
  EXPECT_EQ(R(Claim(1)), 10u);
}

TEST_F(PlicTest, ClaimCompleteFollowsTheGateway) {
  W(Priority(10), 1);
  W(Enable(1, 0), 1u << 10);
  plic_.SetIrqLevel(10, true);
  EXPECT_EQ(R(Claim(1)), 10u);
  EXPECT_FALSE(out_.level[1]);  // claimed: no longer pending
  EXPECT_EQ(R(Claim(1)), 0u);   // nothing else
  // Still asserted at completion: pending again.
  W(Claim(1), 10);
  EXPECT_TRUE(out_.level[1]);
  EXPECT_EQ(R(Claim(1)), 10u);
  plic_.SetIrqLevel(10, false);
  W(Claim(1), 10);
  EXPECT_FALSE(out_.level[1]);
  EXPECT_EQ(R(0x1000), 0u);
}

TEST_F(PlicTest, HighestPriorityWinsAndTiesGoToTheLowestId) {
  for (uint32_t s : {3u, 5u, 40u}) W(Priority(s), s == 40 ? 6 : 2);
  W(Enable(1, 0), (1u << 3) | (1u << 5));
  W(Enable(1, 1), 1u << (40 - 32));
  for (uint32_t s : {3u, 5u, 40u}) plic_.SetIrqLevel(s, true);
  EXPECT_EQ(R(Claim(1)), 40u);
  EXPECT_EQ(R(Claim(1)), 3u);
  EXPECT_EQ(R(Claim(1)), 5u);
}

TEST_F(PlicTest, SourceZeroAndTheTopBitsAreHardwired) {
  W(Enable(1, 0), ~0u);
  EXPECT_EQ(R(Enable(1, 0)), ~1u);
  W(Enable(1, 2), ~0u);  // sources 64..95
  EXPECT_EQ(R(Enable(1, 2)), ~0u);
  W(Priority(0), 7);
  EXPECT_EQ(R(Priority(0)), 0u);
  W(Priority(1), 0xff);
  EXPECT_EQ(R(Priority(1)), 7u);
}

TEST_F(PlicTest, GuestControlledAccessesAreChecked) {
  EXPECT_EQ(plic_.Read(Priority(1), 8).error(), Error::kInvalidArgs);
  EXPECT_EQ(plic_.Read(Priority(1) + 1, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(plic_.Read(Priority(96), 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(plic_.Read(Enable(4, 0), 4).error(), Error::kInvalidArgs);  // no context 4
  EXPECT_EQ(plic_.Write(Threshold(4), 4, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(plic_.Read(Threshold(0) + 8, 4).error(), Error::kInvalidArgs);
  // Completing a bogus source is ignored, not a crash.
  EXPECT_TRUE(plic_.Write(Claim(1), 4, 0xffffffff).ok());
  EXPECT_TRUE(plic_.Write(Claim(1), 4, 0).ok());
  // A device wired to a source that does not exist is ignored.
  plic_.SetIrqLevel(1000, true);
  EXPECT_EQ(out_.changes, 0);
}

}  // namespace
}  // namespace hv::devices
