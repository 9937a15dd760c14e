#include <arch/riscv64/sbi_emulation.h>

namespace hv::arch::riscv64 {
namespace {

using sbi::kErrAlreadyAvailable;
using sbi::kErrInvalidAddress;
using sbi::kErrInvalidParam;
using sbi::kErrNotSupported;

// Legacy extensions (SBI v0.1).
constexpr uint64_t kLegacySetTimer = 0x00;
constexpr uint64_t kLegacyConsolePutchar = 0x01;
constexpr uint64_t kLegacyConsoleGetchar = 0x02;
constexpr uint64_t kLegacyShutdown = 0x08;

// The most bytes one DBCN read or write handles; the call reports how many
// it did and the guest calls again for the rest.
constexpr size_t kConsoleChunk = 256;

SbiOutcome Ok(uint64_t value = 0) { return SbiOutcome{.value = value}; }
SbiOutcome Err(int64_t error) { return SbiOutcome{.error = error}; }

bool IsSupportedExtension(uint64_t eid) {
  switch (eid) {
    case sbi::kExtBase:
    case sbi::kExtTime:
    case sbi::kExtIpi:
    case sbi::kExtRfence:
    case sbi::kExtHsm:
    case sbi::kExtSrst:
    case sbi::kExtDbcn:
    case kLegacySetTimer:
    case kLegacyConsolePutchar:
    case kLegacyConsoleGetchar:
    case kLegacyShutdown:
      return true;
  }
  return false;
}

SbiOutcome Base(const SbiCall& call) {
  switch (call.fid) {
    case 0:
      return Ok(kSbiSpecVersion);
    case 1:
      return Ok(kSbiImplId);
    case 2:
      return Ok(kSbiImplVersion);
    case 3:
      return Ok(IsSupportedExtension(call.args[0]) ? 1 : 0);
    case 4:  // mvendorid, marchid, mimpid: a virtual machine reports 0
    case 5:
    case 6:
      return Ok(0);
  }
  return Err(kErrNotSupported);
}

// Calls `fn(hart)` for every hart selected by (hart_mask, hart_mask_base),
// per the SBI hart-mask convention. INVALID_PARAM if it names a hart that
// does not exist.
template <typename Fn>
int64_t ForEachHart(const SbiEnvironment& env, uint64_t mask, uint64_t base, Fn fn) {
  const uint64_t harts = env.num_harts();
  if (base == ~uint64_t{0}) {
    for (uint64_t h = 0; h < harts; ++h) fn(h);
    return sbi::kSuccess;
  }
  if (mask == 0) return sbi::kSuccess;
  if (base >= harts) return kErrInvalidParam;
  for (uint64_t bit = 0; bit < 64; ++bit) {
    if ((mask & (uint64_t{1} << bit)) == 0) continue;
    if (bit >= harts - base) return kErrInvalidParam;
  }
  for (uint64_t bit = 0; bit < 64 && bit < harts - base; ++bit) {
    if (mask & (uint64_t{1} << bit)) fn(base + bit);
  }
  return sbi::kSuccess;
}

SbiOutcome Ipi(const SbiCall& call, SbiEnvironment& env) {
  if (call.fid != 0) return Err(kErrNotSupported);
  return Err(ForEachHart(env, call.args[0], call.args[1], [&](uint64_t h) { env.SendIpi(h); }));
}

SbiOutcome Rfence(const SbiCall& call, SbiEnvironment& env) {
  const uint64_t mask = call.args[0];
  const uint64_t base = call.args[1];
  switch (call.fid) {
    case 0:
      return Err(ForEachHart(env, mask, base, [&](uint64_t h) { env.RemoteFenceI(h); }));
    case 1:
    case 2: {
      const uint64_t start = call.args[2];
      const uint64_t size = call.args[3];
      // A range that wraps is invalid unless it means "everything".
      uint64_t end;
      if (size != ~uint64_t{0} && __builtin_add_overflow(start, size, &end)) {
        return Err(kErrInvalidAddress);
      }
      const std::optional<uint64_t> asid =
          call.fid == 2 ? std::optional<uint64_t>(call.args[4]) : std::nullopt;
      return Err(ForEachHart(env, mask, base,
                             [&](uint64_t h) { env.RemoteSfenceVma(h, start, size, asid); }));
    }
  }
  // The hfence variants (3-6) are for a hypervisor in the guest: not offered.
  return Err(kErrNotSupported);
}

SbiOutcome Hsm(const SbiCall& call, SbiEnvironment& env) {
  switch (call.fid) {
    case 0: {  // hart_start(hartid, start_addr, opaque)
      const uint64_t hart = call.args[0];
      if (hart >= env.num_harts()) return Err(kErrInvalidParam);
      if (env.GetHartState(hart) != HartState::kStopped) return Err(kErrAlreadyAvailable);
      const GuestPhysAddr start(call.args[1]);
      // The start address must be guest RAM (and 2-byte aligned code).
      if (!start.IsAligned(2) || !env.memory().TranslateAndGetLimit(start).ok()) {
        return Err(kErrInvalidAddress);
      }
      env.StartHart(hart, start, call.args[2]);
      return Ok();
    }
    case 1:  // hart_stop()
      env.StopSelf();
      return SbiOutcome{.resume = false};
    case 2: {  // hart_get_status(hartid)
      const uint64_t hart = call.args[0];
      if (hart >= env.num_harts()) return Err(kErrInvalidParam);
      return Ok(static_cast<uint64_t>(env.GetHartState(hart)));
    }
    case 3: {  // hart_suspend(suspend_type, resume_addr, opaque)
      const uint64_t type = call.args[0] & 0xffff'ffff;
      const bool retentive = type == 0x0000'0000;
      const bool non_retentive = type == 0x8000'0000;
      if (!retentive && !non_retentive) return Err(kErrInvalidParam);
      const GuestPhysAddr resume(call.args[1]);
      if (non_retentive &&
          (!resume.IsAligned(2) || !env.memory().TranslateAndGetLimit(resume).ok())) {
        return Err(kErrInvalidAddress);
      }
      env.SuspendSelf(retentive, resume, call.args[2]);
      // A retentive suspend returns SUCCESS when the hart resumes.
      return SbiOutcome{.resume = false};
    }
  }
  return Err(kErrNotSupported);
}

SbiOutcome Srst(const SbiCall& call, SbiEnvironment& env) {
  if (call.fid != 0) return Err(kErrNotSupported);
  const uint64_t type = call.args[0] & 0xffff'ffff;
  const uint64_t reason = call.args[1] & 0xffff'ffff;
  if (type > 2) return Err(kErrInvalidParam);
  // Reasons 2..0xEFFFFFFF are reserved; 0xF0000000.. are vendor-specific.
  if (reason > 1 && reason < 0xf000'0000) return Err(kErrInvalidParam);
  env.SystemReset(static_cast<ResetType>(type),
                  reason == 1 ? ResetReason::kSystemFailure : ResetReason::kNone);
  return SbiOutcome{.resume = false};
}

SbiOutcome Dbcn(const SbiCall& call, SbiEnvironment& env) {
  switch (call.fid) {
    case 0:    // console_write(num_bytes, base_addr_lo, base_addr_hi)
    case 1: {  // console_read(num_bytes, base_addr_lo, base_addr_hi)
      // On RV64 a guest-physical address fits in base_addr_lo.
      if (call.args[2] != 0) return Err(kErrInvalidParam);
      const size_t n = static_cast<size_t>(std::min<uint64_t>(call.args[0], kConsoleChunk));
      const GuestPhysAddr gpa(call.args[1]);
      std::array<std::byte, kConsoleChunk> buf;
      if (call.fid == 0) {
        mm::CopyResult r = env.memory().ReadBuffer(gpa, std::span(buf).first(n));
        const size_t got = r.ok() ? r.value() : r.error().done;
        if (got == 0 && n != 0) return Err(kErrInvalidParam);
        env.ConsoleWrite(std::span(buf).first(got));
        return Ok(got);
      }
      size_t got = 0;
      while (got < n) {
        const std::optional<uint8_t> c = env.ConsoleRead();
        if (!c) break;
        buf[got++] = static_cast<std::byte>(*c);
      }
      mm::CopyResult r = env.memory().WriteBuffer(gpa, std::span(buf).first(got));
      if (!r.ok()) return Err(kErrInvalidParam);
      return Ok(got);
    }
    case 2: {  // console_write_byte(byte)
      const std::byte b{static_cast<uint8_t>(call.args[0])};
      env.ConsoleWrite(std::span(&b, 1));
      return Ok();
    }
  }
  return Err(kErrNotSupported);
}

SbiOutcome Legacy(const SbiCall& call, SbiEnvironment& env) {
  SbiOutcome out{.legacy = true};
  switch (call.eid) {
    case kLegacySetTimer:
      env.SetTimer(call.args[0]);
      return out;
    case kLegacyConsolePutchar: {
      const std::byte b{static_cast<uint8_t>(call.args[0])};
      env.ConsoleWrite(std::span(&b, 1));
      return out;
    }
    case kLegacyConsoleGetchar: {
      const std::optional<uint8_t> c = env.ConsoleRead();
      out.error = c ? static_cast<int64_t>(*c) : -1;
      return out;
    }
    case kLegacyShutdown:
      env.SystemReset(ResetType::kShutdown, ResetReason::kNone);
      out.resume = false;
      return out;
  }
  out.error = kErrNotSupported;
  return out;
}

}  // namespace

SbiOutcome HandleSbiCall(const SbiCall& call, SbiEnvironment& env) {
  switch (call.eid) {
    case sbi::kExtBase:
      return Base(call);
    case sbi::kExtTime:
      if (call.fid != 0) return Err(kErrNotSupported);
      env.SetTimer(call.args[0]);
      return Ok();
    case sbi::kExtIpi:
      return Ipi(call, env);
    case sbi::kExtRfence:
      return Rfence(call, env);
    case sbi::kExtHsm:
      return Hsm(call, env);
    case sbi::kExtSrst:
      return Srst(call, env);
    case sbi::kExtDbcn:
      return Dbcn(call, env);
  }
  if (call.eid <= 0x0f) {
    // The legacy range. Remote fences and IPIs (0x03-0x07) take guest-virtual
    // hart-mask pointers; guests use the IPI and RFENCE extensions instead.
    return Legacy(call, env);
  }
  return Err(kErrNotSupported);
}

}  // namespace hv::arch::riscv64
