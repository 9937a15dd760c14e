// KernelMain of hypervisor images: boot, build the image's VMs, run them,
// judge the outcomes (see image.h).
#include <arch/boot.h>
#include <arch/machine.h>
#include <arch/riscv64/mm/mmu.h>
#include <arch/riscv64/vcpu.h>
#include <hv/base/format.h>
#include <hv/fdt/fdt.h>
#include <hv/fdt/machine.h>
#include <hv/image/image.h>
#include <hv/kmem/kmem.h>
#include <hv/riscv64/scheduler.h>
#include <hv/riscv64/vm.h>

namespace hv {
namespace {

namespace rv = arch::riscv64;
using riscv64::Expectation;
using riscv64::Vm;
using riscv64::VmEnd;

// Sv39x4 in hgatp.MODE.
constexpr uint64_t kHgatpModeSv39x4 = 8;

// The hypervisor's console as a CharSink, for the guests' consoles.
class HostConsole final : public devices::CharSink {
 public:
  void Write(std::span<const std::byte> bytes) override {
    // SAFETY: viewing bytes as chars (same size, char may alias anything).
    ConsoleWrite(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
};

// Statics: no heap in the kernel, and VMs never move.
HostConsole g_console;
std::array<std::optional<Vm>, image::kMaxVms> g_vms;
riscv64::Scheduler g_scheduler;

// What the host device tree says about the machine (issue item 1: memory,
// harts, UART, PLIC, timebase); refuses a hart without the H extension.
void DescribeHost(const BootInfo& boot) {
  // SAFETY: OpenSBI passes a device tree in a1 that lies in RAM, inside the
  // direct map; Fdt::Create validates it before anything is read.
  const auto* blob = reinterpret_cast<const std::byte*>(
      arch::PhysToVirt(HostPhysAddr(boot.firmware_table)).value());
  const uint32_t total = (static_cast<uint32_t>(blob[4]) << 24) |
                         (static_cast<uint32_t>(blob[5]) << 16) |
                         (static_cast<uint32_t>(blob[6]) << 8) | static_cast<uint32_t>(blob[7]);
  Result<fdt::Fdt> fdt = fdt::Fdt::Create(std::span(blob, total));
  HV_CHECK(fdt.ok(), "the firmware's device tree is malformed: %s", ErrorName(fdt.error()));
  std::array<fdt::RegEntry, 4> memory;
  const size_t ranges = fdt::ReadMemory(*fdt, memory).value_or(0);
  for (size_t i = 0; i < ranges; ++i) {
    Printf("hv: memory %#lx..%#lx\n", memory[i].address, memory[i].address + memory[i].size);
  }
  std::array<fdt::Hart, 8> harts;
  const size_t num_harts = fdt::ReadHarts(*fdt, harts).value_or(0);
  bool has_h = false;
  for (size_t i = 0; i < num_harts; ++i) {
    if (harts[i].hart_id != boot.boot_cpu) continue;
    const std::string_view isa = harts[i].isa;
    // The single-letter extensions follow "rv64" up to the first '_'.
    for (size_t c = 4; c < isa.size() && isa[c] != '_'; ++c) has_h = has_h || isa[c] == 'h';
    Printf("hv: hart %lu isa %.*s\n", harts[i].hart_id, static_cast<int>(isa.size()), isa.data());
  }
  Printf("hv: %zu hart(s), timebase %lu Hz\n", num_harts,
         fdt::ReadTimebaseFrequency(*fdt).value_or(0));
  if (Result<fdt::Device> uart = fdt::FindDevice(*fdt, fdt::kNs16550aCompatible); uart.ok()) {
    Printf("hv: uart %#lx\n", uart->reg.address);
  }
  if (Result<fdt::Device> plic = fdt::FindDevice(*fdt, fdt::kPlicCompatible); plic.ok()) {
    Printf("hv: plic %#lx\n", plic->reg.address);
  }
  HV_CHECK(has_h, "the boot hart has no H extension: cannot run guests");
}

bool Judge(std::span<const image::ImageVm> specs, std::span<Vm* const> vms) {
  bool all = true;
  Printf("hv: summary\n");
  for (size_t i = 0; i < specs.size(); ++i) {
    const image::ImageVm& spec = specs[i];
    char got[128] = "not created";
    char want[128];
    const bool ended_as_expected = vms[i] != nullptr && spec.expect.Matches(vms[i]->outcome());
    const char* device_problem = nullptr;
    if (vms[i] != nullptr && spec.check_devices != nullptr) {
      device_problem = spec.check_devices(vms[i]->virtio().Report());
    }
    const bool ok = ended_as_expected && device_problem == nullptr;
    if (vms[i] != nullptr) riscv64::DescribeOutcome(vms[i]->outcome(), got);
    riscv64::DescribeExpectation(spec.expect, want);
    Printf("hv:   %-4s %.*s: %s", ok ? "ok" : "FAIL", static_cast<int>(spec.config.name.size()),
           spec.config.name.data(), got);
    if (!ended_as_expected) Printf(" (expected %s)", want);
    if (device_problem != nullptr) Printf("; devices: %s", device_problem);
    if (vms[i] != nullptr && spec.check_devices != nullptr && device_problem == nullptr) {
      Printf("; devices as expected");
    }
    Printf("\n");
    all = all && ok;
  }
  return all;
}

}  // namespace

void KernelMain(const BootInfo& boot) {
  Printf("hv: riscv64 hypervisor on hart %lu\n", boot.boot_cpu);
  DescribeHost(boot);
  Result<kmem::KernelMemory*> kmem = kmem::KernelMemory::Init(boot);
  HV_CHECK(kmem.ok(), "kernel memory: %s", ErrorName(kmem.error()));
  // The kernel's own page table as a VmSpace (sharing the boot table's
  // kernel half); the lower half stays empty.
  Result<kmem::KernelHostSpace> kernel_space = (*kmem)->CreateHostSpace();
  HV_CHECK(kernel_space.ok(), "kernel space: %s", ErrorName(kernel_space.error()));
  kernel_space->Activate();

  rv::EnableHypervisorExtension();
  rv::EnableHostTimerInterrupt();
  static rv::HgatpMmu hgatp_mmu(kHgatpModeSv39x4);

  const std::span<const image::ImageVm> specs = image::ImageVms();
  HV_CHECK(!specs.empty() && specs.size() <= image::kMaxVms, "an image runs 1..%zu VMs",
           image::kMaxVms);
  std::array<Vm*, image::kMaxVms> vms{};
  std::array<Vm*, image::kMaxVms> must_end{};
  size_t num_must_end = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const riscv64::VmConfig& config = specs[i].config;
    Result<Vm*> vm = Vm::Create(g_vms[i], config,
                                riscv64::VmResources{.frames = (*kmem)->frames(),
                                                     .phys = (*kmem)->phys(),
                                                     .hgatp_mmu = hgatp_mmu,
                                                     .vmid = static_cast<uint16_t>(i + 1),
                                                     .console_out = g_console});
    if (!vm.ok()) {
      Printf("hv: VM %.*s: bad configuration: %s\n", static_cast<int>(config.name.size()),
             config.name.data(), ErrorName(vm.error()));
      continue;
    }
    Printf("hv: VM %.*s: %lu MiB at %#lx, %u vCPU(s), entry %#lx\n",
           static_cast<int>(config.name.size()), config.name.data(), config.ram_size >> 20,
           config.ram_base.value(), config.vcpus, config.entry.value());
    HV_CHECK(g_scheduler.AddVm(**vm).ok(), "too many vCPUs");
    vms[i] = *vm;
    if (specs[i].expect.end != VmEnd::kStillRunning) must_end[num_must_end++] = *vm;
  }

  g_scheduler.Run(std::span(must_end).first(num_must_end));
  for (size_t i = 0; i < specs.size(); ++i) {
    if (vms[i] != nullptr && !vms[i]->ended()) {
      vms[i]->End(riscv64::VmOutcome{.end = VmEnd::kStillRunning});
    }
  }
  const bool pass = Judge(specs, std::span(vms).first(specs.size()));
  for (auto& slot : g_vms) slot.reset();
  kernel_space->Deactivate();
  if (pass) {
    Printf("hv: every VM ended as expected\nHV_TEST_RESULT: PASS\n");
  } else {
    Printf("hv: some VM did not end as expected\nHV_TEST_RESULT: FAIL\n");
  }
  arch::ExitMachine(pass);
}

}  // namespace hv
