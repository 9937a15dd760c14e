// A software walk of x86_64 guest page tables built in (hosted) guest RAM.
#include <gtest/gtest.h>
#include <guestmem/guest_virtual.h>
#include <guestmem/hosted_memory.h>

#include <cstring>
#include <vector>

namespace hv::guestmem {
namespace {

constexpr uint64_t kP = 1, kW = 2, kU = 4, kPS = 0x80, kNX = 1ull << 63;
constexpr uint64_t kPml4 = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kPt = 0x4000;

class X86_64GuestPagingTest : public ::testing::Test {
 protected:
  X86_64GuestPagingTest() {
    const HostedGuestMemory::RegionSpec spec[] = {{GuestPhysAddr(0), 8 << 20}};
    memory_.emplace(HostedGuestMemory::Create(spec).value());
    Set(kPml4, 0, kPdpt | kP | kW | kU);
    Set(kPdpt, 0, kPd | kP | kW | kU);
    // gva 0x40000000: a 1 GiB page onto gpa 0.
    Set(kPdpt, 1, 0x0 | kP | kW | kU | kPS);
    // gva 0x400000 (PD index 2): a page table.
    Set(kPd, 2, kPt | kP | kW | kU);
    Set(kPt, 0, 0x10000 | kP | kW | kU);        // gva 0x400000 -> gpa 0x10000, rw user
    Set(kPt, 1, 0x11000 | kP | kU);             // gva 0x401000 -> gpa 0x11000, read-only
    Set(kPt, 2, 0x12000 | kP | kW);             // gva 0x402000 -> supervisor only
    Set(kPt, 3, 0x13000 | kP | kW | kU | kNX);  // gva 0x403000 -> no execute
    // PT entry 4 (gva 0x404000) is not present.
    // gva 0x600000 (PD index 3): a 2 MiB page onto gpa 0x200000.
    Set(kPd, 3, 0x200000 | kP | kW | kU | kPS);
    // gva 0x800000 (PD index 4): a 2 MiB page with a reserved bit (13) set.
    Set(kPd, 4, 0x202000 | kP | kW | kU | kPS);
    // gva 0xa00000 (PD index 5): a table outside guest RAM.
    Set(kPd, 5, 0x4000'0000'0000 | kP | kW | kU);
  }

  void Set(uint64_t table, int index, uint64_t entry) {
    ASSERT_TRUE(memory_->WriteObj<uint64_t>(GuestPhysAddr(table + index * 8), entry).ok());
  }
  X86_64GuestPaging Paging(bool user = false) {
    return X86_64GuestPaging(*memory_, X86_64PagingState{.cr3 = kPml4, .user = user});
  }
  using Access = X86_64GuestPaging::Access;

  std::optional<HostedGuestMemory> memory_;
};

TEST_F(X86_64GuestPagingTest, FourKilobytePages) {
  auto m = Paging().Translate(GuestVirtAddr(0x400123), Access::kRead).value();
  EXPECT_EQ(m.gpa, GuestPhysAddr(0x10123));
  EXPECT_EQ(m.page_size, 4096u);
  EXPECT_EQ(m.limit, 4096u - 0x123);
}

TEST_F(X86_64GuestPagingTest, TwoMegabyteAndOneGigabytePages) {
  auto two = Paging().Translate(GuestVirtAddr(0x6abcde), Access::kWrite).value();
  EXPECT_EQ(two.gpa, GuestPhysAddr(0x2abcde));
  EXPECT_EQ(two.page_size, 2u << 20);
  EXPECT_EQ(two.limit, 0x800000u - 0x6abcde);
  auto one = Paging().Translate(GuestVirtAddr(0x40012345), Access::kExecute).value();
  EXPECT_EQ(one.gpa, GuestPhysAddr(0x12345));
  EXPECT_EQ(one.page_size, 1u << 30);
}

TEST_F(X86_64GuestPagingTest, ReadsThroughThePageTablesMatchPhysicalMemory) {
  const char text[] = "guest-virtual bytes";
  ASSERT_TRUE(memory_->WriteBuffer(GuestPhysAddr(0x10ff8), std::as_bytes(std::span(text))).ok());
  std::vector<std::byte> out(sizeof(text));
  // gva 0x400ff8 -> gpa 0x10ff8, and the next page gva 0x401000 -> gpa 0x11000.
  ASSERT_EQ(Paging().ReadVirt(GuestVirtAddr(0x400ff8), out).value(), sizeof(text));
  EXPECT_EQ(std::memcmp(out.data(), text, 8), 0);
  // The same bytes through the 1 GiB page.
  std::vector<std::byte> again(8);
  ASSERT_TRUE(Paging().ReadVirt(GuestVirtAddr(0x40010ff8), again).ok());
  EXPECT_EQ(std::memcmp(again.data(), text, 8), 0);
}

TEST_F(X86_64GuestPagingTest, ANonPresentPageStopsTheCopyWithTheExactCount) {
  std::vector<std::byte> out(64);
  // gva 0x403ff0..0x404030: 16 bytes mapped, then the non-present PT entry 4.
  CopyResult r = Paging().ReadVirt(GuestVirtAddr(0x403ff0), out);
  EXPECT_EQ(r.error(), (CopyError{Error::kPageFault, 16}));
  // Non-present at the PML4 and PDPT levels.
  EXPECT_EQ(Paging().Translate(GuestVirtAddr(0x8000'0000'0000 - 4096), Access::kRead).error(),
            Error::kPageFault);
  EXPECT_EQ(Paging().Translate(GuestVirtAddr(0x80000000), Access::kRead).error(),
            Error::kPageFault);
}

TEST_F(X86_64GuestPagingTest, PermissionsAreEnforced) {
  const std::byte b[1] = {};
  // Read-only page: writes fault (CR0.WP set), reads are fine.
  EXPECT_EQ(Paging().WriteVirt(GuestVirtAddr(0x401000), b).error(),
            (CopyError{Error::kPageFault, 0}));
  EXPECT_TRUE(Paging().Translate(GuestVirtAddr(0x401000), Access::kRead).ok());
  // CR0.WP clear: the supervisor may write read-only pages.
  X86_64GuestPaging no_wp(*memory_, X86_64PagingState{.cr3 = kPml4, .write_protect = false});
  EXPECT_TRUE(no_wp.Translate(GuestVirtAddr(0x401000), Access::kWrite).ok());
  // Supervisor-only page: user accesses fault.
  EXPECT_TRUE(Paging().Translate(GuestVirtAddr(0x402000), Access::kRead).ok());
  EXPECT_EQ(Paging(/*user=*/true).Translate(GuestVirtAddr(0x402000), Access::kRead).error(),
            Error::kPageFault);
  // No-execute page: fetches fault, reads do not.
  std::vector<std::byte> insn(4);
  EXPECT_EQ(Paging().FetchVirt(GuestVirtAddr(0x403000), insn).error(),
            (CopyError{Error::kPageFault, 0}));
  EXPECT_TRUE(Paging().ReadVirt(GuestVirtAddr(0x403000), insn).ok());
}

TEST_F(X86_64GuestPagingTest, MalformedInputIsAnError) {
  // Non-canonical address.
  EXPECT_EQ(Paging().Translate(GuestVirtAddr(0x0000'8000'0000'0000), Access::kRead).error(),
            Error::kInvalidArgs);
  // Reserved bits in a 2 MiB page entry.
  EXPECT_EQ(Paging().Translate(GuestVirtAddr(0x800000), Access::kRead).error(), Error::kPageFault);
  // A page table outside guest RAM.
  EXPECT_EQ(Paging().Translate(GuestVirtAddr(0xa00000), Access::kRead).error(), Error::kOutOfRange);
  // A CR3 outside guest RAM.
  X86_64GuestPaging wild(*memory_, X86_64PagingState{.cr3 = 0x7000'0000'0000});
  EXPECT_EQ(wild.Translate(GuestVirtAddr(0x400000), Access::kRead).error(), Error::kOutOfRange);
  // gva + len wraps.
  std::vector<std::byte> out(16);
  EXPECT_EQ(Paging().ReadVirt(GuestVirtAddr(~uint64_t{0} - 3), out).error().code,
            Error::kInvalidArgs);
}

}  // namespace
}  // namespace hv::guestmem
