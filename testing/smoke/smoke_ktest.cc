#include <hv/base/format.h>
#include <hv/base/result.h>
#include <ktest/ktest.h>

TEST(Smoke, Arithmetic) { EXPECT_EQ(6 * 7, 42); }
TEST(Smoke, Format) {
  char buf[32];
  EXPECT_EQ(hv::Format(buf, sizeof(buf), "%d-%#x-%s", -5, 255u, "ok"), 10u);
  EXPECT_EQ(std::string_view(buf), std::string_view("-5-0xff-ok"));
}
