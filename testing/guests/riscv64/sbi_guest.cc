// The SBI as a guest sees it: every function the hypervisor implements,
// with its results and error codes, and the malformed calls a careless or
// hostile guest makes. Runs on two vCPUs (hv/configs/virt_guest_smp2.dts) so
// HSM can start, stop and suspend a real second hart.
#include <arch/riscv64/csr.h>
#include <arch/riscv64/sbi.h>
#include <arch/riscv64/trap.h>
#include <ktest/ktest.h>

extern "C" {
void sbi_guest_secondary_entry();
void sbi_guest_suspend_entry();
// Written by the second hart (sbi_secondary.S): hart id, opaque, satp.
volatile uint64_t g_secondary_record[3];
}

namespace {

namespace sbi = hv::arch::riscv64::sbi;
using sbi::SbiRet;

constexpr uint64_t kSipSsip = 1 << 1;
constexpr uint64_t kSieStie = 1 << 5;
constexpr uint64_t kSieSsie = 1 << 1;
constexpr uint64_t kTicksPerMs = 10'000;

// HSM states.
constexpr uint64_t kStarted = 0;
constexpr uint64_t kStopped = 1;

uint64_t Now() { return HV_CSR_READ(time); }

// Timer interrupts taken, and the handler that counts them (and disarms
// the timer through SBI, as a guest kernel would).
volatile int g_timer_interrupts = 0;
void OnInterrupt(uint64_t scause, hv::arch::riscv64::TrapFrame&) {
  if (scause == (hv::arch::riscv64::kScauseInterrupt | 5)) {
    g_timer_interrupts = g_timer_interrupts + 1;
    sbi::Call(sbi::kExtTime, 0, ~uint64_t{0});
  }
}

// Whether a timer interrupt is pending: opens sie.STIE and sstatus.SIE for
// a moment and sees if the handler ran. (QEMU 7.2 delivers the Sstc timer
// to VS-mode but does not show it in the guest's sip reads, so the
// interrupt itself is the evidence.)
bool TimerInterruptPending() {
  hv::arch::riscv64::SetInterruptHandler(OnInterrupt);
  const int before = g_timer_interrupts;
  HV_CSR_SET(sie, kSieStie);
  HV_CSR_SET(sstatus, hv::arch::riscv64::kSstatusSie);
  for (int i = 0; i < 100; ++i) {
    if (g_timer_interrupts != before) break;
  }
  HV_CSR_CLEAR(sstatus, hv::arch::riscv64::kSstatusSie);
  HV_CSR_CLEAR(sie, kSieStie);
  return g_timer_interrupts != before;
}

// A function's address as the guest-physical address SBI takes (MMU off).
uint64_t Addr(void (*fn)()) {
  // SAFETY: only the address value is taken; nothing is accessed.
  return reinterpret_cast<uint64_t>(fn);
}

// A buffer's address as the guest-physical address DBCN takes (MMU off).
template <typename T>
uint64_t Addr(T* p) {
  // SAFETY: only the address value is taken; the SBI implementation checks
  // and accesses it through guest memory.
  return reinterpret_cast<uint64_t>(p);
}

// Polls hart 1's HSM state until it is `state` (or 2 s pass).
bool WaitForHart1(uint64_t state) {
  const uint64_t deadline = Now() + 2000 * kTicksPerMs;
  while (Now() < deadline) {
    const SbiRet r = sbi::Call(sbi::kExtHsm, 2, 1);
    if (r.error == sbi::kSuccess && r.value == state) return true;
  }
  return false;
}

TEST(Base, VersionsAndIds) {
  SbiRet r = sbi::Call(sbi::kExtBase, 0);
  EXPECT_EQ(r.error, sbi::kSuccess);
  EXPECT_EQ(r.value, uint64_t{2} << 24);  // SBI v2.0
  r = sbi::Call(sbi::kExtBase, 1);
  EXPECT_EQ(r.value, 0x4856u);  // "HV"
  EXPECT_EQ(sbi::Call(sbi::kExtBase, 2).value, 1u);
  for (uint64_t fid : {4, 5, 6}) {  // mvendorid, marchid, mimpid
    r = sbi::Call(sbi::kExtBase, fid);
    EXPECT_EQ(r.error, sbi::kSuccess);
    EXPECT_EQ(r.value, 0u);
  }
  EXPECT_EQ(sbi::Call(sbi::kExtBase, 7).error, sbi::kErrNotSupported);
}

TEST(Base, ProbesEveryExtension) {
  for (uint64_t eid :
       {sbi::kExtBase, sbi::kExtTime, sbi::kExtIpi, sbi::kExtRfence, sbi::kExtHsm, sbi::kExtSrst,
        sbi::kExtDbcn, uint64_t{0x00}, uint64_t{0x01}, uint64_t{0x02}, uint64_t{0x08}}) {
    const SbiRet r = sbi::Call(sbi::kExtBase, 3, eid);
    EXPECT_EQ(r.error, sbi::kSuccess);
    EXPECT_EQ(r.value, 1u) << "extension " << eid;
  }
  // PMU, SUSP, CPPC, legacy remote fences: not offered.
  for (uint64_t eid : {uint64_t{0x504D55}, uint64_t{0x53555350}, uint64_t{0x43505043},
                       uint64_t{0x03}, uint64_t{0x12345678}}) {
    EXPECT_EQ(sbi::Call(sbi::kExtBase, 3, eid).value, 0u) << "extension " << eid;
  }
}

TEST(Time, SetTimerRaisesAndClearsTheTimerInterrupt) {
  EXPECT_EQ(sbi::Call(sbi::kExtTime, 0, Now() + 1000 * kTicksPerMs).error, sbi::kSuccess);
  EXPECT_FALSE(TimerInterruptPending());
  EXPECT_EQ(sbi::Call(sbi::kExtTime, 0, 0).error, sbi::kSuccess);  // in the past
  EXPECT_TRUE(TimerInterruptPending());
  EXPECT_EQ(sbi::Call(sbi::kExtTime, 0, 0).error, sbi::kSuccess);
  EXPECT_EQ(sbi::Call(sbi::kExtTime, 0, ~uint64_t{0}).error, sbi::kSuccess);
  EXPECT_FALSE(TimerInterruptPending());
  EXPECT_EQ(sbi::Call(sbi::kExtTime, 1).error, sbi::kErrNotSupported);
}

TEST(Ipi, SendsToThisHartAndChecksTheMask) {
  HV_CSR_CLEAR(sip, kSipSsip);
  EXPECT_EQ(sbi::Call(sbi::kExtIpi, 0, 1, 0).error, sbi::kSuccess);
  EXPECT_NE(HV_CSR_READ(sip) & kSipSsip, 0u);
  HV_CSR_CLEAR(sip, kSipSsip);
  EXPECT_EQ(HV_CSR_READ(sip) & kSipSsip, 0u);
  EXPECT_EQ(sbi::Call(sbi::kExtIpi, 0, 0, ~uint64_t{0}).error, sbi::kSuccess);  // all harts
  EXPECT_NE(HV_CSR_READ(sip) & kSipSsip, 0u);
  HV_CSR_CLEAR(sip, kSipSsip);
  EXPECT_EQ(sbi::Call(sbi::kExtIpi, 0, 0, 0).error, sbi::kSuccess);  // empty mask
  EXPECT_EQ(HV_CSR_READ(sip) & kSipSsip, 0u);
  EXPECT_EQ(sbi::Call(sbi::kExtIpi, 0, 1, 2).error, sbi::kErrInvalidParam);  // base past harts
  EXPECT_EQ(sbi::Call(sbi::kExtIpi, 0, 0b100, 0).error, sbi::kErrInvalidParam);
  EXPECT_EQ(sbi::Call(sbi::kExtIpi, 0, ~uint64_t{0}, 0).error, sbi::kErrInvalidParam);
  EXPECT_EQ(HV_CSR_READ(sip) & kSipSsip, 0u);  // nothing was sent
  EXPECT_EQ(sbi::Call(sbi::kExtIpi, 1).error, sbi::kErrNotSupported);
}

TEST(Rfence, FencesAndArgumentChecks) {
  EXPECT_EQ(sbi::Call(sbi::kExtRfence, 0, 0b11, 0).error, sbi::kSuccess);  // fence.i
  EXPECT_EQ(sbi::Call(sbi::kExtRfence, 1, 1, 0, 0, ~uint64_t{0}).error, sbi::kSuccess);
  EXPECT_EQ(sbi::Call(sbi::kExtRfence, 1, 1, 0, 0x8000'0000, 0x1000).error, sbi::kSuccess);
  EXPECT_EQ(sbi::Call(sbi::kExtRfence, 2, 1, 0, 0x8000'0000, 0x1000, 7).error, sbi::kSuccess);
  EXPECT_EQ(sbi::Call(sbi::kExtRfence, 1, 1, 0, ~uint64_t{0} - 10, 0x1000).error,
            sbi::kErrInvalidAddress);  // wraps
  EXPECT_EQ(sbi::Call(sbi::kExtRfence, 0, 0b1000, 0).error, sbi::kErrInvalidParam);
  EXPECT_EQ(sbi::Call(sbi::kExtRfence, 1, 1, 5, 0, 0x1000).error, sbi::kErrInvalidParam);
  for (uint64_t fid : {3, 4, 5, 6, 7}) {  // hfence.*: no nested virtualization
    EXPECT_EQ(sbi::Call(sbi::kExtRfence, fid, 1, 0).error, sbi::kErrNotSupported) << fid;
  }
}

TEST(Hsm, StatusAndBadRequests) {
  SbiRet r = sbi::Call(sbi::kExtHsm, 2, 0);
  EXPECT_EQ(r.error, sbi::kSuccess);
  EXPECT_EQ(r.value, kStarted);
  r = sbi::Call(sbi::kExtHsm, 2, 1);
  EXPECT_EQ(r.error, sbi::kSuccess);
  EXPECT_EQ(r.value, kStopped);  // secondaries wait for hart_start
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 2, 2).error, sbi::kErrInvalidParam);
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 0, 0, Addr(sbi_guest_secondary_entry)).error,
            sbi::kErrAlreadyAvailable);
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 0, 9, Addr(sbi_guest_secondary_entry)).error,
            sbi::kErrInvalidParam);
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 0, 1, 0x1000).error, sbi::kErrInvalidAddress);  // not RAM
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 0, 1, Addr(sbi_guest_secondary_entry) + 1).error,
            sbi::kErrInvalidAddress);                                          // misaligned
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 3, 0x1234).error, sbi::kErrInvalidParam);  // suspend type
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 3, 0x8000'0000, 0x10).error, sbi::kErrInvalidAddress);
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 4).error, sbi::kErrNotSupported);
}

TEST(Hsm, StartsTheSecondHartWhichStopsItself) {
  for (volatile uint64_t& field : g_secondary_record) field = 0xdead;
  const SbiRet r = sbi::Call(sbi::kExtHsm, 0, 1, Addr(sbi_guest_secondary_entry), 0x5eed);
  ASSERT_EQ(r.error, sbi::kSuccess);
  ASSERT_TRUE(WaitForHart1(kStopped));
  EXPECT_EQ(g_secondary_record[0], 1u);       // a0 = hart id
  EXPECT_EQ(g_secondary_record[1], 0x5eedu);  // a1 = opaque
  EXPECT_EQ(g_secondary_record[2], 0u);       // satp: MMU off
}

TEST(Hsm, NonRetentiveSuspendResumesAtTheGivenAddress) {
  for (volatile uint64_t& field : g_secondary_record) field = 0xdead;
  ASSERT_EQ(sbi::Call(sbi::kExtHsm, 0, 1, Addr(sbi_guest_suspend_entry), 0x100).error,
            sbi::kSuccess);
  ASSERT_TRUE(WaitForHart1(kStopped));
  EXPECT_EQ(g_secondary_record[0], 1u);
  EXPECT_EQ(g_secondary_record[1], 0x101u);  // the resume's opaque
  EXPECT_EQ(g_secondary_record[2], 0u);
}

TEST(Hsm, RetentiveSuspendReturnsAfterTheTimer) {
  HV_CSR_SET(sie, kSieStie);  // the wake-up source; sstatus.SIE stays off
  const uint64_t deadline = Now() + 5 * kTicksPerMs;
  ASSERT_EQ(sbi::Call(sbi::kExtTime, 0, deadline).error, sbi::kSuccess);
  const SbiRet r = sbi::Call(sbi::kExtHsm, 3, 0);
  EXPECT_EQ(r.error, sbi::kSuccess);
  EXPECT_GE(Now(), deadline);
  EXPECT_EQ(sbi::Call(sbi::kExtTime, 0, ~uint64_t{0}).error, sbi::kSuccess);
  HV_CSR_CLEAR(sie, kSieStie);
}

TEST(Hsm, AnEnabledIpiWakesASuspendedHart) {
  HV_CSR_SET(sie, kSieSsie);
  ASSERT_EQ(sbi::Call(sbi::kExtIpi, 0, 1, 0).error, sbi::kSuccess);
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, 3, 0).error, sbi::kSuccess);  // wakes at once
  HV_CSR_CLEAR(sip, kSipSsip);
  HV_CSR_CLEAR(sie, kSieSsie);
}

TEST(Srst, RefusesBadTypesAndReasons) {
  EXPECT_EQ(sbi::Call(sbi::kExtSrst, 0, 3, 0).error, sbi::kErrInvalidParam);
  EXPECT_EQ(sbi::Call(sbi::kExtSrst, 0, 0xf000'0000, 0).error, sbi::kErrInvalidParam);
  EXPECT_EQ(sbi::Call(sbi::kExtSrst, 0, 0, 2).error, sbi::kErrInvalidParam);
  EXPECT_EQ(sbi::Call(sbi::kExtSrst, 0, 0, 0xefff'ffff).error, sbi::kErrInvalidParam);
  EXPECT_EQ(sbi::Call(sbi::kExtSrst, 1).error, sbi::kErrNotSupported);
  // The real shutdown (type 0, reason 0 or 1) ends the guest: ExitMachine.
}

alignas(8) const char kMessage[] = "dbcn console_write\n";

TEST(Dbcn, WritesReadsAndRefusesBadBuffers) {
  const uint64_t n = sizeof(kMessage) - 1;
  SbiRet r = sbi::Call(sbi::kExtDbcn, 0, n, Addr(kMessage), 0);
  EXPECT_EQ(r.error, sbi::kSuccess);
  EXPECT_EQ(r.value, n);
  EXPECT_EQ(sbi::Call(sbi::kExtDbcn, 0, n, Addr(kMessage), 1).error,
            sbi::kErrInvalidParam);  // base_addr_hi
  EXPECT_EQ(sbi::Call(sbi::kExtDbcn, 0, 16, 0x1000, 0).error, sbi::kErrInvalidParam);  // not RAM
  char in[8] = {};
  r = sbi::Call(sbi::kExtDbcn, 1, sizeof(in), Addr(in), 0);
  EXPECT_EQ(r.error, sbi::kSuccess);
  EXPECT_EQ(r.value, 0u);  // no input
  EXPECT_EQ(sbi::Call(sbi::kExtDbcn, 2, '\n').error, sbi::kSuccess);
  EXPECT_EQ(sbi::Call(sbi::kExtDbcn, 3).error, sbi::kErrNotSupported);
}

TEST(Legacy, ConsoleTimerAndUnsupported) {
  for (char c : "legacy putchar\n") {
    if (c != '\0') {
      EXPECT_EQ(sbi::Call(0x01, 0, static_cast<uint8_t>(c)).error, 0);
    }
  }
  EXPECT_EQ(sbi::Call(0x02, 0).error, -1);    // getchar: nothing to read
  EXPECT_EQ(sbi::Call(0x00, 0, 0).error, 0);  // legacy set_timer
  EXPECT_TRUE(TimerInterruptPending());
  EXPECT_EQ(sbi::Call(0x00, 0, 0).error, 0);
  EXPECT_EQ(sbi::Call(0x00, 0, ~uint64_t{0}).error, 0);
  EXPECT_FALSE(TimerInterruptPending());
  for (uint64_t eid : {0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x0f}) {
    EXPECT_EQ(sbi::Call(eid, 0, 0, 0).error, sbi::kErrNotSupported) << eid;
  }
}

TEST(Bogus, UnknownExtensionsAndFunctions) {
  for (uint64_t eid : {uint64_t{0x10 + 1}, uint64_t{0x0a00'0000}, uint64_t{0x7fff'ffff},
                       ~uint64_t{0}, uint64_t{0xffff'ffff'4854'4d45}}) {
    EXPECT_EQ(sbi::Call(eid, 0, 1, 2, 3, 4, 5, 6).error, sbi::kErrNotSupported) << eid;
  }
  EXPECT_EQ(sbi::Call(sbi::kExtTime, ~uint64_t{0}).error, sbi::kErrNotSupported);
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, ~uint64_t{0}).error, sbi::kErrNotSupported);
}

}  // namespace
