#include <hv/base/format.h>
#include <hv/riscv64/outcome.h>

namespace hv::riscv64 {

const char* VmEndName(VmEnd end) {
  switch (end) {
    case VmEnd::kRunning:
      return "running";
    case VmEnd::kShutdown:
      return "shutdown";
    case VmEnd::kReboot:
      return "reboot";
    case VmEnd::kStopped:
      return "stopped";
    case VmEnd::kStillRunning:
      return "still running";
  }
  return "unknown";
}

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone:
      return "none";
    case StopReason::kOutsideRamAndDevices:
      return "access outside RAM and devices";
    case StopReason::kFetchOutsideRam:
      return "instruction fetch outside RAM";
    case StopReason::kBadMmioInstruction:
      return "MMIO instruction not emulated";
    case StopReason::kUnexpectedException:
      return "unexpected exception";
    case StopReason::kHalted:
      return "halted (no vCPU can run again)";
  }
  return "unknown";
}

const char* ShutdownReasonName(ShutdownReason reason) {
  switch (reason) {
    case ShutdownReason::kNone:
      return "none";
    case ShutdownReason::kSystemFailure:
      return "system failure";
  }
  return "unknown";
}

bool Expectation::Matches(const VmOutcome& outcome) const {
  if (outcome.end != end) return false;
  if (reboots && *reboots != outcome.reboots) return false;
  switch (end) {
    case VmEnd::kShutdown:
      return outcome.shutdown == shutdown;
    case VmEnd::kStopped:
      return outcome.stop == stop && (!gpa || *gpa == outcome.gpa);
    default:
      return true;
  }
}

namespace {

// Appends " after N reboot(s)" to the text in buf.
void AppendReboots(std::span<char> buf, uint32_t reboots) {
  const size_t used = std::string_view(buf.data()).size();
  Format(buf.data() + used, buf.size() - used, " after %u reboot(s)", reboots);
}

}  // namespace

const char* DescribeOutcome(const VmOutcome& outcome, std::span<char> buf) {
  switch (outcome.end) {
    case VmEnd::kShutdown:
      Format(buf.data(), buf.size(), "shutdown (reason: %s)", ShutdownReasonName(outcome.shutdown));
      break;
    case VmEnd::kStopped:
      Format(buf.data(), buf.size(), "stopped: %s (gpa %#lx, pc %#lx)",
             StopReasonName(outcome.stop), outcome.gpa, outcome.pc);
      break;
    default:
      Format(buf.data(), buf.size(), "%s", VmEndName(outcome.end));
      break;
  }
  if (outcome.reboots != 0) AppendReboots(buf, outcome.reboots);
  return buf.data();
}

const char* DescribeExpectation(const Expectation& expect, std::span<char> buf) {
  switch (expect.end) {
    case VmEnd::kShutdown:
      Format(buf.data(), buf.size(), "shutdown (reason: %s)", ShutdownReasonName(expect.shutdown));
      break;
    case VmEnd::kStopped:
      if (expect.gpa) {
        Format(buf.data(), buf.size(), "stopped: %s (gpa %#lx)", StopReasonName(expect.stop),
               *expect.gpa);
      } else {
        Format(buf.data(), buf.size(), "stopped: %s", StopReasonName(expect.stop));
      }
      break;
    default:
      Format(buf.data(), buf.size(), "%s", VmEndName(expect.end));
      break;
  }
  if (expect.reboots) AppendReboots(buf, *expect.reboots);
  return buf.data();
}

}  // namespace hv::riscv64
