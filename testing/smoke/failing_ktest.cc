// An image that must fail: the runner's negative test boots it.
#include <ktest/ktest.h>

TEST(RunnerNegative, ReportsFailure) { EXPECT_EQ(1 + 1, 3) << "deliberate failure"; }
