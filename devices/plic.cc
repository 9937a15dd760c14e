#include <devices/plic.h>
#include <hv/base/check.h>

namespace hv::devices {
namespace {

constexpr uint64_t kPriorityBase = 0x000000;
constexpr uint64_t kPendingBase = 0x001000;
constexpr uint64_t kEnableBase = 0x002000;
constexpr uint64_t kEnableStride = 0x80;
constexpr uint64_t kContextBase = 0x200000;
constexpr uint64_t kContextStride = 0x1000;

}  // namespace

Plic::Plic(uint32_t contexts, PlicTarget* target) : contexts_(contexts), target_(target) {
  HV_CHECK(contexts > 0 && contexts <= kMaxContexts && contexts % 2 == 0, "PLIC with %u contexts",
           contexts);
}

void Plic::Reset() {
  priority_ = {};
  pending_ = {};
  claimed_ = {};
  enable_ = {};
  threshold_ = {};
  // Pending follows a level that is still high, as after a claim.
  for (uint32_t s = 1; s <= kSources; ++s) {
    if ((level_[s / 32] >> (s % 32)) & 1) SetPending(s, true);
  }
  Update();
}

void Plic::SetPending(uint32_t s, bool on) {
  if (on) {
    pending_[s / 32] |= 1u << (s % 32);
  } else {
    pending_[s / 32] &= ~(1u << (s % 32));
  }
}

uint32_t Plic::BestPending(uint32_t context) const {
  uint32_t best = 0;
  uint32_t best_priority = threshold_[context];
  for (uint32_t s = 1; s <= kSources; ++s) {
    // Ties go to the lowest source id, as on the SiFive PLIC.
    if (IsPending(s) && IsEnabled(context, s) && priority_[s] > best_priority) {
      best = s;
      best_priority = priority_[s];
    }
  }
  return best;
}

void Plic::Update() {
  for (uint32_t c = 0; c < contexts_; ++c) {
    const bool out = BestPending(c) != 0;
    if (out != output_[c]) {
      output_[c] = out;
      if (target_ != nullptr) target_->SetExternalInterrupt(c, out);
    }
  }
}

void Plic::SetIrqLevel(uint32_t irq, bool level) {
  if (irq == 0 || irq > kSources) return;
  const uint32_t bit = 1u << (irq % 32);
  if (level) {
    level_[irq / 32] |= bit;
  } else {
    level_[irq / 32] &= ~bit;
  }
  // The gateway forwards a level while the source is not being serviced.
  if ((claimed_[irq / 32] & bit) == 0) SetPending(irq, level);
  Update();
}

uint32_t Plic::Claim(uint32_t context) {
  const uint32_t s = BestPending(context);
  if (s != 0) {
    SetPending(s, false);
    claimed_[s / 32] |= 1u << (s % 32);
    Update();
  }
  return s;
}

void Plic::Complete(uint32_t context, uint32_t source) {
  // Completing a source that is not enabled for the context is ignored, as
  // the specification says.
  if (source == 0 || source > kSources || !IsEnabled(context, source)) return;
  const uint32_t bit = 1u << (source % 32);
  if ((claimed_[source / 32] & bit) == 0) return;
  claimed_[source / 32] &= ~bit;
  if (level_[source / 32] & bit) SetPending(source, true);
  Update();
}

Result<uint64_t> Plic::Read(uint64_t offset, size_t size) {
  if (size != 4 || offset % 4 != 0) return Error::kInvalidArgs;
  if (offset < kPendingBase) {
    const uint64_t s = offset / 4;
    if (s > kSources) return Error::kInvalidArgs;
    return priority_[s];
  }
  if (offset < kEnableBase) {
    const uint64_t w = (offset - kPendingBase) / 4;
    if (w >= kWords) return Error::kInvalidArgs;
    return pending_[w];
  }
  if (offset < kContextBase) {
    const uint64_t c = (offset - kEnableBase) / kEnableStride;
    const uint64_t w = (offset - kEnableBase) % kEnableStride / 4;
    if (c >= contexts_ || w >= kWords) return Error::kInvalidArgs;
    return enable_[c][w];
  }
  const uint64_t c = (offset - kContextBase) / kContextStride;
  const uint64_t reg = (offset - kContextBase) % kContextStride;
  if (c >= contexts_) return Error::kInvalidArgs;
  if (reg == 0) return threshold_[c];
  if (reg == 4) return Claim(static_cast<uint32_t>(c));
  return Error::kInvalidArgs;
}

Result<void> Plic::Write(uint64_t offset, size_t size, uint64_t value) {
  if (size != 4 || offset % 4 != 0) return Error::kInvalidArgs;
  const auto v = static_cast<uint32_t>(value);
  if (offset < kPendingBase) {
    const uint64_t s = offset / 4;
    if (s > kSources) return Error::kInvalidArgs;
    if (s != 0) priority_[s] = v & kPriorityMask;  // source 0 does not exist
    Update();
    return Ok();
  }
  if (offset < kEnableBase) return Ok();  // pending bits are read-only
  if (offset < kContextBase) {
    const uint64_t c = (offset - kEnableBase) / kEnableStride;
    const uint64_t w = (offset - kEnableBase) % kEnableStride / 4;
    if (c >= contexts_ || w >= kWords) return Error::kInvalidArgs;
    // Bit 0 of word 0 (source 0) and bits past kSources are hardwired to 0.
    uint32_t mask = ~0u;
    if (w == 0) mask &= ~1u;
    if (w == kWords - 1 && (kSources + 1) % 32 != 0) mask &= (1u << ((kSources + 1) % 32)) - 1;
    enable_[c][w] = v & mask;
    Update();
    return Ok();
  }
  const uint64_t c = (offset - kContextBase) / kContextStride;
  const uint64_t reg = (offset - kContextBase) % kContextStride;
  if (c >= contexts_) return Error::kInvalidArgs;
  if (reg == 0) {
    threshold_[c] = v & kPriorityMask;
    Update();
    return Ok();
  }
  if (reg == 4) {
    Complete(static_cast<uint32_t>(c), v);
    return Ok();
  }
  return Error::kInvalidArgs;
}

}  // namespace hv::devices
