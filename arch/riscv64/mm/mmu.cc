#include <arch/riscv64/csr.h>
#include <arch/riscv64/mm/mmu.h>
#include <arch/riscv64/sbi.h>
#include <hv/base/check.h>

namespace hv::arch::riscv64 {
namespace {

// RFENCE function ids (SBI v1.0, chapter 8).
constexpr uint64_t kRemoteSfenceVma = 1;
constexpr uint64_t kRemoteSfenceVmaAsid = 2;
constexpr uint64_t kRemoteHfenceGvmaVmid = 3;
// An SBI fence size that means "the whole address space".
constexpr uint64_t kSbiFlushAll = ~uint64_t{0};

constexpr uint64_t kAsidShift = 44;
constexpr uint64_t kModeShift = 60;

uint64_t RootValue(uint64_t mode, HostPhysAddr root, uint16_t tag) {
  return (mode << kModeShift) | (uint64_t{tag} << kAsidShift) | (root.value() >> mm::kPageShift);
}

// sfence.vma for one page or, with addr == nullopt, for everything; limited
// to `asid` unless it is 0 (which also covers global mappings).
void SfenceVma(std::optional<uint64_t> addr, uint16_t asid) {
  if (addr && asid != 0) {
    // SAFETY: sfence.vma only orders and invalidates address-translation
    // caches; it has no memory operands. HS-mode may execute it.
    asm volatile("sfence.vma %0, %1" ::"r"(*addr), "r"(uint64_t{asid}) : "memory");
  } else if (addr) {
    // SAFETY: as above.
    asm volatile("sfence.vma %0, zero" ::"r"(*addr) : "memory");
  } else if (asid != 0) {
    // SAFETY: as above.
    asm volatile("sfence.vma zero, %0" ::"r"(uint64_t{asid}) : "memory");
  } else {
    // SAFETY: as above.
    asm volatile("sfence.vma zero, zero" ::: "memory");
  }
}

// hfence.gvma for one guest-physical page or, with gpa == nullopt, for all
// of `vmid`. rs1 holds the guest-physical address shifted right by 2.
void HfenceGvma(std::optional<uint64_t> gpa, uint16_t vmid) {
  const uint64_t vmid_reg = vmid;
  if (gpa) {
    // SAFETY: hfence.gvma only invalidates G-stage translation caches; no
    // memory operands. HS-mode may execute it (the H extension is present
    // wherever stage-2 spaces exist). The assembler needs +h to accept it.
    asm volatile(".option push\n.option arch, +h\nhfence.gvma %0, %1\n.option pop" ::"r"(*gpa >> 2),
                 "r"(vmid_reg)
                 : "memory");
  } else {
    // SAFETY: as above.
    asm volatile(".option push\n.option arch, +h\nhfence.gvma zero, %0\n.option pop" ::"r"(vmid_reg)
                 : "memory");
  }
}

// Runs `fence(addr)` for every page of every op on this hart; a full fence
// for "all" and for ops that freed page-table pages (sfence.vma/hfence.gvma
// with an address only retire leaf entries).
template <typename Fence>
void FenceLocal(std::span<const mm::TlbFlushOp> ops, Fence&& fence) {
  for (const mm::TlbFlushOp& op : ops) {
    if (op.is_all() || op.frees_tables()) {
      fence(std::nullopt);
      return;
    }
  }
  for (const mm::TlbFlushOp& op : ops) {
    for (uint64_t i = 0; i < op.num_pages(); ++i) fence(op.start() + (i << mm::kPageShift));
  }
}

// The same ops on the other harts of `cpus`, through SBI RFENCE.
void FenceRemote(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> ops, uint64_t fid, uint16_t tag) {
  cpus.Remove(CurrentHart());
  if (cpus.empty()) return;
  for (const mm::TlbFlushOp& op : ops) {
    const bool all = op.is_all() || op.frees_tables();
    const uint64_t start = all ? 0 : op.start();
    const uint64_t size = all ? kSbiFlushAll : op.num_pages() << mm::kPageShift;
    const sbi::SbiRet ret =
        sbi::Call(sbi::kExtRfence, fid, cpus.bits(), /*hart_mask_base=*/0, start, size, tag);
    HV_CHECK(ret.error == sbi::kSuccess, "SBI remote fence failed: %ld",
             static_cast<long>(ret.error));
    if (all) return;
  }
}

}  // namespace

mm::CpuId CurrentHart() { return 0; }

uint64_t ReadSatp() { return HV_CSR_READ(satp); }

void SatpMmu::SetRoot(HostPhysAddr root, uint16_t asid) {
  HV_CSR_WRITE(satp, RootValue(mode_, root, asid));
  // Writing satp does not invalidate anything; entries cached for `asid`
  // while the space was inactive here may be stale.
  SfenceVma(std::nullopt, asid);
}

void SatpMmu::ClearRoot() {
  HV_CSR_WRITE(satp, fallback_satp_);
  SfenceVma(std::nullopt, 0);
}

void SatpMmu::Flush(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> ops, uint16_t asid) {
  if (cpus.Contains(CurrentHart())) {
    FenceLocal(ops, [asid](std::optional<uint64_t> addr) { SfenceVma(addr, asid); });
  }
  FenceRemote(cpus, ops, asid != 0 ? kRemoteSfenceVmaAsid : kRemoteSfenceVma, asid);
}

void HgatpMmu::SetRoot(HostPhysAddr root, uint16_t vmid) {
  HV_CSR_WRITE(hgatp, RootValue(mode_, root, vmid));
  HfenceGvma(std::nullopt, vmid);
}

void HgatpMmu::ClearRoot() { HV_CSR_WRITE(hgatp, 0); }

void HgatpMmu::Flush(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> ops, uint16_t vmid) {
  if (cpus.Contains(CurrentHart())) {
    FenceLocal(ops, [vmid](std::optional<uint64_t> gpa) { HfenceGvma(gpa, vmid); });
  }
  FenceRemote(cpus, ops, kRemoteHfenceGvmaVmid, vmid);
}

}  // namespace hv::arch::riscv64
