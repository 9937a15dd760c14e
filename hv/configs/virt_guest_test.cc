// The guest device trees, compiled by dtc at build time and embedded with
// dtb_cc_library, read back with the FDT reader: every value a guest relies
// on to find its QEMU-virt-like machine.
#include <gtest/gtest.h>

#include <hv/configs/virt_guest_dtb.h>
#include <hv/configs/virt_guest_smp2_dtb.h>
#include <hv/fdt/fdt.h>
#include <hv/fdt/machine.h>

#include <vector>

namespace hv {

void PrintTo(Error error, std::ostream* os) {
  *os << (error == Error{} ? "(no error)" : ErrorName(error));
}

namespace fdt {

void PrintTo(const RegEntry& entry, std::ostream* os) {
  *os << std::hex << "{0x" << entry.address << ", 0x" << entry.size << "}";
}

namespace {

struct Variant {
  const char* name;
  std::span<const std::byte> dtb;
  size_t harts;
};

class VirtGuest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    Result<Fdt> fdt = Fdt::Create(GetParam().dtb);
    ASSERT_TRUE(fdt.ok()) << ErrorName(fdt.error());
    fdt_.emplace(*fdt);
  }
  const Fdt& fdt() const { return *fdt_; }

 private:
  std::optional<Fdt> fdt_;
};

TEST_P(VirtGuest, EmbeddedAlignedAndWhole) {
  // The boot protocol wants the device tree 8-byte aligned.
  // SAFETY: only the address is used, nothing is accessed through it.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(GetParam().dtb.data()) % 8, 0u);
  EXPECT_EQ(fdt().blob().size(), GetParam().dtb.size());
  EXPECT_EQ(fdt().version(), 17u);
  EXPECT_EQ(fdt().reservations().size(), 0u);
  EXPECT_TRUE(fdt().root().IsCompatible("riscv-virtio"));
  EXPECT_EQ(*fdt().root().AddressCells(), 2u);
  EXPECT_EQ(*fdt().root().SizeCells(), 2u);
}

TEST_P(VirtGuest, Memory) {
  RegEntry ranges[2];
  ASSERT_EQ(*ReadMemory(fdt(), ranges), 1u);
  EXPECT_EQ(ranges[0], (RegEntry{0x8000'0000, 64 << 20}));
}

TEST_P(VirtGuest, Harts) {
  Hart harts[4];
  const Result<size_t> count = ReadHarts(fdt(), harts);
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(*count, GetParam().harts);
  for (size_t i = 0; i < *count; ++i) {
    EXPECT_EQ(harts[i].hart_id, i);
    EXPECT_EQ(harts[i].isa, "rv64imafdc");
    EXPECT_EQ(harts[i].mmu_type, "riscv,sv39");
    EXPECT_TRUE(harts[i].enabled);
    EXPECT_TRUE(harts[i].node.IsCompatible("riscv"));
  }
  EXPECT_EQ(*ReadTimebaseFrequency(fdt()), 10'000'000u);
}

TEST_P(VirtGuest, ChosenStdoutIsTheUart) {
  const Result<Chosen> chosen = ReadChosen(fdt());
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->stdout_path, "/soc/serial@10000000");
  EXPECT_EQ(chosen->bootargs, "");
  const Result<Device> uart = FindDevice(fdt(), kNs16550aCompatible);
  ASSERT_TRUE(uart.ok());
  EXPECT_EQ(*FindStdout(fdt()), uart->node);
}

TEST_P(VirtGuest, Uart) {
  const Result<Device> uart = FindDevice(fdt(), kNs16550aCompatible);
  ASSERT_TRUE(uart.ok());
  EXPECT_EQ(uart->node.name(), "serial@10000000");
  EXPECT_EQ(uart->reg, (RegEntry{0x1000'0000, 0x100}));
  EXPECT_EQ(*uart->node.ReadU32("clock-frequency"), 3'686'400u);
  EXPECT_EQ(*uart->node.ReadU32("interrupts"), 10u);
  const Result<Node> parent = fdt().FindPhandle(*uart->node.ReadU32("interrupt-parent"));
  ASSERT_TRUE(parent.ok());
  EXPECT_TRUE(parent->IsCompatible("riscv,plic0"));
}

TEST_P(VirtGuest, PlicContexts) {
  const Result<Device> plic = FindDevice(fdt(), kPlicCompatible);
  ASSERT_TRUE(plic.ok());
  EXPECT_EQ(plic->node.name(), "plic@c000000");
  EXPECT_TRUE(plic->node.IsCompatible("sifive,plic-1.0.0"));
  EXPECT_TRUE(plic->node.IsCompatible("riscv,plic0"));
  EXPECT_EQ(plic->reg, (RegEntry{0x0c00'0000, 0x60'0000}));
  EXPECT_EQ(*plic->node.ReadU32("riscv,ndev"), 95u);
  EXPECT_EQ(*plic->node.ReadU32("#interrupt-cells"), 1u);
  EXPECT_TRUE(plic->node.HasProperty("interrupt-controller"));

  // Context 2n: hart n's M-mode external interrupt (11); 2n + 1: its S-mode
  // one (9), which is what a VS-mode guest uses.
  const Property contexts = *plic->node.FindProperty("interrupts-extended");
  ASSERT_EQ(contexts.size(), GetParam().harts * 2 * 8);
  for (size_t context = 0; context < 2 * GetParam().harts; ++context) {
    const Result<Node> intc = fdt().FindPhandle(*contexts.CellAt(2 * context));
    ASSERT_TRUE(intc.ok()) << context;
    EXPECT_TRUE(intc->IsCompatible("riscv,cpu-intc"));
    EXPECT_EQ(*intc->ReadU32("#interrupt-cells"), 1u);
    const Result<Node> cpu = fdt().Parent(*intc);
    ASSERT_TRUE(cpu.ok());
    EXPECT_EQ(cpu->Reg()->At(0)->address, context / 2) << context;
    EXPECT_EQ(*contexts.CellAt(2 * context + 1), context % 2 == 0 ? 11u : 9u) << context;
  }
}

TEST_P(VirtGuest, VirtioMmioSlots) {
  Device slots[9];
  const Result<size_t> count = FindDevices(fdt(), kVirtioMmioCompatible, slots);
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(*count, 8u);
  const Node plic = FindDevice(fdt(), kPlicCompatible)->node;
  for (uint32_t n = 0; n < 8; ++n) {
    EXPECT_EQ(slots[n].reg, (RegEntry{0x1000'1000 + n * 0x1000, 0x1000})) << n;
    EXPECT_EQ(*slots[n].node.ReadU32("interrupts"), n + 1) << n;
    EXPECT_EQ(*fdt().FindPhandle(*slots[n].node.ReadU32("interrupt-parent")), plic) << n;
  }
}

TEST_P(VirtGuest, NothingAGuestCannotUse) {
  // Timers, IPIs and shutdown go through SBI: no CLINT or test device.
  EXPECT_FALSE(fdt().FindCompatible("riscv,clint0").ok());
  EXPECT_FALSE(FindDevice(fdt(), kTestDeviceCompatible).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Configs, VirtGuest,
    ::testing::Values(Variant{"virt_guest", configs::VirtGuestDtb(), 1},
                      Variant{"virt_guest_smp2", configs::VirtGuestSmp2Dtb(), 2}),
    [](const ::testing::TestParamInfo<Variant>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace fdt
}  // namespace hv
