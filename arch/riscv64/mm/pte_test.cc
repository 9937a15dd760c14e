// RISC-V Sv39/Sv48/Sv39x4/Sv48x4 entries: exact bits for each
// PageProperty, and the way back.
#include <arch/riscv64/mm/pte.h>
#include <gtest/gtest.h>

namespace hv::arch::riscv64 {
namespace {

using mm::CachePolicy;
using mm::PageFlags;
using mm::PageProperty;
using mm::PrivilegedPageFlags;

using Sv39 = Sv39PteFormat<>;
using Sv48 = Sv48PteFormat<>;
using Sv39x4 = Sv39x4PteFormat<>;
using Sv48x4 = Sv48x4PteFormat<>;
using Sv39Pbmt = Sv39PteFormat<PteOptions{.svpbmt = true}>;

constexpr HostPhysAddr kPa(0x8123'4000);
constexpr uint64_t kPpnBits = (0x8123'4000 >> 12) << 10;

TEST(RiscvPte, Geometry) {
  EXPECT_EQ(Sv39::kNumLevels, 3);
  EXPECT_EQ(Sv48::kNumLevels, 4);
  EXPECT_EQ(Sv39::kRootEntries, 512u);
  EXPECT_EQ(Sv39x4::kRootEntries, 2048u);
  EXPECT_EQ(Sv48x4::kRootEntries, 2048u);
  EXPECT_EQ(Sv39::kAddrBits, 39u);
  EXPECT_EQ(Sv48::kAddrBits, 48u);
  EXPECT_EQ(Sv39x4::kAddrBits, 41u);
  EXPECT_EQ(Sv48x4::kAddrBits, 50u);
  EXPECT_TRUE(Sv39::kSignExtended);
  EXPECT_FALSE(Sv39x4::kSignExtended);
  EXPECT_EQ(Sv39::kTranslationMode, 8u);
  EXPECT_EQ(Sv48x4::kTranslationMode, 9u);
}

TEST(RiscvPte, ReadWriteUserPage) {
  const PageProperty prop{.flags = PageFlags::kRW | PageFlags::kAccessed | PageFlags::kDirty,
                          .priv_flags = PrivilegedPageFlags::kUser};
  const mm::Pte pte = Sv39::MakeLeaf(kPa, 1, prop);
  EXPECT_EQ(pte, kPpnBits | kPteV | kPteR | kPteW | kPteU | kPteA | kPteD);
  EXPECT_TRUE(Sv39::IsLeaf(pte, 1));
  EXPECT_EQ(Sv39::LeafPaddr(pte, 1), kPa);
  EXPECT_EQ(Sv39::LeafProperty(pte, 1), prop);
}

TEST(RiscvPte, TablesCarryOnlyV) {
  const mm::Pte table = Sv48::MakeTable(kPa);
  EXPECT_EQ(table, kPpnBits | kPteV);
  EXPECT_FALSE(Sv48::IsLeaf(table, 3));
  EXPECT_EQ(Sv48::TablePaddr(table), kPa);
  EXPECT_EQ(Sv48x4::MakeTable(kPa), kPpnBits | kPteV);
}

TEST(RiscvPte, GlobalAndExecuteOnly) {
  const PageProperty prop{.flags = PageFlags::kX, .priv_flags = PrivilegedPageFlags::kGlobal};
  const mm::Pte pte = Sv39::MakeLeaf(kPa, 2, prop);
  EXPECT_EQ(pte, kPpnBits | kPteV | kPteX | kPteG);
  EXPECT_EQ(Sv39::LeafProperty(pte, 2), prop);
}

TEST(RiscvPte, WriteImpliesRead) {
  const mm::Pte pte = Sv39::MakeLeaf(kPa, 1, PageProperty::New(PageFlags::kW));
  EXPECT_EQ(pte & (kPteR | kPteW), kPteR | kPteW);
  EXPECT_EQ(Sv39::LeafProperty(pte, 1).flags, PageFlags::kRW);
}

TEST(RiscvPte, WithoutAccessRightsTheLeafIsInvalidButStaysALeaf) {
  const PageProperty none{.flags = PageFlags::kDirty};
  const mm::Pte pte = Sv39::MakeLeaf(kPa, 1, none);
  EXPECT_EQ(pte, kPpnBits | kPteSwNoAccess | kPteD);
  EXPECT_EQ(pte & kPteV, 0u);
  EXPECT_TRUE(Sv39::IsPresent(pte));
  EXPECT_TRUE(Sv39::IsLeaf(pte, 1));
  EXPECT_EQ(Sv39::LeafProperty(pte, 1), none);
}

TEST(RiscvPte, GStageForcesUserAndDropsGlobal) {
  const PageProperty prop{.flags = PageFlags::kRWX, .priv_flags = PrivilegedPageFlags::kGlobal};
  const mm::Pte pte = Sv39x4::MakeLeaf(kPa, 1, prop);
  EXPECT_EQ(pte, kPpnBits | kPteV | kPteR | kPteW | kPteX | kPteU);
  EXPECT_EQ(Sv39x4::LeafProperty(pte, 1), PageProperty::New(PageFlags::kRWX));
  EXPECT_NE(Sv48x4::MakeLeaf(kPa, 3, PageProperty::New(PageFlags::kR)) & kPteU, 0u);
}

TEST(RiscvPte, CachePolicyNeedsSvpbmt) {
  for (CachePolicy cache :
       {CachePolicy::kWriteBack, CachePolicy::kWriteCombining, CachePolicy::kUncacheable}) {
    const mm::Pte plain = Sv39::MakeLeaf(kPa, 1, PageProperty::New(PageFlags::kR, cache));
    EXPECT_EQ(plain & kPtePbmtMask, 0u);
    EXPECT_EQ(Sv39::LeafProperty(plain, 1).cache, CachePolicy::kWriteBack);
    const mm::Pte pbmt = Sv39Pbmt::MakeLeaf(kPa, 1, PageProperty::New(PageFlags::kR, cache));
    EXPECT_EQ(Sv39Pbmt::LeafProperty(pbmt, 1).cache, cache);
  }
  EXPECT_EQ(
      Sv39Pbmt::MakeLeaf(kPa, 1, PageProperty::New(PageFlags::kR, CachePolicy::kUncacheable)) &
          kPtePbmtMask,
      kPtePbmtIo);
  EXPECT_EQ(
      Sv39Pbmt::MakeLeaf(kPa, 1, PageProperty::New(PageFlags::kR, CachePolicy::kWriteCombining)) &
          kPtePbmtMask,
      kPtePbmtNc);
  // Tables never carry a memory type.
  EXPECT_EQ(Sv39Pbmt::MakeTable(kPa) & kPtePbmtMask, 0u);
}

TEST(RiscvPte, IoMarkerIsRswBit8) {
  const PageProperty prop{.flags = PageFlags::kRW, .priv_flags = PrivilegedPageFlags::kAvail1};
  const mm::Pte pte = Sv48::MakeLeaf(kPa, 1, prop);
  EXPECT_EQ(pte & (kPteSwIo | kPteSwNoAccess), kPteSwIo);
  EXPECT_EQ(Sv48::LeafProperty(pte, 1), prop);
}

TEST(RiscvPte, PhysicalAddressesUpTo56Bits) {
  const HostPhysAddr high((uint64_t{1} << 55) | 0x4000'0000);
  const mm::Pte pte = Sv39::MakeLeaf(high, 3, PageProperty::New(PageFlags::kR));
  EXPECT_EQ(Sv39::LeafPaddr(pte, 3), high);
  EXPECT_EQ(pte >> 54, 0u);
}

}  // namespace
}  // namespace hv::arch::riscv64
