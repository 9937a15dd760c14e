// The guest device tree as a kernel image carries it: embedded by
// dtb_cc_library in the image's read-only data and read with the
// freestanding FDT reader, in HS-mode (riscv64) and on x86_64.
#include <hv/base/std.h>
#include <hv/configs/virt_guest_smp2_dtb.h>
#include <hv/fdt/fdt.h>
#include <hv/fdt/machine.h>
#include <ktest/ktest.h>

namespace {

using hv::fdt::Device;
using hv::fdt::Fdt;
using hv::fdt::Hart;
using hv::fdt::RegEntry;

TEST(VirtGuestDtb, EmbeddedInTheImage) {
  const std::span<const std::byte> dtb = hv::configs::VirtGuestSmp2Dtb();
  // SAFETY: only the address is used, nothing is accessed through it.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(dtb.data()) % 8, 0u);
  // The magic, big-endian, at the first byte.
  EXPECT_EQ(std::to_integer<uint32_t>(dtb[0]), 0xd0u);
  EXPECT_EQ(std::to_integer<uint32_t>(dtb[3]), 0xedu);
}

TEST(VirtGuestDtb, ReadsTheMachine) {
  const hv::Result<Fdt> fdt = Fdt::Create(hv::configs::VirtGuestSmp2Dtb());
  ASSERT_TRUE(fdt.ok());

  RegEntry memory[2];
  ASSERT_EQ(ReadMemory(*fdt, memory).value_or(0), 1u);
  EXPECT_EQ(memory[0].address, 0x8000'0000u);
  EXPECT_EQ(memory[0].size, 64u << 20);

  Hart harts[4];
  ASSERT_EQ(ReadHarts(*fdt, harts).value_or(0), 2u);
  EXPECT_EQ(harts[1].hart_id, 1u);
  EXPECT_EQ(harts[1].isa, std::string_view("rv64imafdc"));
  EXPECT_EQ(ReadTimebaseFrequency(*fdt).value_or(0), 10'000'000u);

  const hv::Result<Device> uart = FindDevice(*fdt, hv::fdt::kNs16550aCompatible);
  ASSERT_TRUE(uart.ok());
  EXPECT_EQ(uart->reg.address, 0x1000'0000u);
  EXPECT_TRUE(FindStdout(*fdt).ok());

  const hv::Result<Device> plic = FindDevice(*fdt, hv::fdt::kPlicCompatible);
  ASSERT_TRUE(plic.ok());
  EXPECT_EQ(plic->reg.address, 0x0c00'0000u);
  EXPECT_EQ(plic->node.ReadU32("riscv,ndev").value_or(0), 95u);

  Device slots[8];
  ASSERT_EQ(FindDevices(*fdt, hv::fdt::kVirtioMmioCompatible, slots).value_or(0), 8u);
  EXPECT_EQ(slots[7].reg.address, 0x1000'8000u);
}

}  // namespace
