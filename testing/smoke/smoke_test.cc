// The hosted half of the smoke tests: one GoogleTest binary that runs on the
// host and, cross-built, under qemu-riscv64.
#include <gtest/gtest.h>

#include <hv/base/format.h>
#include <hv/base/result.h>

namespace hv {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Error::kInvalidArgs;
  return x / 2;
}

Result<int> Quarter(int x) {
  const int half = HV_TRY(Half(x));
  return HV_TRY(Half(half));
}

TEST(Smoke, ResultPropagatesErrors) {
  EXPECT_EQ(Quarter(8).value(), 2);
  ASSERT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).error(), Error::kInvalidArgs);
  EXPECT_STREQ(ErrorName(Quarter(6).error()), "kInvalidArgs");
}

TEST(Smoke, FormatMatchesSnprintf) {
  char ours[64];
  char libc[64];
  const struct {
    const char* fmt;
    long value;
  } cases[] = {{"%ld", -42},   {"%5ld|", 7},  {"%-5ld|", 7}, {"%05ld", -7},
               {"%lx", 0xabc}, {"%#lx", 255}, {"%#lo", 8},   {"%lu", 0}};
  for (const auto& c : cases) {
    const size_t n = Format(ours, sizeof(ours), c.fmt, c.value);
    const int m = snprintf(libc, sizeof(libc), c.fmt, c.value);
    EXPECT_EQ(n, static_cast<size_t>(m)) << c.fmt;
    EXPECT_STREQ(ours, libc) << c.fmt;
  }
}

TEST(Smoke, ValueOfErrorPanics) {
  Result<int> r = Error::kOutOfRange;
  EXPECT_DEATH((void)r.value(), "value\\(\\) on an error");
}

#if defined(__riscv)
TEST(Smoke, RunsOnRiscv64) { SUCCEED() << "running under qemu-riscv64"; }
#endif

}  // namespace
}  // namespace hv
