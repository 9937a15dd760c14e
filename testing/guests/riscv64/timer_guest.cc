// Takes timer interrupts: the first half armed through SBI set_timer, the
// second half by writing stimecmp directly (Sstc: vstimecmp, no exit),
// waiting in WFI between them (each WFI is an exit; the hypervisor idles the
// vCPU until its timer passes).
#include <arch/riscv64/csr.h>
#include <arch/riscv64/sbi.h>
#include <arch/riscv64/trap.h>
#include <hv/base/check.h>
#include <hv/base/format.h>
#include <ktest/ktest.h>

namespace {

namespace rv = hv::arch::riscv64;

constexpr int kTicks = 20;
constexpr uint64_t kPeriod = 10'000;  // 1 ms at 10 MHz
constexpr uint64_t kSieStie = 1 << 5;

volatile int g_ticks = 0;
volatile bool g_use_sbi = true;
volatile uint64_t g_deadline = 0;

void Arm(uint64_t deadline) {
  g_deadline = deadline;
  if (g_use_sbi) {
    rv::sbi::Call(rv::sbi::kExtTime, 0, deadline);
  } else {
    HV_CSR_WRITE(stimecmp, deadline);
  }
}

void OnInterrupt(uint64_t scause, rv::TrapFrame&) {
  HV_CHECK(scause == (rv::kScauseInterrupt | 5), "unexpected interrupt %#lx", scause);
  HV_CHECK(HV_CSR_READ(time) >= g_deadline, "timer interrupt before its deadline");
  g_ticks = g_ticks + 1;
  g_use_sbi = g_ticks < kTicks / 2;
  if (g_ticks < kTicks) {
    Arm(HV_CSR_READ(time) + kPeriod);
  } else {
    rv::sbi::Call(rv::sbi::kExtTime, 0, ~uint64_t{0});
    HV_CSR_WRITE(stimecmp, ~uint64_t{0});
  }
}

TEST(Timer, TakesTicksWhileWaitingInWfi) {
  rv::SetInterruptHandler(OnInterrupt);
  g_ticks = 0;
  g_use_sbi = true;
  const uint64_t start = HV_CSR_READ(time);
  HV_CSR_SET(sie, kSieStie);
  Arm(start + kPeriod);
  int wfis = 0;
  // Interrupts are taken only in the window after each WFI (WFI wakes on a
  // pending enabled interrupt even with sstatus.SIE off), so a tick cannot
  // slip in between the loop's check and the WFI however slow the host is.
  while (g_ticks < kTicks && HV_CSR_READ(time) - start < 2'000 * kPeriod) {
    rv::Wfi();
    wfis = wfis + 1;
    HV_CSR_SET(sstatus, rv::kSstatusSie);
    HV_CSR_CLEAR(sstatus, rv::kSstatusSie);
  }
  HV_CSR_CLEAR(sie, kSieStie);
  const uint64_t elapsed = HV_CSR_READ(time) - start;
  hv::Printf("%d ticks in %lu us, %d wfi\n", g_ticks, elapsed / 10, wfis);
  EXPECT_EQ(g_ticks, kTicks);
  EXPECT_GE(elapsed, kTicks * kPeriod);
  EXPECT_GE(wfis, kTicks);  // every tick came while waiting
}

TEST(Timer, WfiWakesOnAPendingTimerWithInterruptsOff) {
  rv::SetInterruptHandler(OnInterrupt);
  g_ticks = kTicks;  // the handler counts, disarms and re-arms nothing
  HV_CSR_SET(sie, kSieStie);
  const uint64_t deadline = HV_CSR_READ(time) + 2 * kPeriod;
  g_deadline = deadline;
  HV_CSR_WRITE(stimecmp, deadline);
  rv::Wfi();  // sstatus.SIE is off: the interrupt stays pending
  EXPECT_GE(HV_CSR_READ(time), deadline);
  // Pending all along: taken as soon as interrupts are on.
  HV_CSR_SET(sstatus, rv::kSstatusSie);
  HV_CSR_CLEAR(sstatus, rv::kSstatusSie);
  EXPECT_EQ(g_ticks, kTicks + 1);
  HV_CSR_CLEAR(sie, kSieStie);
}

}  // namespace
