// The x86_64 MMU hooks of mm: CR3 (the hypervisor's own 4-level spaces,
// invlpg) and AMD nCR3 (nested page tables). Kernel only.
//
// There are no inter-processor interrupts yet, so a shootdown may only
// target the current CPU; Flush checks that.
#ifndef ARCH_X86_64_MM_MMU_H_
#define ARCH_X86_64_MM_MMU_H_

#include <hv/base/addr.h>
#include <hv/base/std.h>
#include <mm/cpu_set.h>
#include <mm/tlb.h>

namespace hv::arch::x86_64 {

// The CPU the caller runs on. Until SMP bring-up, only the boot CPU runs
// kernel code, and this is 0.
mm::CpuId CurrentCpuIndex();

// The root table CR3 points to (at boot: the boot PML4).
HostPhysAddr ReadCr3Root();

class Cr3Mmu final : public mm::Mmu {
 public:
  // `fallback_root`: what ClearRoot loads (the kernel's own PML4).
  explicit Cr3Mmu(HostPhysAddr fallback_root) : fallback_root_(fallback_root) {}

  mm::CpuId CurrentCpu() const override { return CurrentCpuIndex(); }
  // Loads CR3 (PCIDs are not used: `asid` is ignored, and the load flushes
  // every non-global entry).
  void SetRoot(HostPhysAddr root, uint16_t asid) override;
  void ClearRoot() override;
  // invlpg per page (it also drops paging-structure caches); a flush of
  // everything, global entries included, for "all".
  void Flush(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> ops, uint16_t asid) override;

 private:
  HostPhysAddr fallback_root_;
};

// Nested paging. nCR3, the ASID and the TLB control live in the VMCB, which
// the VM-entry path fills from what this records per CPU. INVLPGA takes a
// guest-virtual address and so cannot retire a nested translation: every
// flush becomes "flush this ASID at the next VMRUN" (VMCB TLB_CONTROL = 3).
class NptMmu final : public mm::Mmu {
 public:
  struct VmrunState {
    HostPhysAddr ncr3;  // HostPhysAddr() when no nested space is active
    uint16_t asid;
    bool flush_asid;
  };

  NptMmu() = default;

  mm::CpuId CurrentCpu() const override { return CurrentCpuIndex(); }
  void SetRoot(HostPhysAddr root, uint16_t asid) override;
  void ClearRoot() override;
  void Flush(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> ops, uint16_t asid) override;

  // For the VM-entry path on the current CPU: what to put in the VMCB, and
  // whether to flush the ASID (which this clears).
  VmrunState TakeVmrunState();

 private:
  struct PerCpu {
    std::atomic<uint64_t> ncr3{0};
    std::atomic<uint16_t> asid{0};
    std::atomic<bool> flush_asid{false};
  };
  std::array<PerCpu, mm::kMaxCpus> cpus_{};
};

}  // namespace hv::arch::x86_64

#endif  // ARCH_X86_64_MM_MMU_H_
