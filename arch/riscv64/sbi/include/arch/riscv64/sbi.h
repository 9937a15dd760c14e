// Calls from HS-mode into the SBI firmware (OpenSBI), per the RISC-V SBI
// specification v1.0: a0-a5 arguments, a6 function id, a7 extension id;
// the firmware returns an error code in a0 and a value in a1.
#ifndef ARCH_RISCV64_SBI_H_
#define ARCH_RISCV64_SBI_H_

#include <hv/base/std.h>

namespace hv::arch::riscv64::sbi {

struct SbiRet {
  int64_t error;
  uint64_t value;
};

// SBI error codes.
inline constexpr int64_t kSuccess = 0;
inline constexpr int64_t kErrFailed = -1;
inline constexpr int64_t kErrNotSupported = -2;
inline constexpr int64_t kErrInvalidParam = -3;
inline constexpr int64_t kErrDenied = -4;
inline constexpr int64_t kErrInvalidAddress = -5;
inline constexpr int64_t kErrAlreadyAvailable = -6;
inline constexpr int64_t kErrAlreadyStarted = -7;
inline constexpr int64_t kErrAlreadyStopped = -8;

// Extension ids.
inline constexpr uint64_t kLegacyConsolePutchar = 0x01;
inline constexpr uint64_t kLegacyConsoleGetchar = 0x02;
inline constexpr uint64_t kExtBase = 0x10;
inline constexpr uint64_t kExtTime = 0x54494D45;    // "TIME"
inline constexpr uint64_t kExtIpi = 0x735049;       // "sPI"
inline constexpr uint64_t kExtRfence = 0x52464E43;  // "RFNC"
inline constexpr uint64_t kExtHsm = 0x48534D;       // "HSM"
inline constexpr uint64_t kExtSrst = 0x53525354;    // "SRST"
inline constexpr uint64_t kExtDbcn = 0x4442434E;    // "DBCN"

// HSM functions and hart states.
inline constexpr uint64_t kHsmHartStart = 0;
inline constexpr uint64_t kHsmHartStop = 1;
inline constexpr uint64_t kHsmHartGetStatus = 2;
inline constexpr uint64_t kHsmHartSuspend = 3;
enum class HartState : uint64_t {
  kStarted = 0,
  kStopped = 1,
  kStartPending = 2,
  kStopPending = 3,
  kSuspended = 4,
  kSuspendPending = 5,
  kResumePending = 6,
};

// SRST: the one function, its reset types and reasons.
inline constexpr uint64_t kSrstSystemReset = 0;
enum class ResetType : uint32_t { kShutdown = 0, kColdReboot = 1, kWarmReboot = 2 };
enum class ResetReason : uint32_t { kNone = 0, kSystemFailure = 1 };

SbiRet Call(uint64_t eid, uint64_t fid, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
            uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0);

// The legacy console (extension 0x01): one byte, no error reporting.
void ConsolePutChar(char c);

}  // namespace hv::arch::riscv64::sbi

#endif  // ARCH_RISCV64_SBI_H_
