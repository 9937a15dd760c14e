// The default demo guest: a bare-metal program for the hypervisor's virtual
// machine that shows what it is running on, says hello through the emulated
// UART, takes a few timer ticks while waiting in WFI, and shuts down.
#include <arch/boot.h>
#include <arch/machine.h>
#include <arch/riscv64/csr.h>
#include <arch/riscv64/sbi.h>
#include <arch/riscv64/trap.h>
#include <board/config.h>
#include <hv/base/format.h>
#include <hv/fdt/fdt.h>
#include <hv/fdt/machine.h>

namespace hv {
namespace {

namespace rv = arch::riscv64;
namespace sbi = rv::sbi;

constexpr int kTicks = 5;
constexpr uint64_t kTickPeriod = 2'000'000;  // 200 ms at 10 MHz
constexpr uint64_t kSieStie = 1 << 5;

volatile int g_ticks = 0;

void OnTimer(uint64_t, rv::TrapFrame&) {
  g_ticks = g_ticks + 1;
  Printf("tick %d at %lu ms\n", g_ticks, HV_CSR_READ(time) / 10'000);
  sbi::Call(sbi::kExtTime, 0, g_ticks < kTicks ? HV_CSR_READ(time) + kTickPeriod : ~uint64_t{0});
}

void UartPuts(const char* s) {
  for (; *s != '\0'; ++s) {
    // SAFETY: the UART's THR, a device register of this virtual machine
    // (the guest runs with the MMU off); the hypervisor emulates the store.
    *reinterpret_cast<volatile uint8_t*>(board::kUart0Base) = static_cast<uint8_t>(*s);
  }
}

void DescribeMachine(uintptr_t dtb) {
  // SAFETY: a1 at entry: the device tree's guest-physical address, valid
  // with the MMU off; Fdt::Create validates the blob within its totalsize.
  const auto* blob = reinterpret_cast<const std::byte*>(dtb);
  const uint32_t total = (static_cast<uint32_t>(blob[4]) << 24) |
                         (static_cast<uint32_t>(blob[5]) << 16) |
                         (static_cast<uint32_t>(blob[6]) << 8) | static_cast<uint32_t>(blob[7]);
  Result<fdt::Fdt> fdt = fdt::Fdt::Create(std::span(blob, total));
  if (!fdt.ok()) {
    Printf("no valid device tree at %#lx\n", dtb);
    return;
  }
  std::array<fdt::RegEntry, 2> memory;
  if (Result<size_t> n = fdt::ReadMemory(*fdt, memory); n.ok() && *n > 0) {
    Printf("RAM: %lu MiB at %#lx; device tree at %#lx\n", memory[0].size >> 20, memory[0].address,
           dtb);
  }
  if (Result<fdt::Device> uart = fdt::FindDevice(*fdt, fdt::kNs16550aCompatible); uart.ok()) {
    Printf("UART: ns16550a at %#lx\n", uart->reg.address);
  }
}

}  // namespace

void KernelMain(const BootInfo& boot) {
  Printf("Hello from a guest of the hv riscv64 hypervisor (hart %lu)\n", boot.boot_cpu);
  const uint64_t spec = sbi::Call(sbi::kExtBase, 0).value;
  Printf("SBI v%lu.%lu, implementation %#lx version %lu\n", (spec >> 24) & 0x7f, spec & 0xffffff,
         sbi::Call(sbi::kExtBase, 1).value, sbi::Call(sbi::kExtBase, 2).value);
  DescribeMachine(boot.firmware_table);
  UartPuts("This line went through the emulated NS16550A.\n");

  rv::SetInterruptHandler(OnTimer);
  HV_CSR_SET(sie, kSieStie);
  sbi::Call(sbi::kExtTime, 0, HV_CSR_READ(time) + kTickPeriod);
  HV_CSR_SET(sstatus, rv::kSstatusSie);
  while (g_ticks < kTicks) rv::Wfi();
  HV_CSR_CLEAR(sstatus, rv::kSstatusSie);
  Printf("Done; shutting down through SBI SRST.\n");
  arch::ExitMachine(true);
}

}  // namespace hv
