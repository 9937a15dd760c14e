// The SBI implementation that guests (VS-mode) call with ecall: the
// extensions BASE, TIME, IPI, RFENCE, HSM, SRST and DBCN of SBI v2.0, and the
// legacy timer, console and shutdown calls.
//
// HandleSbiCall() is pure logic over an SbiEnvironment (the calling vCPU and
// its VM), so it is tested on the host with a fake environment and runs
// unchanged in the hypervisor. Every argument comes from the guest: anything
// malformed gets the SBI error code the specification prescribes, never a
// hypervisor panic.
#ifndef ARCH_RISCV64_SBI_EMULATION_H_
#define ARCH_RISCV64_SBI_EMULATION_H_

#include <arch/riscv64/sbi.h>
#include <guestmem/accessor.h>
#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::arch::riscv64 {

// An ecall from the guest: a7 = extension, a6 = function, a0..a5 = args.
struct SbiCall {
  uint64_t eid;
  uint64_t fid;
  std::array<uint64_t, 6> args;
};

// What to do after the call.
struct SbiOutcome {
  int64_t error = sbi::kSuccess;  // written to a0
  uint64_t value = 0;             // written to a1 (not for legacy calls)
  bool legacy = false;            // legacy calls return only a0 (= error)
  // false: the calling vCPU must not resume (it stopped, suspended, or the
  // VM is being reset or shut down).
  bool resume = true;
};

// HSM hart states, SRST reset types and reasons (from the specification).
using sbi::HartState;
using sbi::ResetReason;
using sbi::ResetType;

// The calling vCPU and its VM, as the SBI implementation sees them. Hart ids
// are the VM's (virtual) ones: 0 .. num_harts() - 1.
class SbiEnvironment {
 public:
  virtual ~SbiEnvironment() = default;

  virtual uint64_t hart_id() const = 0;
  virtual uint64_t num_harts() const = 0;
  virtual const guestmem::GuestMemoryAccessor& memory() const = 0;

  // Programs the calling hart's timer (stimecmp semantics: absolute time).
  virtual void SetTimer(uint64_t stime_value) = 0;
  // Console bytes from the guest; ConsoleRead returns nullopt when no input
  // is waiting.
  virtual void ConsoleWrite(std::span<const std::byte> bytes) = 0;
  virtual std::optional<uint8_t> ConsoleRead() = 0;
  // Raises a supervisor software interrupt on `hart` (a valid hart id).
  virtual void SendIpi(uint64_t hart) = 0;
  // Remote fences for `hart` (a valid hart id). size == ~0 means "all".
  virtual void RemoteFenceI(uint64_t hart) = 0;
  virtual void RemoteSfenceVma(uint64_t hart, uint64_t start, uint64_t size,
                               std::optional<uint64_t> asid) = 0;
  // HSM.
  virtual HartState GetHartState(uint64_t hart) const = 0;
  // Starts a stopped hart at `start_addr` (guest-physical) with a1 = opaque.
  virtual void StartHart(uint64_t hart, GuestPhysAddr start_addr, uint64_t opaque) = 0;
  // Stops the calling hart.
  virtual void StopSelf() = 0;
  // Suspends the calling hart; non-retentive suspends resume at
  // resume_addr with a1 = opaque.
  virtual void SuspendSelf(bool retentive, GuestPhysAddr resume_addr, uint64_t opaque) = 0;
  // Resets or shuts down the VM.
  virtual void SystemReset(ResetType type, ResetReason reason) = 0;
};

// The SBI implementation id we report (not one registered with RISC-V
// International; "HV" in ASCII) and its version.
inline constexpr uint64_t kSbiImplId = 0x4856;
inline constexpr uint64_t kSbiImplVersion = 1;
// SBI specification v2.0: major in bits 30:24, minor in bits 23:0.
inline constexpr uint64_t kSbiSpecVersion = uint64_t{2} << 24;

SbiOutcome HandleSbiCall(const SbiCall& call, SbiEnvironment& env);

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_SBI_EMULATION_H_
