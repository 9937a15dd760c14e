#include <hv/base/format.h>
#include <hv/base/result.h>
#include <ktest/ktest.h>

TEST(Smoke, Arithmetic) { EXPECT_EQ(6 * 7, 42); }
TEST(Smoke, Format) {
  char buf[32];
  EXPECT_EQ(hv::Format(buf, sizeof(buf), "%d-%#x-%s", -5, 255u, "ok"), 10u);
  EXPECT_EQ(std::string_view(buf), std::string_view("-5-0xff-ok"));
}

#include <arch/layout.h>

namespace {
int g_in_image = 1;
}  // namespace

// The kernel runs in the upper half with physical memory in the direct map.
TEST(Smoke, KernelRunsInTheUpperHalf) {
  const hv::HostVirtAddr va = hv::HostVirtFromPtr(&g_in_image);
  EXPECT_GE(va.value(), hv::arch::kUserSpaceEnd);
  const hv::HostPhysAddr pa = hv::arch::KernelVirtToPhys(va);
  // The same byte, reached through the direct map.
  volatile int* alias = hv::PtrFromHostVirt<volatile int>(hv::arch::PhysToVirt(pa));
  *alias = 42;
  EXPECT_EQ(g_in_image, 42);
}
