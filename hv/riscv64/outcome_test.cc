#include <gtest/gtest.h>
#include <hv/riscv64/outcome.h>

#include <string>

namespace hv::riscv64 {
namespace {

TEST(Expectation, CleanShutdownNeedsReasonNone) {
  const Expectation expect = Expectation::CleanShutdown();
  EXPECT_TRUE(expect.Matches({.end = VmEnd::kShutdown}));
  EXPECT_FALSE(
      expect.Matches({.end = VmEnd::kShutdown, .shutdown = ShutdownReason::kSystemFailure}));
  EXPECT_FALSE(expect.Matches({.end = VmEnd::kReboot}));
  EXPECT_FALSE(expect.Matches({.end = VmEnd::kStopped, .stop = StopReason::kHalted}));
  EXPECT_FALSE(expect.Matches({.end = VmEnd::kStillRunning}));
}

TEST(Expectation, AfterRebootsChecksTheCount) {
  const Expectation expect = Expectation::CleanShutdown().AfterReboots(2);
  EXPECT_TRUE(expect.Matches({.end = VmEnd::kShutdown, .reboots = 2}));
  EXPECT_FALSE(expect.Matches({.end = VmEnd::kShutdown, .reboots = 1}));
  EXPECT_FALSE(expect.Matches({.end = VmEnd::kShutdown}));
  EXPECT_FALSE(expect.Matches({.end = VmEnd::kReboot, .reboots = 2}));
  // Without AfterReboots, the count does not matter.
  EXPECT_TRUE(Expectation::CleanShutdown().Matches({.end = VmEnd::kShutdown, .reboots = 3}));
  char text[96];
  EXPECT_STREQ(DescribeOutcome({.end = VmEnd::kShutdown, .reboots = 2}, text),
               "shutdown (reason: none) after 2 reboot(s)");
  EXPECT_STREQ(DescribeExpectation(expect, text), "shutdown (reason: none) after 2 reboot(s)");
}

TEST(Expectation, StoppedChecksReasonAndAddress) {
  const Expectation expect = Expectation::Stopped(StopReason::kOutsideRamAndDevices, 0x9000'0000);
  VmOutcome outcome{.end = VmEnd::kStopped,
                    .stop = StopReason::kOutsideRamAndDevices,
                    .gpa = 0x9000'0000,
                    .pc = 0x8000'0100};
  EXPECT_TRUE(expect.Matches(outcome));
  outcome.gpa = 0x9000'0008;
  EXPECT_FALSE(expect.Matches(outcome));
  EXPECT_TRUE(Expectation::Stopped(StopReason::kOutsideRamAndDevices).Matches(outcome));
  outcome.stop = StopReason::kBadMmioInstruction;
  EXPECT_FALSE(Expectation::Stopped(StopReason::kOutsideRamAndDevices).Matches(outcome));
}

TEST(Expectation, Describes) {
  char buf[128];
  EXPECT_EQ(
      std::string(DescribeOutcome(
          {.end = VmEnd::kStopped, .stop = StopReason::kFetchOutsideRam, .gpa = 0x10, .pc = 0x10},
          buf)),
      "stopped: instruction fetch outside RAM (gpa 0x10, pc 0x10)");
  EXPECT_EQ(std::string(DescribeExpectation(Expectation::CleanShutdown(), buf)),
            "shutdown (reason: none)");
  EXPECT_EQ(std::string(DescribeExpectation(Expectation::StillRunning(), buf)), "still running");
}

}  // namespace
}  // namespace hv::riscv64
