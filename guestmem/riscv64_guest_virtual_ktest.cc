// HLV/HLVX/HSV guest-virtual access on the real hart, with the guest's
// translation in Bare mode at both stages (vsatp = hgatp = 0), so a guest
// address is a machine physical address: real RAM works, an address with
// nothing behind it fails cleanly and the hypervisor carries on.
#include <arch/layout.h>
#include <guestmem/riscv64_guest_virtual.h>
#include <ktest/ktest.h>

namespace hv::guestmem {
namespace {

alignas(8) std::byte g_buffer[64];

GuestVirtAddr GuestAddressOf(const void* p) {
  return GuestVirtAddr(arch::KernelVirtToPhys(HostVirtFromPtr(p)).value());
}

TEST(Riscv64GuestVirtual, ReadsAndWritesRealMemory) {
  Riscv64GuestVirtualMemory guest;
  for (int i = 0; i < 64; ++i) g_buffer[i] = static_cast<std::byte>(i);
  std::byte out[20];
  // Unaligned start: bytes, then words.
  ASSERT_EQ(guest.ReadVirt(GuestAddressOf(g_buffer + 3), out).value(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(out[i], static_cast<std::byte>(i + 3));
  const std::byte in[11] = {std::byte{0xaa}, std::byte{0xbb}};
  ASSERT_EQ(guest.WriteVirt(GuestAddressOf(g_buffer + 8), in).value(), 11u);
  EXPECT_EQ(g_buffer[8], std::byte{0xaa});
  EXPECT_EQ(g_buffer[9], std::byte{0xbb});
  EXPECT_EQ(g_buffer[19], std::byte{19});
}

TEST(Riscv64GuestVirtual, FetchReadsInstructionHalfwords) {
  Riscv64GuestVirtualMemory guest;
  // The code of this very test is executable memory.
  const auto* code = reinterpret_cast<const std::byte*>(&HostVirtFromPtr);
  std::byte insn[4];
  ASSERT_EQ(guest.FetchVirt(GuestAddressOf(code), insn).value(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(insn[i], code[i]);
  EXPECT_EQ(guest.FetchVirt(GuestVirtAddr(0x80200001), insn).error().code, Error::kInvalidArgs);
}

TEST(Riscv64GuestVirtual, AnAddressWithNothingBehindItIsACleanError) {
  Riscv64GuestVirtualMemory guest;
  std::byte out[16];
  // Physical 0x2_0000 lies between the mask ROM and the test device of the
  // virt board: nothing answers there.
  EXPECT_EQ(guest.ReadVirt(GuestVirtAddr(0x2'0000), out).error(),
            (CopyError{Error::kPageFault, 0}));
  EXPECT_EQ(guest.WriteVirt(GuestVirtAddr(0x2'0000), out).error(),
            (CopyError{Error::kPageFault, 0}));
  std::byte insn[4];
  EXPECT_EQ(guest.FetchVirt(GuestVirtAddr(0x2'0000), insn).error(),
            (CopyError{Error::kPageFault, 0}));
  // And the hypervisor carries on.
  EXPECT_EQ(guest.ReadVirt(GuestAddressOf(g_buffer), out).value(), 16u);
}

}  // namespace
}  // namespace hv::guestmem
