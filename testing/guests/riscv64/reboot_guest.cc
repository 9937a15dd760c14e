// Reboots itself twice through SBI SRST (a cold, then a warm reboot) and
// passes on its third boot, checking each time that the hypervisor
// restarted it as a machine reset does: the image copied in again (an
// initialized global is back to its initial value), RAM outside the image
// kept (a boot counter there survives), hart 0 entered with a0 = 0 and
// a1 = the device tree, and hart 1 (started before each reboot) stopped
// again.
#include <arch/riscv64/sbi.h>
#include <hv/base/format.h>
#include <ktest/ktest.h>

extern "C" char reboot_guest_park[];  // reboot_park.S

namespace {

namespace sbi = hv::arch::riscv64::sbi;

// Far from the image (at the start of RAM) and from the device tree (at
// the end of the 64 MiB): RAM a reboot does not touch.
struct Persistent {
  uint64_t magic;
  uint64_t boots;
};
constexpr uint64_t kPersistentGpa = 0x8200'0000;
constexpr uint64_t kMagic = 0x7265'626f'6f74'6564;  // "rebooted"

// In the image's .data: each boot must find the initial value.
volatile uint64_t g_image_value = 0x1234;

volatile Persistent& State() {
  // SAFETY: guest images run identity-mapped over their whole RAM, and this
  // word is RAM nothing else uses.
  return *reinterpret_cast<volatile Persistent*>(kPersistentGpa);
}

TEST(Reboot, RestartsFromTheImageAndKeepsTheRestOfRam) {
  volatile Persistent& state = State();
  if (state.magic != kMagic) {
    state.magic = kMagic;
    state.boots = 0;
  }
  state.boots = state.boots + 1;
  const uint64_t boot = state.boots;
  hv::Printf("boot %lu\n", boot);
  EXPECT_EQ(g_image_value, uint64_t{0x1234});
  EXPECT_EQ(ktest::Boot().boot_cpu, uint64_t{0});
  // The device tree is where the first boot found it.
  EXPECT_NE(ktest::Boot().firmware_table, uintptr_t{0});
  // Hart 1 is stopped after every (re)boot.
  const sbi::SbiRet status = sbi::Call(sbi::kExtHsm, sbi::kHsmHartGetStatus, 1);
  EXPECT_EQ(status.error, sbi::kSuccess);
  EXPECT_EQ(status.value, static_cast<uint64_t>(sbi::HartState::kStopped));
  if (boot >= 3) return;

  // Leave hart 1 running and a global changed: the reboot must undo both.
  const uint64_t park = reinterpret_cast<uintptr_t>(reboot_guest_park);
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, sbi::kHsmHartStart, 1, park, 0).error, sbi::kSuccess);
  EXPECT_EQ(sbi::Call(sbi::kExtHsm, sbi::kHsmHartGetStatus, 1).value,
            static_cast<uint64_t>(sbi::HartState::kStarted));
  g_image_value = 0xdead;
  const sbi::ResetType type = boot == 1 ? sbi::ResetType::kColdReboot : sbi::ResetType::kWarmReboot;
  sbi::Call(sbi::kExtSrst, sbi::kSrstSystemReset, static_cast<uint64_t>(type), 0);
  ADD_FAILURE() << "SRST reboot returned";
}

}  // namespace
