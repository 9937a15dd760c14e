// An image that never finishes: the runner's negative test must time out.
#include <ktest/ktest.h>

TEST(RunnerNegative, Hangs) {
  volatile bool forever = true;
  while (forever) {
  }
}
