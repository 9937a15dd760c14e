// A guest's G-stage space (Sv39x4) on the real hart: guest RAM mapped by the
// page-table engine, read and written through the GuestMemoryAccessor, and
// reached by the hypervisor load/store instructions through hgatp. An
// address the space does not map is a clean error (a guest-page fault taken
// and fixed up), and the hypervisor carries on.
#include <arch/riscv64/mm/mmu.h>
#include <arch/riscv64/mm/pte.h>
#include <guestmem/guest_space.h>
#include <guestmem/riscv64_guest_virtual.h>
#include <hv/kmem/kmem.h>
#include <ktest/ktest.h>

namespace hv::guestmem {
namespace {

using Sv39x4 = arch::riscv64::Sv39x4PteFormat<>;
using Space = GuestSpace<Sv39x4, mm::DirectMapPhysMem>;

constexpr uint64_t kRam = 0x8000'0000;
constexpr uint64_t kRamSize = (2 << 20) + 4 * 4096;  // a 2 MiB leaf and four 4 KiB ones

arch::riscv64::HgatpMmu g_mmu(/*mode=*/8);

kmem::KernelMemory& Memory() { return *kmem::KernelMemory::Init(ktest::Boot()).value(); }

TEST(GuestSpaceKernel, AccessorReadsAndWritesGuestRam) {
  kmem::KernelMemory& kmem = Memory();
  Result<Space> space = Space::Create(kmem.frames(), kmem.phys(), g_mmu, /*vmid=*/1);
  ASSERT_TRUE(space.ok());
  ASSERT_TRUE(space->MapRam(GuestPhysAddr(kRam), kRamSize).ok());
  // Straddling the 2 MiB leaf and the first 4 KiB one.
  const char text[] = "guest RAM through the G-stage table";
  const GuestPhysAddr at(kRam + (2 << 20) - 10);
  ASSERT_EQ(space->WriteBuffer(at, std::as_bytes(std::span(text))).value(), sizeof(text));
  char back[sizeof(text)] = {};
  ASSERT_EQ(space->ReadBuffer(at, std::as_writable_bytes(std::span(back))).value(), sizeof(text));
  EXPECT_EQ(std::string_view(back), std::string_view(text));
  // Past the end of guest RAM: the exact count.
  std::byte out[64];
  EXPECT_EQ(space->ReadBuffer(GuestPhysAddr(kRam + kRamSize - 8), out).error(),
            (CopyError{Error::kOutOfRange, 8}));
}

TEST(GuestSpaceKernel, HlvReachesGuestRamThroughHgatp) {
  kmem::KernelMemory& kmem = Memory();
  Result<Space> space = Space::Create(kmem.frames(), kmem.phys(), g_mmu, /*vmid=*/2);
  ASSERT_TRUE(space.ok());
  ASSERT_TRUE(space->MapRam(GuestPhysAddr(kRam), kRamSize).ok());
  ASSERT_TRUE(space->WriteObj<uint64_t>(GuestPhysAddr(kRam + 0x1000), 0x1122'3344'5566'7788).ok());

  // vsatp is 0 (the guest's MMU off), so guest-virtual = guest-physical and
  // only the G-stage translates.
  space->space().Activate();
  Riscv64GuestVirtualMemory guest;
  uint64_t value = 0;
  EXPECT_EQ(guest.ReadVirt(GuestVirtAddr(kRam + 0x1000), mm::AsWritableBytes(value)).value(), 8u);
  EXPECT_EQ(value, 0x1122'3344'5566'7788u);
  const uint32_t stored = 0xfeedc0de;
  EXPECT_EQ(guest.WriteVirt(GuestVirtAddr(kRam + (2 << 20) + 8), mm::AsBytes(stored)).value(), 4u);

  // Not mapped in the guest's space: a guest-page fault, fixed up.
  std::byte out[16];
  EXPECT_EQ(guest.ReadVirt(GuestVirtAddr(0x9000'0000), out).error(),
            (CopyError{Error::kPageFault, 0}));
  // A read running off the end of guest RAM stops at the exact byte.
  EXPECT_EQ(guest.ReadVirt(GuestVirtAddr(kRam + kRamSize - 5), out).error(),
            (CopyError{Error::kPageFault, 5}));
  EXPECT_EQ(guest.WriteVirt(GuestVirtAddr(0x9000'0000), out).error(),
            (CopyError{Error::kPageFault, 0}));
  std::byte insn[4];
  EXPECT_EQ(guest.FetchVirt(GuestVirtAddr(0x9000'0000), insn).error(),
            (CopyError{Error::kPageFault, 0}));
  space->space().Deactivate();

  // What HSV stored is in guest RAM, as the accessor sees it.
  EXPECT_EQ(space->ReadObj<uint32_t>(GuestPhysAddr(kRam + (2 << 20) + 8)).value(), stored);
}

TEST(GuestSpaceKernel, UnmappedRamIsGoneForHlvToo) {
  kmem::KernelMemory& kmem = Memory();
  Result<Space> space = Space::Create(kmem.frames(), kmem.phys(), g_mmu, /*vmid=*/3);
  ASSERT_TRUE(space.ok());
  ASSERT_TRUE(space->MapRam(GuestPhysAddr(kRam), 4 * 4096).ok());
  space->space().Activate();
  Riscv64GuestVirtualMemory guest;
  uint64_t value = 0;
  ASSERT_TRUE(guest.ReadVirt(GuestVirtAddr(kRam + 4096), mm::AsWritableBytes(value)).ok());
  // Unmapping while active flushes the G-stage TLB (hfence.gvma), so HLV
  // now faults instead of using a stale translation.
  EXPECT_EQ(space->Unmap(GuestPhysAddr(kRam + 4096), 4096).value(), 1u);
  EXPECT_EQ(guest.ReadVirt(GuestVirtAddr(kRam + 4096), mm::AsWritableBytes(value)).error(),
            (CopyError{Error::kPageFault, 0}));
  EXPECT_TRUE(guest.ReadVirt(GuestVirtAddr(kRam), mm::AsWritableBytes(value)).ok());
  space->space().Deactivate();
}

}  // namespace
}  // namespace hv::guestmem
