// A model of the SiFive PLIC (platform-level interrupt controller) as QEMU's
// virt machine has it, for guests: sources 1..kSources with priorities,
// pending bits, per-context enables, thresholds and claim/complete.
//
// Register map (offsets from the base, all 32-bit):
//   0x000000 + 4*s          priority of source s (0 = never interrupts)
//   0x001000 + 4*(s/32)     pending bits (read-only)
//   0x002000 + 0x80*c + 4*w enable bits of context c, word w
//   0x200000 + 0x1000*c     threshold of context c
//   0x200004 + 0x1000*c     claim (read) / complete (write) of context c
//
// Contexts follow QEMU's numbering: context 2n is hart n's M-mode external
// interrupt, 2n + 1 its S-mode one. Sources are level-triggered through the
// gateway: a source that is claimed stays out of the pending set until it is
// completed. Whenever a context's "interrupt pending above threshold" state
// changes, the model tells its PlicTarget, which for a guest's S-mode
// context raises or lowers VSEIP of that vCPU.
//
// Everything in the register interface is guest-controlled: unknown offsets,
// accesses that are not 32 bits wide, and out-of-range sources or contexts
// are kInvalidArgs; nothing panics.
#ifndef DEVICES_PLIC_H_
#define DEVICES_PLIC_H_

#include <devices/bus.h>
#include <hv/base/std.h>

namespace hv::devices {

// Where a context's external-interrupt line goes.
class PlicTarget {
 public:
  virtual ~PlicTarget() = default;
  virtual void SetExternalInterrupt(uint32_t context, bool pending) = 0;
};

class Plic final : public MmioDevice, public IrqSink {
 public:
  // Source ids 1..kSources (as `riscv,ndev` in the device tree).
  static constexpr uint32_t kSources = 95;
  static constexpr uint32_t kMaxContexts = 16;  // 8 harts
  static constexpr uint32_t kPriorityMask = 7;  // 3 priority bits
  static constexpr uint64_t kSize = 0x600000;   // as in the device tree

  // `contexts` = 2 * harts, at most kMaxContexts. REQUIRES: contexts even
  // and in range (a configuration value, checked by the VM builder).
  Plic(uint32_t contexts, PlicTarget* target);

  Result<uint64_t> Read(uint64_t offset, size_t size) override;
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override;

  // IrqSink: the level of source `irq`. Out-of-range sources are ignored
  // (devices are wired by the hypervisor, not the guest).
  void SetIrqLevel(uint32_t irq, bool level) override;

  // The source a claim by `context` would return now (0 if none).
  uint32_t BestPending(uint32_t context) const;

  // Back to the power-on state (a machine reset): priorities, enables and
  // thresholds 0, nothing pending or claimed, every output low. Source
  // levels stay what the devices drive (a device reset lowers its own).
  void Reset();

 private:
  static constexpr uint32_t kWords = (kSources + 1 + 31) / 32;

  bool IsPending(uint32_t s) const { return (pending_[s / 32] >> (s % 32)) & 1; }
  bool IsEnabled(uint32_t c, uint32_t s) const { return (enable_[c][s / 32] >> (s % 32)) & 1; }
  void SetPending(uint32_t s, bool on);
  uint32_t Claim(uint32_t context);
  void Complete(uint32_t context, uint32_t source);
  // Recomputes every context's output and tells the target about changes.
  void Update();

  uint32_t contexts_;
  PlicTarget* target_;
  std::array<uint32_t, kSources + 1> priority_{};
  std::array<uint32_t, kWords> pending_{};
  std::array<uint32_t, kWords> level_{};
  std::array<uint32_t, kWords> claimed_{};
  std::array<std::array<uint32_t, kWords>, kMaxContexts> enable_{};
  std::array<uint32_t, kMaxContexts> threshold_{};
  std::array<bool, kMaxContexts> output_{};
};

}  // namespace hv::devices

#endif  // DEVICES_PLIC_H_
