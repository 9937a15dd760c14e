// x86_64 and NPT entries: exact bits for each PageProperty, and the way
// back.
#include <arch/x86_64/mm/pte.h>
#include <gtest/gtest.h>

namespace hv::arch::x86_64 {
namespace {

using mm::CachePolicy;
using mm::PageFlags;
using mm::PageProperty;
using mm::PrivilegedPageFlags;

constexpr HostPhysAddr kPa(0x1234'5000);
constexpr HostPhysAddr kHugePa(0x4020'0000);

TEST(X86Pte, ReadWriteUserPage) {
  const PageProperty prop{.flags = PageFlags::kRW | PageFlags::kAccessed | PageFlags::kDirty,
                          .priv_flags = PrivilegedPageFlags::kUser};
  const mm::Pte pte = X86PteFormat::MakeLeaf(kPa, 1, prop);
  EXPECT_EQ(pte, 0x1234'5000 | kPteP | kPteRw | kPteUs | kPteA | kPteD | kPteNx);
  EXPECT_TRUE(X86PteFormat::IsPresent(pte));
  EXPECT_TRUE(X86PteFormat::IsLeaf(pte, 1));
  EXPECT_EQ(X86PteFormat::LeafPaddr(pte, 1), kPa);
  EXPECT_EQ(X86PteFormat::LeafProperty(pte, 1), prop);
}

TEST(X86Pte, ExecutableGlobalKernelPageHasNoNxNoUs) {
  const PageProperty prop{.flags = PageFlags::kRX, .priv_flags = PrivilegedPageFlags::kGlobal};
  const mm::Pte pte = X86PteFormat::MakeLeaf(kPa, 1, prop);
  EXPECT_EQ(pte, 0x1234'5000 | kPteP | kPteG);
  EXPECT_EQ(X86PteFormat::LeafProperty(pte, 1), prop);
}

TEST(X86Pte, CachePoliciesUseTheFixedPatLayout) {
  const auto bits = [](CachePolicy cache) {
    return X86PteFormat::MakeLeaf(kPa, 1, PageProperty::New(PageFlags::kR, cache)) &
           (kPtePwt | kPtePcd | (uint64_t{1} << 7));
  };
  EXPECT_EQ(bits(CachePolicy::kWriteBack), 0u);
  EXPECT_EQ(bits(CachePolicy::kWriteCombining), kPtePwt);
  EXPECT_EQ(bits(CachePolicy::kUncacheable), kPtePwt | kPtePcd);
  // PAT index 1 (PWT) must be WC (01h) and index 3 (PCD|PWT) UC (00h);
  // index 0 WB (06h).
  EXPECT_EQ((kPatMsrValue >> 0) & 0xff, 0x06u);
  EXPECT_EQ((kPatMsrValue >> 8) & 0xff, 0x01u);
  EXPECT_EQ((kPatMsrValue >> 24) & 0xff, 0x00u);
  for (CachePolicy cache :
       {CachePolicy::kWriteBack, CachePolicy::kWriteCombining, CachePolicy::kUncacheable}) {
    for (mm::PagingLevel level = 1; level <= 3; ++level) {
      const mm::Pte pte =
          X86PteFormat::MakeLeaf(kHugePa, level, PageProperty::New(PageFlags::kR, cache));
      EXPECT_EQ(X86PteFormat::LeafProperty(pte, level).cache, cache);
    }
  }
}

TEST(X86Pte, HugeLeavesSetPsAndMaskTheirAddress) {
  const PageProperty prop = PageProperty::New(PageFlags::kRW);
  const mm::Pte pte2 = X86PteFormat::MakeLeaf(kHugePa, 2, prop);
  EXPECT_EQ(pte2, 0x4020'0000 | kPteP | kPteRw | kPtePs | kPteNx);
  EXPECT_TRUE(X86PteFormat::IsLeaf(pte2, 2));
  EXPECT_EQ(X86PteFormat::LeafPaddr(pte2, 2), kHugePa);
  const mm::Pte pte3 = X86PteFormat::MakeLeaf(HostPhysAddr(0x8000'0000), 3, prop);
  EXPECT_TRUE(X86PteFormat::IsLeaf(pte3, 3));
  EXPECT_EQ(X86PteFormat::LeafPaddr(pte3, 3).value(), 0x8000'0000u);
  // A table entry at level 2 is not a leaf; PML4 entries never are.
  const mm::Pte table = X86PteFormat::MakeTable(kPa);
  EXPECT_EQ(table, 0x1234'5000 | kPteP | kPteRw | kPteUs);
  EXPECT_FALSE(X86PteFormat::IsLeaf(table, 2));
  EXPECT_FALSE(X86PteFormat::IsLeaf(table | kPtePs, 4));
  EXPECT_EQ(X86PteFormat::TablePaddr(table), kPa);
}

TEST(X86Pte, WithoutAccessRightsTheLeafIsNotPresentButStaysALeaf) {
  const PageProperty none{.flags = PageFlags::kAccessed};
  const mm::Pte pte = X86PteFormat::MakeLeaf(kHugePa, 2, none);
  EXPECT_EQ(pte & kPteP, 0u);
  EXPECT_EQ(pte, 0x4020'0000 | kPteSwNoAccess | kPteA | kPtePs | kPteNx);
  EXPECT_TRUE(X86PteFormat::IsPresent(pte));
  EXPECT_TRUE(X86PteFormat::IsLeaf(pte, 2));
  EXPECT_EQ(X86PteFormat::LeafProperty(pte, 2), none);
}

TEST(X86Pte, ReadsAreImpliedByAnyAccess) {
  const mm::Pte pte = X86PteFormat::MakeLeaf(kPa, 1, PageProperty::New(PageFlags::kW));
  EXPECT_EQ(X86PteFormat::LeafProperty(pte, 1).flags, PageFlags::kRW);
}

TEST(X86Pte, IoMarkerIsTheAvlBit) {
  const PageProperty prop{.flags = PageFlags::kRW,
                          .cache = CachePolicy::kUncacheable,
                          .priv_flags = PrivilegedPageFlags::kAvail1};
  const mm::Pte pte = X86PteFormat::MakeLeaf(kPa, 1, prop);
  EXPECT_NE(pte & kPteSwIo, 0u);
  EXPECT_EQ(X86PteFormat::LeafProperty(pte, 1), prop);
}

TEST(NptPte, UserBitOnEveryLevelAndNoGlobal) {
  const PageProperty prop{.flags = PageFlags::kRWX, .priv_flags = PrivilegedPageFlags::kGlobal};
  const mm::Pte leaf = NptPteFormat::MakeLeaf(kPa, 1, prop);
  EXPECT_EQ(leaf, 0x1234'5000 | kPteP | kPteRw | kPteUs);
  EXPECT_NE(NptPteFormat::MakeTable(kPa) & kPteUs, 0u);
  // U is a format requirement, not a property: it does not read back.
  EXPECT_EQ(NptPteFormat::LeafProperty(leaf, 1), PageProperty::New(PageFlags::kRWX));
  EXPECT_FALSE(NptPteFormat::kSignExtended);
  EXPECT_TRUE(X86PteFormat::kSignExtended);
}

}  // namespace
}  // namespace hv::arch::x86_64
