#include <arch/riscv64/sbi_emulation.h>
#include <gtest/gtest.h>
#include <guestmem/hosted_memory.h>

#include <string>
#include <vector>

namespace hv::arch::riscv64 {
namespace {

constexpr uint64_t kRam = 0x80000000;

// A VM of `harts` harts with 1 MiB of RAM, recording what SBI asked of it.
class FakeVm final : public SbiEnvironment {
 public:
  explicit FakeVm(uint64_t harts) : harts_(harts), states_(harts, HartState::kStopped) {
    const guestmem::HostedGuestMemory::RegionSpec spec[] = {{GuestPhysAddr(kRam), 1 << 20}};
    memory_.emplace(guestmem::HostedGuestMemory::Create(spec).value());
    states_[0] = HartState::kStarted;
  }

  uint64_t hart_id() const override { return caller; }
  uint64_t num_harts() const override { return harts_; }
  const guestmem::GuestMemoryAccessor& memory() const override { return *memory_; }
  void SetTimer(uint64_t v) override { timer = v; }
  void ConsoleWrite(std::span<const std::byte> bytes) override {
    for (std::byte b : bytes) console.push_back(static_cast<char>(b));
  }
  std::optional<uint8_t> ConsoleRead() override {
    if (input.empty()) return std::nullopt;
    const uint8_t c = static_cast<uint8_t>(input.front());
    input.erase(0, 1);
    return c;
  }
  void SendIpi(uint64_t hart) override { ipis.push_back(hart); }
  void RemoteFenceI(uint64_t hart) override { fences.push_back(hart); }
  void RemoteSfenceVma(uint64_t hart, uint64_t, uint64_t, std::optional<uint64_t> asid) override {
    fences.push_back(hart);
    last_asid = asid;
  }
  HartState GetHartState(uint64_t hart) const override { return states_[hart]; }
  void StartHart(uint64_t hart, GuestPhysAddr start, uint64_t opaque) override {
    states_[hart] = HartState::kStartPending;
    started_at = start;
    started_opaque = opaque;
  }
  void StopSelf() override { states_[caller] = HartState::kStopped; }
  void SuspendSelf(bool retentive, GuestPhysAddr, uint64_t) override {
    states_[caller] = HartState::kSuspended;
    suspended_retentive = retentive;
  }
  void SystemReset(ResetType type, ResetReason reason) override {
    reset = type;
    reset_reason = reason;
  }

  uint64_t caller = 0;
  uint64_t timer = 0;
  std::string console;
  std::string input;
  std::vector<uint64_t> ipis, fences;
  std::optional<uint64_t> last_asid;
  GuestPhysAddr started_at;
  uint64_t started_opaque = 0;
  bool suspended_retentive = false;
  std::optional<ResetType> reset;
  ResetReason reset_reason = ResetReason::kNone;

 private:
  uint64_t harts_;
  std::vector<HartState> states_;
  std::optional<guestmem::HostedGuestMemory> memory_;
};

SbiOutcome Call(FakeVm& vm, uint64_t eid, uint64_t fid, std::array<uint64_t, 6> args = {}) {
  return HandleSbiCall(SbiCall{eid, fid, args}, vm);
}

TEST(SbiBase, VersionImplementationAndProbe) {
  FakeVm vm(1);
  EXPECT_EQ(Call(vm, sbi::kExtBase, 0).value, 0x02000000u);
  EXPECT_EQ(Call(vm, sbi::kExtBase, 1).value, kSbiImplId);
  for (uint64_t eid : {sbi::kExtTime, sbi::kExtIpi, sbi::kExtRfence, sbi::kExtHsm, sbi::kExtSrst,
                       sbi::kExtDbcn, uint64_t{1}}) {
    EXPECT_EQ(Call(vm, sbi::kExtBase, 3, {eid}).value, 1u) << eid;
  }
  EXPECT_EQ(Call(vm, sbi::kExtBase, 3, {0x504D55 /* PMU */}).value, 0u);
  EXPECT_EQ(Call(vm, sbi::kExtBase, 4).value, 0u);
  EXPECT_EQ(Call(vm, sbi::kExtBase, 7).error, sbi::kErrNotSupported);
}

TEST(SbiTime, SetTimer) {
  FakeVm vm(1);
  EXPECT_EQ(Call(vm, sbi::kExtTime, 0, {123456}).error, sbi::kSuccess);
  EXPECT_EQ(vm.timer, 123456u);
  EXPECT_EQ(Call(vm, sbi::kExtTime, 1).error, sbi::kErrNotSupported);
}

TEST(SbiIpi, HartMasksAndBases) {
  FakeVm vm(4);
  EXPECT_EQ(Call(vm, sbi::kExtIpi, 0, {0b101, 0}).error, sbi::kSuccess);
  EXPECT_EQ(vm.ipis, (std::vector<uint64_t>{0, 2}));
  vm.ipis.clear();
  EXPECT_EQ(Call(vm, sbi::kExtIpi, 0, {0b11, 2}).error, sbi::kSuccess);
  EXPECT_EQ(vm.ipis, (std::vector<uint64_t>{2, 3}));
  vm.ipis.clear();
  EXPECT_EQ(Call(vm, sbi::kExtIpi, 0, {0, ~uint64_t{0}}).error, sbi::kSuccess);  // all
  EXPECT_EQ(vm.ipis.size(), 4u);
  vm.ipis.clear();
  // A mask naming a hart that does not exist: INVALID_PARAM and no IPI.
  EXPECT_EQ(Call(vm, sbi::kExtIpi, 0, {0b111, 2}).error, sbi::kErrInvalidParam);
  EXPECT_EQ(Call(vm, sbi::kExtIpi, 0, {1, 4}).error, sbi::kErrInvalidParam);
  EXPECT_EQ(Call(vm, sbi::kExtIpi, 0, {uint64_t{1} << 63, 0}).error, sbi::kErrInvalidParam);
  EXPECT_TRUE(vm.ipis.empty());
}

TEST(SbiRfence, FencesAndBadRanges) {
  FakeVm vm(2);
  EXPECT_EQ(Call(vm, sbi::kExtRfence, 0, {0b11, 0}).error, sbi::kSuccess);
  EXPECT_EQ(vm.fences.size(), 2u);
  EXPECT_EQ(Call(vm, sbi::kExtRfence, 2, {1, 0, 0x1000, 0x2000, 7}).error, sbi::kSuccess);
  EXPECT_EQ(vm.last_asid, 7u);
  EXPECT_EQ(Call(vm, sbi::kExtRfence, 1, {1, 0, 0, ~uint64_t{0}}).error, sbi::kSuccess);
  EXPECT_EQ(Call(vm, sbi::kExtRfence, 1, {1, 0, ~uint64_t{0} - 10, 0x100}).error,
            sbi::kErrInvalidAddress);
  EXPECT_EQ(Call(vm, sbi::kExtRfence, 3, {1, 0}).error, sbi::kErrNotSupported);
}

TEST(SbiHsm, StartStopStatusSuspend) {
  FakeVm vm(2);
  EXPECT_EQ(Call(vm, sbi::kExtHsm, 2, {1}).value, static_cast<uint64_t>(HartState::kStopped));
  EXPECT_EQ(Call(vm, sbi::kExtHsm, 0, {1, kRam + 0x1000, 42}).error, sbi::kSuccess);
  EXPECT_EQ(vm.started_at, GuestPhysAddr(kRam + 0x1000));
  EXPECT_EQ(vm.started_opaque, 42u);
  EXPECT_EQ(Call(vm, sbi::kExtHsm, 0, {1, kRam, 0}).error, sbi::kErrAlreadyAvailable);
  EXPECT_EQ(Call(vm, sbi::kExtHsm, 0, {0, kRam, 0}).error, sbi::kErrAlreadyAvailable);
  EXPECT_EQ(Call(vm, sbi::kExtHsm, 0, {2, kRam, 0}).error, sbi::kErrInvalidParam);
  EXPECT_EQ(Call(vm, sbi::kExtHsm, 2, {9}).error, sbi::kErrInvalidParam);

  FakeVm vm2(2);
  // A start address outside guest RAM, or misaligned.
  EXPECT_EQ(Call(vm2, sbi::kExtHsm, 0, {1, 0x1000, 0}).error, sbi::kErrInvalidAddress);
  EXPECT_EQ(Call(vm2, sbi::kExtHsm, 0, {1, kRam + 1, 0}).error, sbi::kErrInvalidAddress);

  SbiOutcome stop = Call(vm2, sbi::kExtHsm, 1);
  EXPECT_FALSE(stop.resume);
  EXPECT_EQ(vm2.GetHartState(0), HartState::kStopped);

  FakeVm vm3(1);
  EXPECT_EQ(Call(vm3, sbi::kExtHsm, 3, {5, 0, 0}).error, sbi::kErrInvalidParam);
  EXPECT_EQ(Call(vm3, sbi::kExtHsm, 3, {0x80000000, 0x10, 0}).error, sbi::kErrInvalidAddress);
  SbiOutcome suspend = Call(vm3, sbi::kExtHsm, 3, {0, 0, 0});
  EXPECT_FALSE(suspend.resume);
  EXPECT_TRUE(vm3.suspended_retentive);
}

TEST(SbiSrst, ShutdownAndRebootWithReasons) {
  FakeVm vm(1);
  EXPECT_EQ(Call(vm, sbi::kExtSrst, 0, {3, 0}).error, sbi::kErrInvalidParam);
  EXPECT_EQ(Call(vm, sbi::kExtSrst, 0, {0, 2}).error, sbi::kErrInvalidParam);
  EXPECT_FALSE(vm.reset.has_value());
  SbiOutcome out = Call(vm, sbi::kExtSrst, 0, {0, 1});
  EXPECT_FALSE(out.resume);
  EXPECT_EQ(vm.reset, ResetType::kShutdown);
  EXPECT_EQ(vm.reset_reason, ResetReason::kSystemFailure);
  FakeVm vendor(1);
  EXPECT_FALSE(Call(vendor, sbi::kExtSrst, 0, {1, 0xf0000001}).resume);
  EXPECT_EQ(vendor.reset, ResetType::kColdReboot);
}

TEST(SbiDbcn, WriteReadAndWriteByte) {
  FakeVm vm(1);
  const char text[] = "hello, hypervisor";
  ASSERT_TRUE(
      vm.memory().WriteBuffer(GuestPhysAddr(kRam + 0x100), std::as_bytes(std::span(text))).ok());
  SbiOutcome w = Call(vm, sbi::kExtDbcn, 0, {5, kRam + 0x100, 0});
  EXPECT_EQ(w.error, sbi::kSuccess);
  EXPECT_EQ(w.value, 5u);
  EXPECT_EQ(vm.console, "hello");
  EXPECT_EQ(Call(vm, sbi::kExtDbcn, 2, {'!'}).error, sbi::kSuccess);
  EXPECT_EQ(vm.console, "hello!");
  // Outside guest RAM, or an address above 64 bits: INVALID_PARAM.
  EXPECT_EQ(Call(vm, sbi::kExtDbcn, 0, {4, 0x1000, 0}).error, sbi::kErrInvalidParam);
  EXPECT_EQ(Call(vm, sbi::kExtDbcn, 0, {4, kRam, 1}).error, sbi::kErrInvalidParam);
  // Running off the end of RAM: a partial write, then INVALID_PARAM.
  const uint64_t end = kRam + (1 << 20);
  SbiOutcome partial = Call(vm, sbi::kExtDbcn, 0, {8, end - 3, 0});
  EXPECT_EQ(partial.error, sbi::kSuccess);
  EXPECT_EQ(partial.value, 3u);
  // A huge length is served in bounded chunks.
  EXPECT_EQ(Call(vm, sbi::kExtDbcn, 0, {~uint64_t{0}, kRam, 0}).value, 256u);
  // Read what is waiting into guest memory.
  vm.input = "ab";
  SbiOutcome r = Call(vm, sbi::kExtDbcn, 1, {16, kRam + 0x200, 0});
  EXPECT_EQ(r.value, 2u);
  EXPECT_EQ(vm.memory().ReadObj<uint8_t>(GuestPhysAddr(kRam + 0x201)).value(), 'b');
}

TEST(SbiLegacy, ConsoleTimerShutdownAndTheRest) {
  FakeVm vm(1);
  SbiOutcome put = Call(vm, 0x01, 0, {'x'});
  EXPECT_TRUE(put.legacy);
  EXPECT_EQ(vm.console, "x");
  EXPECT_EQ(Call(vm, 0x02, 0).error, -1);  // no input
  vm.input = "q";
  EXPECT_EQ(Call(vm, 0x02, 0).error, 'q');
  Call(vm, 0x00, 0, {99});
  EXPECT_EQ(vm.timer, 99u);
  EXPECT_EQ(Call(vm, 0x04, 0).error, sbi::kErrNotSupported);
  EXPECT_FALSE(Call(vm, 0x08, 0).resume);
  EXPECT_EQ(vm.reset, ResetType::kShutdown);
}

TEST(Sbi, UnknownExtensionsAndFunctions) {
  FakeVm vm(1);
  EXPECT_EQ(Call(vm, 0x12345678, 0).error, sbi::kErrNotSupported);
  EXPECT_EQ(Call(vm, sbi::kExtDbcn, 3).error, sbi::kErrNotSupported);
  EXPECT_EQ(Call(vm, sbi::kExtHsm, 4).error, sbi::kErrNotSupported);
  EXPECT_EQ(Call(vm, sbi::kExtSrst, 1).error, sbi::kErrNotSupported);
}

}  // namespace
}  // namespace hv::arch::riscv64
