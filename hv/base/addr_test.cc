#include <hv/base/addr.h>

#include <gtest/gtest.h>

#include <type_traits>

namespace hv {
namespace {

// Kinds of address never convert into each other or into integers.
static_assert(!std::is_convertible_v<GuestPhysAddr, HostPhysAddr>);
static_assert(!std::is_convertible_v<HostPhysAddr, HostVirtAddr>);
static_assert(!std::is_convertible_v<GuestPhysAddr, uint64_t>);
static_assert(!std::is_convertible_v<uint64_t, GuestPhysAddr>);
static_assert(!std::is_constructible_v<HostVirtAddr, GuestVirtAddr>);

TEST(Addr, CheckedArithmeticRefusesToWrap) {
  const GuestPhysAddr top(~uint64_t{0} - 3);
  EXPECT_EQ(top.CheckedAdd(3)->value(), ~uint64_t{0});
  EXPECT_FALSE(top.CheckedAdd(4).has_value());
  EXPECT_FALSE(GuestPhysAddr(5).CheckedSub(6).has_value());
  EXPECT_EQ(GuestPhysAddr(5).CheckedSub(5)->value(), 0u);
}

TEST(Addr, Alignment) {
  EXPECT_TRUE(HostPhysAddr(0x2000).IsAligned(0x1000));
  EXPECT_FALSE(HostPhysAddr(0x2001).IsAligned(2));
  EXPECT_EQ(HostPhysAddr(0x2fff).AlignDown(0x1000).value(), 0x2000u);
  EXPECT_EQ(HostPhysAddr(0x2001).AlignUp(0x1000)->value(), 0x3000u);
  EXPECT_FALSE(HostPhysAddr(~uint64_t{0} - 10).AlignUp(0x1000).has_value());
}

TEST(AddrRange, CreateRefusesWrappingRanges) {
  EXPECT_FALSE(AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(~uint64_t{0}), 2).has_value());
  EXPECT_FALSE(AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(2), ~uint64_t{0}).has_value());
  EXPECT_TRUE(AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(1), ~uint64_t{0}).has_value());
  // The last byte of the address space is a valid one-byte range.
  const auto last = AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(~uint64_t{0}), 1);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->last().value(), ~uint64_t{0});
  EXPECT_TRUE(last->Contains(GuestPhysAddr(~uint64_t{0})));
  const auto all = AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(0), ~uint64_t{0});
  ASSERT_TRUE(all.has_value());
  EXPECT_FALSE(all->Contains(GuestPhysAddr(~uint64_t{0})));
}

TEST(AddrRange, ContainmentAndOverlap) {
  const auto r = *AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(0x1000), 0x1000);
  EXPECT_TRUE(r.Contains(GuestPhysAddr(0x1000)));
  EXPECT_TRUE(r.Contains(GuestPhysAddr(0x1fff)));
  EXPECT_FALSE(r.Contains(GuestPhysAddr(0x2000)));
  EXPECT_FALSE(r.Contains(GuestPhysAddr(0xfff)));
  EXPECT_TRUE(r.Contains(*AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(0x1800), 0x800)));
  EXPECT_FALSE(r.Contains(*AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(0x1800), 0x801)));
  EXPECT_TRUE(r.Overlaps(*AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(0x1fff), 10)));
  EXPECT_FALSE(r.Overlaps(*AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(0x2000), 10)));
  EXPECT_FALSE(r.Overlaps(*AddrRange<GuestPhysAddr>::Create(GuestPhysAddr(0x1800), 0)));
}

}  // namespace
}  // namespace hv
