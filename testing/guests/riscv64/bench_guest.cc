// Exit latency: 100 000 cheap SBI calls (BASE get_spec_version) and 100 000
// MMIO reads (the UART's LSR, an lbu), timed with the `time` CSR. Built as a
// guest of the hypervisor and, unchanged, as an S-mode image on QEMU's virt
// board, where the same SBI calls go straight to OpenSBI (and the UART read
// is QEMU's own device, no trap). See docs/performance.md.
#include <arch/layout.h>
#include <arch/riscv64/csr.h>
#include <arch/riscv64/sbi.h>
#include <board/config.h>
#include <hv/base/format.h>
#include <ktest/ktest.h>

extern "C" uint64_t mmio_lbu(uint64_t addr);

namespace {

namespace sbi = hv::arch::riscv64::sbi;

constexpr int kIterations = 100'000;

uint64_t Now() { return HV_CSR_READ(time); }

// The UART's LSR as this image addresses it: guest-physical with the MMU
// off under the hypervisor; through the direct map in the native image,
// which runs in the upper half.
uint64_t UartLsr() {
#if HV_BENCH_NATIVE
  return hv::arch::PhysToVirt(hv::HostPhysAddr(hv::board::kUart0Base + 5)).value();
#else
  return hv::board::kUart0Base + 5;
#endif
}

// Prints ns per operation from `ticks` of the 10 MHz timebase.
void Report(const char* what, uint64_t ticks) {
  const uint64_t ns_total = ticks * 100;
  hv::Printf("BENCH %s: %d in %lu us, %lu.%03lu us each\n", what, kIterations, ns_total / 1000,
             ns_total / kIterations / 1000, ns_total / kIterations % 1000);
}

TEST(Bench, SbiRoundTrip) {
  uint64_t sum = 0;
  const uint64_t start = Now();
  for (int i = 0; i < kIterations; ++i) sum += sbi::Call(sbi::kExtBase, 0).value;
  Report("sbi_get_spec_version", Now() - start);
  EXPECT_NE(sum, 0u);
}

TEST(Bench, MmioRead) {
  uint64_t sum = 0;
  const uint64_t start = Now();
  const uint64_t lsr = UartLsr();
  for (int i = 0; i < kIterations; ++i) sum += mmio_lbu(lsr);
  Report("mmio_uart_lsr_read", Now() - start);
  EXPECT_NE(sum, 0u);  // THR empty: LSR reads 0x60
}

}  // namespace
