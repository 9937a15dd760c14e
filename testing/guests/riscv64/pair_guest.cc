// One of several VMs time-sliced on one hart (bootargs "pair=<name>"):
// fills 64 KiB of its RAM with a marker made from its name, then for about
// 10 time slices prints rounds and checks that every word still holds its
// own marker. Another VM running the same image at the same guest-physical
// addresses must never show up in it. It also checks that it was
// descheduled at least once (a jump of over 1 ms in `time` between two
// reads): the hypervisor time-slices, it does not run VMs one after the
// other.
#include <arch/riscv64/csr.h>
#include <hv/base/format.h>
#include <ktest/ktest.h>
#include "testing/guests/riscv64/guest_args.h"

namespace {

constexpr uint64_t kRegion = 0x8080'0000;
constexpr size_t kWords = (64 << 10) / 8;
constexpr int kRounds = 10;
constexpr uint64_t kRoundTicks = 50'000;  // 5 ms: about one time slice

uint64_t Now() { return HV_CSR_READ(time); }

volatile uint64_t* Region() {
  // SAFETY: [kRegion, kRegion + 64 KiB) is guest RAM (8 MiB into 16 MiB)
  // that the image does not use.
  return reinterpret_cast<volatile uint64_t*>(kRegion);
}

TEST(Pair, MemoryStaysOurs) {
  const std::string_view name = hv::guests::BootArg("pair");
  ASSERT_FALSE(name.empty());
  uint64_t marker = 0x5041'4952'0000'0000;  // "PAIR"
  for (size_t i = 0; i < name.size() && i < 4; ++i) marker |= uint64_t{uint8_t(name[i])} << (8 * i);
  volatile uint64_t* region = Region();
  for (size_t i = 0; i < kWords; ++i) region[i] = marker;
  int gaps = 0;
  for (int round = 0; round < kRounds; ++round) {
    const uint64_t until = Now() + kRoundTicks;
    for (uint64_t last = Now(), now = last; now < until; last = now) {
      now = Now();
      if (now - last > kRoundTicks / 5) ++gaps;
    }
    size_t foreign = 0;
    for (size_t i = 0; i < kWords; ++i) foreign += region[i] != marker ? 1 : 0;
    hv::Printf("%.*s: round %d, %zu foreign words\n", static_cast<int>(name.size()), name.data(),
               round, foreign);
    ASSERT_EQ(foreign, 0u);
  }
  hv::Printf("%.*s: descheduled %d times\n", static_cast<int>(name.size()), name.data(), gaps);
  EXPECT_GT(gaps, 0);
}

}  // namespace
