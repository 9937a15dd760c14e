// The FDT reader on real blobs: QEMU's own virt device tree (dumped by QEMU,
// committed as test data) and trees compiled by dtc at build time. Every
// expected value comes from those sources, not from the reader.
#include <gtest/gtest.h>

#include <hv/fdt/fdt.h>
#include <hv/fdt/machine.h>
#include <hv/fdt/testdata/features.h>
#include <hv/fdt/testdata/malformed.h>
#include <hv/fdt/testdata/qemu_virt_riscv64_smp2.h>

#include <string>
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

// The error of `result`, or an impossible Error{} if it holds a value, so a
// mismatch prints both sides.
template <typename T>
Error ErrorOf(const Result<T>& result) {
  return result.ok() ? Error{} : result.error();
}

Fdt Parse(std::span<const std::byte> blob) {
  Result<Fdt> fdt = Fdt::Create(blob);
  HV_CHECK(fdt.ok(), "test blob rejected: %s", ErrorName(fdt.error()));
  return *fdt;
}

Node NodeAt(const Fdt& fdt, std::string_view path) {
  Result<Node> node = fdt.FindNode(path);
  HV_CHECK(node.ok(), "%.*s: %s", static_cast<int>(path.size()), path.data(),
           ErrorName(node.error()));
  return *node;
}

std::vector<RegEntry> RegOf(const Node& node) {
  const Result<RegList> reg = node.Reg();
  if (!reg.ok()) return {};
  return std::vector<RegEntry>(reg->begin(), reg->end());
}

std::vector<std::string> Names(ChildRange children) {
  std::vector<std::string> names;
  for (const Node child : children) names.emplace_back(child.name());
  return names;
}

// The cpu node whose interrupt controller has `phandle`, and its hart id.
uint64_t HartOfInterruptController(const Fdt& fdt, uint32_t phandle) {
  const Node intc = *fdt.FindPhandle(phandle);
  EXPECT_TRUE(intc.IsCompatible("riscv,cpu-intc"));
  const Node cpu = *fdt.Parent(intc);
  return RegOf(cpu).at(0).address;
}

TEST(QemuVirt, Header) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  EXPECT_EQ(fdt.version(), 17u);
  EXPECT_EQ(fdt.boot_cpuid_phys(), 0u);
  EXPECT_EQ(fdt.blob().size(), 0x11eeu);
  EXPECT_EQ(fdt.reservations().size(), 0u);
  EXPECT_TRUE(fdt.root().is_root());
  EXPECT_EQ(*fdt.root().ReadString("model"), "riscv-virtio,qemu");
  EXPECT_TRUE(fdt.root().IsCompatible("riscv-virtio"));
}

TEST(QemuVirt, Memory) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  RegEntry ranges[4];
  const Result<size_t> count = ReadMemory(fdt, ranges);
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(*count, 1u);
  EXPECT_EQ(ranges[0], (RegEntry{0x8000'0000, 0x1000'0000}));
}

TEST(QemuVirt, Harts) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  Hart harts[4];
  const Result<size_t> count = ReadHarts(fdt, harts);
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(*count, 2u);
  for (uint64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(harts[i].hart_id, i);
    EXPECT_EQ(harts[i].isa, "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc");
    EXPECT_EQ(harts[i].mmu_type, "riscv,sv48");
    EXPECT_TRUE(harts[i].enabled);
    EXPECT_EQ(harts[i].node.name(), i == 0 ? "cpu@0" : "cpu@1");
  }
  EXPECT_EQ(*ReadTimebaseFrequency(fdt), 10'000'000u);
  // cpu-map is a /cpus child too, but not a hart.
  EXPECT_EQ(Names(NodeAt(fdt, "/cpus").children()),
            (std::vector<std::string>{"cpu@0", "cpu@1", "cpu-map"}));
  EXPECT_EQ(Names(NodeAt(fdt, "/cpus").ChildrenNamed("cpu")),
            (std::vector<std::string>{"cpu@0", "cpu@1"}));
  Hart one[1];
  EXPECT_EQ(ErrorOf(ReadHarts(fdt, one)), Error::kOutOfRange);
}

TEST(QemuVirt, ChosenAndStdout) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  const Result<Chosen> chosen = ReadChosen(fdt);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->stdout_path, "/soc/serial@10000000");
  EXPECT_EQ(chosen->bootargs, "");
  const Result<Node> stdout_node = FindStdout(fdt);
  ASSERT_TRUE(stdout_node.ok());
  EXPECT_EQ(*stdout_node, NodeAt(fdt, "/soc/serial@10000000"));
  // QEMU puts 32 bytes of rng-seed there.
  EXPECT_EQ(NodeAt(fdt, "/chosen").FindProperty("rng-seed")->size(), 32u);
}

TEST(QemuVirt, Uart) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  const Result<Device> uart = FindDevice(fdt, kNs16550aCompatible);
  ASSERT_TRUE(uart.ok());
  EXPECT_EQ(uart->node.name(), "serial@10000000");
  EXPECT_EQ(uart->reg, (RegEntry{0x1000'0000, 0x100}));
  EXPECT_EQ(*uart->node.ReadU32("clock-frequency"), 3'686'400u);
  EXPECT_EQ(*uart->node.ReadU32("interrupts"), 10u);
  // interrupt-parent is the PLIC.
  const Node plic = *fdt.FindPhandle(*uart->node.ReadU32("interrupt-parent"));
  EXPECT_EQ(plic.name(), "plic@c000000");
}

TEST(QemuVirt, Plic) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  const Result<Device> plic = FindDevice(fdt, kPlicCompatible);
  ASSERT_TRUE(plic.ok());
  EXPECT_EQ(plic->reg, (RegEntry{0x0c00'0000, 0x60'0000}));
  EXPECT_EQ(*plic->node.ReadU32("riscv,ndev"), 96u);
  EXPECT_TRUE(plic->node.IsCompatible("riscv,plic0"));
  EXPECT_TRUE(plic->node.HasProperty("interrupt-controller"));
  EXPECT_EQ(*plic->node.AddressCells(), 0u);

  // Contexts: (hart 0, M), (hart 0, S), (hart 1, M), (hart 1, S).
  const Property contexts = *plic->node.FindProperty("interrupts-extended");
  ASSERT_EQ(contexts.size(), 4u * 2 * 4);
  const uint64_t expected_hart[] = {0, 0, 1, 1};
  const uint32_t expected_irq[] = {11, 9, 11, 9};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(HartOfInterruptController(fdt, *contexts.CellAt(2 * i)), expected_hart[i]) << i;
    EXPECT_EQ(*contexts.CellAt(2 * i + 1), expected_irq[i]) << i;
  }
}

TEST(QemuVirt, VirtioMmioSlotsSortedByAddress) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  Device devices[8];
  const Result<size_t> count = FindDevices(fdt, kVirtioMmioCompatible, devices);
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(*count, 8u);
  for (uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ(devices[i].reg, (RegEntry{0x1000'1000 + i * 0x1000, 0x1000}));
    EXPECT_EQ(*devices[i].node.ReadU32("interrupts"), i + 1);
  }
  // QEMU lists them from the highest address down.
  EXPECT_EQ(fdt.FindCompatible("virtio,mmio")->name(), "virtio_mmio@10008000");
  Device seven[7];
  EXPECT_EQ(ErrorOf(FindDevices(fdt, kVirtioMmioCompatible, seven)), Error::kOutOfRange);
}

TEST(QemuVirt, TestDeviceAndOthers) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  const Result<Device> test = FindDevice(fdt, kTestDeviceCompatible);
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(test->node.name(), "test@100000");
  EXPECT_EQ(test->reg, (RegEntry{0x10'0000, 0x1000}));
  EXPECT_EQ(*test->node.ReadStringList("compatible")->At(0), "sifive,test1");

  const Node clint = *fdt.FindCompatible("riscv,clint0");
  EXPECT_EQ(RegOf(clint), (std::vector<RegEntry>{{0x200'0000, 0x1'0000}}));
  const Node flash = NodeAt(fdt, "/flash@20000000");
  EXPECT_EQ(RegOf(flash),
            (std::vector<RegEntry>{{0x2000'0000, 0x200'0000}, {0x2200'0000, 0x200'0000}}));
  EXPECT_EQ(*NodeAt(fdt, "/soc/pci@30000000").AddressCells(), 3u);
  EXPECT_EQ(*NodeAt(fdt, "/platform-bus@4000000").AddressCells(), 1u);
}

TEST(QemuVirt, WalksEveryNode) {
  const Fdt fdt = Parse(testdata::QemuVirtSmp2());
  std::vector<std::string> names;
  size_t max_depth = 0;
  for (auto it = fdt.nodes().begin(); it != fdt.nodes().end(); ++it) {
    names.emplace_back((*it).name());
    max_depth = std::max(max_depth, it.depth());
  }
  // Counted in `dtc -I dtb -O dts` of the blob.
  EXPECT_EQ(names.size(), 33u);
  EXPECT_EQ(names.front(), "");
  EXPECT_EQ(names[1], "pmu");
  EXPECT_EQ(names.back(), "clint@2000000");
  // /cpus/cpu-map/cluster0/core0.
  EXPECT_EQ(max_depth, 4u);
  EXPECT_EQ(fdt.Parent(NodeAt(fdt, "/cpus/cpu-map/cluster0/core0"))->name(), "cluster0");
}

TEST(Features, Reservations) {
  const Fdt fdt = Parse(testdata::Features());
  const std::vector<RegEntry> reservations(fdt.reservations().begin(), fdt.reservations().end());
  EXPECT_EQ(reservations, (std::vector<RegEntry>{{0x8000'0000, 0x20'0000}, {0xffff'f000, 0x1000}}));
}

TEST(Features, RootProperties) {
  const Fdt fdt = Parse(testdata::Features());
  const Node root = fdt.root();
  const StringList compatible = *root.ReadStringList("compatible");
  EXPECT_EQ(std::vector<std::string_view>(compatible.begin(), compatible.end()),
            (std::vector<std::string_view>{"test,features", "test,base"}));
  EXPECT_TRUE(root.IsCompatible("test,base"));
  EXPECT_FALSE(root.IsCompatible("test"));
  EXPECT_EQ(*root.ReadString("model"), "features");
  const Property empty = *root.FindProperty("empty-property");
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(ErrorOf(empty.AsString()), Error::kInvalidArgs);
  EXPECT_EQ(ErrorOf(empty.AsU32()), Error::kInvalidArgs);
  EXPECT_EQ(ErrorOf(root.FindProperty("no-such-property")), Error::kNotFound);
  EXPECT_EQ(ErrorOf(root.ReadU32("no-such-property")), Error::kNotFound);
  EXPECT_EQ(ErrorOf(root.Reg()), Error::kNotFound);
  EXPECT_EQ(*root.AddressCells(), 2u);
  EXPECT_EQ(*root.SizeCells(), 2u);
}

TEST(Features, MemorySkipsDisabledNodes) {
  const Fdt fdt = Parse(testdata::Features());
  RegEntry ranges[3];
  const Result<size_t> count = ReadMemory(fdt, ranges);
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(*count, 2u);
  EXPECT_EQ(ranges[0], (RegEntry{0x8000'0000, 0x4000'0000}));
  EXPECT_EQ(ranges[1], (RegEntry{0x1'0000'0000, 0x4000'0000}));
  RegEntry one[1];
  EXPECT_EQ(ErrorOf(ReadMemory(fdt, one)), Error::kOutOfRange);
}

TEST(Features, HartsAndTimebase) {
  const Fdt fdt = Parse(testdata::Features());
  Hart harts[4];
  ASSERT_EQ(*ReadHarts(fdt, harts), 2u);
  EXPECT_EQ(harts[0].hart_id, 0u);
  EXPECT_EQ(harts[0].isa, "rv64gc");
  EXPECT_EQ(harts[0].mmu_type, "riscv,sv48");
  EXPECT_TRUE(harts[0].enabled);
  EXPECT_EQ(harts[1].hart_id, 3u);
  EXPECT_EQ(harts[1].isa, "");
  EXPECT_EQ(harts[1].mmu_type, "");
  EXPECT_FALSE(harts[1].enabled);
  // Written as two cells.
  EXPECT_EQ(*ReadTimebaseFrequency(fdt), 0x1'0000'0000u);
}

TEST(Features, ChosenThroughAnAliasWithOptions) {
  const Fdt fdt = Parse(testdata::Features());
  const Chosen chosen = *ReadChosen(fdt);
  EXPECT_EQ(chosen.bootargs, "console=ttyS0 earlycon");
  EXPECT_EQ(chosen.stdout_path, "serial0:115200n8");
  EXPECT_EQ(*FindStdout(fdt), NodeAt(fdt, "/bus32@10000000/uart@2000"));
}

TEST(Features, Paths) {
  const Fdt fdt = Parse(testdata::Features());
  EXPECT_EQ(NodeAt(fdt, "/"), fdt.root());
  EXPECT_EQ(NodeAt(fdt, "//cpus//cpu@0/").name(), "cpu@0");
  EXPECT_EQ(NodeAt(fdt, "serial0"), NodeAt(fdt, "/bus32@10000000/uart@2000"));
  EXPECT_EQ(NodeAt(fdt, "/bus32").name(), "bus32@10000000");  // unique base name
  EXPECT_TRUE(NodeAt(fdt, "/twins/node").HasProperty("exact"));
  EXPECT_EQ(*NodeAt(fdt, "/l1/l2/l3/l4/l5").ReadU32("leaf"), 5u);

  EXPECT_EQ(ErrorOf(fdt.FindNode("")), Error::kInvalidArgs);
  EXPECT_EQ(ErrorOf(fdt.FindNode("/cpus/cpu")), Error::kInvalidArgs);  // cpu@0 or cpu@3?
  EXPECT_EQ(ErrorOf(fdt.FindNode("/memory")), Error::kInvalidArgs);
  EXPECT_EQ(ErrorOf(fdt.FindNode("/ambiguous/node")), Error::kInvalidArgs);
  EXPECT_EQ(NodeAt(fdt, "/ambiguous/node@2").unit_address(), "2");
  EXPECT_EQ(ErrorOf(fdt.FindNode("/cpus/cpu@1")), Error::kNotFound);
  EXPECT_EQ(ErrorOf(fdt.FindNode("/nothing/cpus")), Error::kNotFound);
  EXPECT_EQ(ErrorOf(fdt.FindNode("serial0/nothing")), Error::kNotFound);
  EXPECT_EQ(ErrorOf(fdt.FindNode("no-such-alias")), Error::kNotFound);
  // Alias values must be absolute paths.
  EXPECT_EQ(ErrorOf(fdt.FindNode("relative-alias")), Error::kInvalidArgs);
}

TEST(Features, NamesAndProperties) {
  const Fdt fdt = Parse(testdata::Features());
  const Node cpu = NodeAt(fdt, "/cpus/cpu@0");
  EXPECT_EQ(cpu.base_name(), "cpu");
  EXPECT_EQ(cpu.unit_address(), "0");
  EXPECT_EQ(NodeAt(fdt, "/cpus").unit_address(), "");
  EXPECT_EQ(NodeAt(fdt, "/cpus").base_name(), "cpus");
  std::vector<std::string_view> names;
  for (const Property prop : cpu.properties()) names.push_back(prop.name());
  // dtc appends the phandle that cpu-map's reference needs.
  EXPECT_EQ(names, (std::vector<std::string_view>{"device_type", "reg", "riscv,isa", "mmu-type",
                                                  "status", "phandle"}));
  EXPECT_TRUE(cpu.IsEnabled());
  EXPECT_FALSE(NodeAt(fdt, "/cpus/cpu@3").IsEnabled());
  EXPECT_TRUE(NodeAt(fdt, "/cpus").IsEnabled());  // no status
  EXPECT_EQ(Names(NodeAt(fdt, "/l1/l2/l3/l4/l5").children()), std::vector<std::string>{});
  EXPECT_EQ(Names(NodeAt(fdt, "/twins").ChildrenNamed("node")),
            (std::vector<std::string>{"node@1", "node@2", "node"}));
  EXPECT_EQ(Names(NodeAt(fdt, "/twins").ChildrenNamed("nod")), std::vector<std::string>{});
}

TEST(Features, Reg) {
  const Fdt fdt = Parse(testdata::Features());
  // A 1+1-cell bus.
  EXPECT_EQ(RegOf(NodeAt(fdt, "/bus32/uart@2000")), (std::vector<RegEntry>{{0x2000, 0x100}}));
  const RegList intc = *NodeAt(fdt, "/bus32/interrupt-controller@4000").Reg();
  EXPECT_EQ(intc.size(), 2u);
  EXPECT_EQ(intc.address_cells(), 1u);
  EXPECT_EQ(intc.size_cells(), 1u);
  EXPECT_EQ(*intc.At(1), (RegEntry{0x5000, 0x200}));
  EXPECT_EQ(ErrorOf(intc.At(2)), Error::kOutOfRange);
  // Size cells 0: only addresses.
  EXPECT_EQ(RegOf(NodeAt(fdt, "/sizeless/child@7")), (std::vector<RegEntry>{{7, 0}}));
  // 3 address cells and 4 size cells, upper cells zero.
  EXPECT_EQ(RegOf(NodeAt(fdt, "/wide/device@0,0")), (std::vector<RegEntry>{{0x1'0000'0000, 0x10}}));
  EXPECT_EQ(ErrorOf(NodeAt(fdt, "/wide/device@1,0").Reg()), Error::kOutOfRange);
  EXPECT_EQ(*NodeAt(fdt, "/wide").AddressCells(), 3u);
  EXPECT_EQ(*NodeAt(fdt, "/wide").SizeCells(), 4u);
}

TEST(Features, DevicesByCompatible) {
  const Fdt fdt = Parse(testdata::Features());
  // Enabled ones only, sorted by address.
  Device uarts[4];
  ASSERT_EQ(*FindDevices(fdt, kNs16550aCompatible, uarts), 2u);
  EXPECT_EQ(uarts[0].node.name(), "uart@1000");
  EXPECT_EQ(uarts[1].node.name(), "uart@2000");
  // The first in blob order.
  EXPECT_EQ(FindDevice(fdt, kNs16550aCompatible)->node.name(), "uart@2000");
  // Alternatives are tried in order, not by blob position.
  constexpr std::string_view kPreferIntc[] = {"vendor,intc", "ns16550a"};
  EXPECT_EQ(FindDevice(fdt, kPreferIntc)->node.name(), "interrupt-controller@4000");
  constexpr std::string_view kMissingFirst[] = {"vendor,missing", "vendor,uart"};
  EXPECT_EQ(FindDevice(fdt, kMissingFirst)->node.name(), "uart@2000");
  constexpr std::string_view kNothing[] = {"vendor,missing"};
  EXPECT_EQ(ErrorOf(FindDevice(fdt, kNothing)), Error::kNotFound);
  EXPECT_EQ(ErrorOf(fdt.FindCompatible("vendor,missing")), Error::kNotFound);
  // Compatible with a node that has no reg.
  constexpr std::string_view kRoot[] = {"test,features"};
  EXPECT_EQ(ErrorOf(FindDevice(fdt, kRoot)), Error::kInvalidArgs);
}

TEST(Features, PhandlesAndParents) {
  const Fdt fdt = Parse(testdata::Features());
  // dtc gives the intc the linux,phandle it was written with.
  const Node user = NodeAt(fdt, "/uses-intc");
  const Property ext = *user.FindProperty("interrupts-extended");
  const Node intc = *fdt.FindPhandle(*ext.CellAt(0));
  EXPECT_EQ(intc.name(), "interrupt-controller@4000");
  EXPECT_EQ(*intc.Phandle(), 0x42u);
  EXPECT_EQ(*ext.CellAt(1), 3u);
  EXPECT_EQ(fdt.Parent(intc)->name(), "bus32@10000000");
  // A reference by path made dtc add a phandle to cpu@0.
  const Node core = NodeAt(fdt, "/cpus/cpu-map/cluster0/core0");
  EXPECT_EQ(*fdt.FindPhandle(*core.ReadU32("cpu")), NodeAt(fdt, "/cpus/cpu@0"));
  EXPECT_EQ(ErrorOf(fdt.FindPhandle(0)), Error::kNotFound);
  EXPECT_EQ(ErrorOf(fdt.FindPhandle(0xffff'ffff)), Error::kNotFound);
  EXPECT_EQ(ErrorOf(fdt.FindPhandle(0x43)), Error::kNotFound);
  EXPECT_EQ(ErrorOf(fdt.Parent(fdt.root())), Error::kNotFound);
  EXPECT_EQ(*fdt.Parent(NodeAt(fdt, "/cpus")), fdt.root());
  // Parent() gives the parent its own parent's cells.
  EXPECT_EQ(RegOf(*fdt.Parent(NodeAt(fdt, "/cpus/cpu@0"))), std::vector<RegEntry>{});
  EXPECT_EQ(RegOf(*fdt.Parent(NodeAt(fdt, "/bus32/uart@1000"))), std::vector<RegEntry>{});
  EXPECT_EQ(RegOf(*fdt.Parent(NodeAt(fdt, "/wide/device@0,0/"))), std::vector<RegEntry>{});
}

TEST(Features, NodeRangeDepths) {
  const Fdt fdt = Parse(testdata::Features());
  size_t count = 0;
  for (auto it = fdt.nodes().begin(); it != fdt.nodes().end(); ++it, ++count) {
    const Node node = *it;
    if (node.name() == "l5") {
      EXPECT_EQ(it.depth(), 5u);
    }
    if (node.name() == "cpu@3") {
      EXPECT_EQ(it.depth(), 2u);
    }
    if (node.name() == "uart@1000") {
      // The iterator hands out nodes with their parent's cells.
      EXPECT_EQ(RegOf(node), (std::vector<RegEntry>{{0x1000, 0x100}}));
    }
  }
  // Counted in features.dts.
  EXPECT_EQ(count, 34u);
}

TEST(Malformed, CellsCounts) {
  const Fdt fdt = Parse(testdata::Malformed());
  const Node node = NodeAt(fdt, "/malformed");
  EXPECT_EQ(ErrorOf(node.AddressCells()), Error::kInvalidArgs);  // 5 > kMaxCells
  EXPECT_EQ(*node.SizeCells(), 1u);
  EXPECT_EQ(ErrorOf(NodeAt(fdt, "/malformed/child@0").Reg()), Error::kInvalidArgs);
  // 16 bytes with 2 + 1 cells per entry.
  EXPECT_EQ(ErrorOf(NodeAt(fdt, "/malformed/short-reg-parent/child@0").Reg()), Error::kInvalidArgs);
}

TEST(Malformed, PropertyForms) {
  const Fdt fdt = Parse(testdata::Malformed());
  const Node node = NodeAt(fdt, "/malformed/strings");
  const auto prop = [&](std::string_view name) { return *node.FindProperty(name); };

  EXPECT_EQ(ErrorOf(prop("not-terminated").AsString()), Error::kInvalidArgs);
  EXPECT_EQ(ErrorOf(prop("not-terminated").AsStringList()), Error::kInvalidArgs);

  EXPECT_EQ(ErrorOf(prop("two-strings").AsString()), Error::kInvalidArgs);
  const StringList two = *prop("two-strings").AsStringList();
  EXPECT_EQ(two.size(), 2u);
  EXPECT_EQ(*two.At(1), "b");
  EXPECT_EQ(ErrorOf(two.At(2)), Error::kOutOfRange);

  const StringList with_empty = *prop("with-empty").AsStringList();
  EXPECT_EQ(std::vector<std::string_view>(with_empty.begin(), with_empty.end()),
            (std::vector<std::string_view>{"", "x", ""}));
  EXPECT_TRUE(with_empty.Contains(""));
  EXPECT_FALSE(with_empty.Contains("y"));

  EXPECT_EQ(*prop("one-cell").AsU32(), 0x1234'5678u);
  EXPECT_EQ(*prop("one-cell").AsU32OrU64(), 0x1234'5678u);
  EXPECT_EQ(ErrorOf(prop("one-cell").AsU64()), Error::kInvalidArgs);
  EXPECT_EQ(*prop("two-cells").AsU64(), 0x1234'5678'9abc'def0u);
  EXPECT_EQ(*prop("two-cells").AsU32OrU64(), 0x1234'5678'9abc'def0u);
  EXPECT_EQ(ErrorOf(prop("two-cells").AsU32()), Error::kInvalidArgs);
  EXPECT_EQ(*prop("two-cells").CellAt(1), 0x9abc'def0u);
  EXPECT_EQ(ErrorOf(prop("two-cells").CellAt(2)), Error::kOutOfRange);
  EXPECT_EQ(ErrorOf(prop("three-cells").AsU32OrU64()), Error::kInvalidArgs);
  EXPECT_EQ(ErrorOf(prop("odd-bytes").CellAt(0)), Error::kInvalidArgs);
  EXPECT_EQ(ErrorOf(node.ReadString("one-cell")), Error::kInvalidArgs);
  // status is neither "okay" nor "ok".
  EXPECT_FALSE(node.IsEnabled());
}

}  // namespace
}  // namespace fdt
}  // namespace hv
