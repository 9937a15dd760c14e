// The smallest guest: boots under the hypervisor, prints through the SBI
// console and shuts down through SBI SRST.
#include <ktest/ktest.h>

TEST(HelloGuest, Boots) { EXPECT_EQ(1 + 1, 2); }
