// How a VM ended, and what a test image expects of it.
//
// A VM ends when the guest asks (SBI SRST / legacy shutdown: kShutdown with
// the guest's reason, or kReboot), when the hypervisor stops it for
// something it cannot or will not handle (kStopped, with a StopReason and,
// for accesses, the guest-physical address), or when the image ends while
// it still runs (kStillRunning, which some test images expect: a guest that
// spins forever must not keep the others from finishing).
#ifndef HV_RISCV64_OUTCOME_H_
#define HV_RISCV64_OUTCOME_H_

#include <hv/base/std.h>

namespace hv::riscv64 {

enum class VmEnd : uint8_t { kRunning, kShutdown, kReboot, kStopped, kStillRunning };

// What SRST said (the legacy shutdown says kNone).
enum class ShutdownReason : uint8_t { kNone, kSystemFailure };

enum class StopReason : uint8_t {
  kNone,
  // A guest-page fault at an address with neither RAM nor a device.
  kOutsideRamAndDevices,
  // An instruction fetch from outside RAM (instruction guest-page fault).
  kFetchOutsideRam,
  // The MMIO instruction could not be fetched, decoded or emulated.
  kBadMmioInstruction,
  // An exception the hypervisor does not handle for guests.
  kUnexpectedException,
  // Every vCPU is stopped or waits for an interrupt that cannot come.
  kHalted,
};

const char* VmEndName(VmEnd end);
const char* StopReasonName(StopReason reason);
const char* ShutdownReasonName(ShutdownReason reason);

struct VmOutcome {
  VmEnd end = VmEnd::kRunning;
  ShutdownReason shutdown = ShutdownReason::kNone;  // kShutdown
  StopReason stop = StopReason::kNone;              // kStopped
  uint64_t gpa = 0;                                 // kStopped for an access
  uint64_t pc = 0;                                  // kStopped: the guest pc
  uint32_t reboots = 0;                             // reboots that restarted the VM before it ended
};

// What a test image expects of one VM.
struct Expectation {
  VmEnd end = VmEnd::kShutdown;
  ShutdownReason shutdown = ShutdownReason::kNone;
  StopReason stop = StopReason::kNone;
  std::optional<uint64_t> gpa;      // if set, kStopped must be at this address
  std::optional<uint32_t> reboots;  // if set, VmOutcome::reboots must be this

  // The guest shut itself down with reason "none" (a passing test guest).
  static constexpr Expectation CleanShutdown() { return Expectation{}; }
  static constexpr Expectation ShutdownWith(ShutdownReason reason) {
    return Expectation{.shutdown = reason};
  }
  static constexpr Expectation Stopped(StopReason reason, std::optional<uint64_t> gpa = {}) {
    return Expectation{.end = VmEnd::kStopped, .stop = reason, .gpa = gpa};
  }
  static constexpr Expectation StillRunning() { return Expectation{.end = VmEnd::kStillRunning}; }
  // The same, after exactly `n` reboots that restarted the VM.
  constexpr Expectation AfterReboots(uint32_t n) const {
    Expectation e = *this;
    e.reboots = n;
    return e;
  }

  bool Matches(const VmOutcome& outcome) const;
};

// "shutdown (none)", "stopped: ... at gpa 0x..." into buf; returns buf.
const char* DescribeOutcome(const VmOutcome& outcome, std::span<char> buf);
const char* DescribeExpectation(const Expectation& expect, std::span<char> buf);

}  // namespace hv::riscv64

#endif  // HV_RISCV64_OUTCOME_H_
