// The riscv64 MMU hooks of mm: satp (the hypervisor's own Sv39/Sv48 spaces,
// sfence.vma) and hgatp (guest G-stage Sv39x4/Sv48x4 spaces, hfence.gvma).
// Kernel only.
//
// CPUs are harts: CpuId n is hart n (true on QEMU virt, whose harts are
// numbered from 0). Shootdowns to other harts go through the SBI RFENCE
// extension; the current hart fences itself.
#ifndef ARCH_RISCV64_MM_MMU_H_
#define ARCH_RISCV64_MM_MMU_H_

#include <hv/base/addr.h>
#include <hv/base/std.h>
#include <mm/cpu_set.h>
#include <mm/paging.h>
#include <mm/tlb.h>

namespace hv::arch::riscv64 {

// The hart the caller runs on, as a CpuId. Until SMP bring-up records a
// per-hart id, only the boot hart runs kernel code, and this is 0.
mm::CpuId CurrentHart();

// The current hart's satp (at boot: the boot page table, Sv39, ASID 0).
uint64_t ReadSatp();
// The fields of a satp value: translation mode, and the root table's
// physical address.
constexpr uint64_t SatpMode(uint64_t satp) { return satp >> 60; }
constexpr HostPhysAddr SatpRoot(uint64_t satp) {
  return HostPhysAddr((satp & ((uint64_t{1} << 44) - 1)) << mm::kPageShift);
}

class SatpMmu final : public mm::Mmu {
 public:
  // `mode`: satp.MODE of the spaces (8 Sv39, 9 Sv48). `fallback_satp`: what
  // ClearRoot writes (the kernel's own table, or 0 for Bare).
  SatpMmu(uint64_t mode, uint64_t fallback_satp) : mode_(mode), fallback_satp_(fallback_satp) {}

  mm::CpuId CurrentCpu() const override { return CurrentHart(); }
  void SetRoot(HostPhysAddr root, uint16_t asid) override;
  void ClearRoot() override;
  void Flush(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> ops, uint16_t asid) override;

 private:
  uint64_t mode_;
  uint64_t fallback_satp_;
};

class HgatpMmu final : public mm::Mmu {
 public:
  // `mode`: hgatp.MODE of the spaces (8 Sv39x4, 9 Sv48x4). ClearRoot writes
  // hgatp = 0 (Bare: no guest runs without a stage-2 space).
  explicit HgatpMmu(uint64_t mode) : mode_(mode) {}

  mm::CpuId CurrentCpu() const override { return CurrentHart(); }
  void SetRoot(HostPhysAddr root, uint16_t vmid) override;
  void ClearRoot() override;
  void Flush(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> ops, uint16_t vmid) override;

 private:
  uint64_t mode_;
};

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_MM_MMU_H_
