#include <arch/x86_64/mm/mmu.h>
#include <arch/x86_64/mm/pte.h>
#include <hv/base/check.h>

namespace hv::arch::x86_64 {
namespace {

constexpr uint64_t kCr4Pge = uint64_t{1} << 7;

void WriteCr3(uint64_t value) {
  // SAFETY: loading CR3 switches to a page table whose kernel half maps the
  // running code (VmSpace roots share it, the fallback root is the
  // kernel's). CPL 0.
  asm volatile("mov %0, %%cr3" ::"r"(value) : "memory");
}

uint64_t ReadCr3() {
  uint64_t value;
  // SAFETY: reading CR3 has no side effects. CPL 0.
  asm volatile("mov %%cr3, %0" : "=r"(value));
  return value;
}

uint64_t ReadCr4() {
  uint64_t value;
  // SAFETY: reading CR4 has no side effects. CPL 0.
  asm volatile("mov %%cr4, %0" : "=r"(value));
  return value;
}

void WriteCr4(uint64_t value) {
  // SAFETY: only CR4.PGE is toggled (by FlushAll), which flushes the TLB
  // and changes nothing else. CPL 0.
  asm volatile("mov %0, %%cr4" ::"r"(value) : "memory");
}

void Invlpg(uint64_t addr) {
  // SAFETY: invlpg only invalidates translations for `addr` (and
  // paging-structure caches); the operand is not accessed. CPL 0.
  asm volatile("invlpg (%0)" ::"r"(addr) : "memory");
}

// Every TLB entry, global ones included: toggling CR4.PGE does that; without
// PGE there are no global entries and reloading CR3 suffices.
void FlushAll() {
  const uint64_t cr4 = ReadCr4();
  if (cr4 & kCr4Pge) {
    WriteCr4(cr4 & ~kCr4Pge);
    WriteCr4(cr4);
  } else {
    WriteCr3(ReadCr3());
  }
}

void CheckLocalOnly(mm::CpuSet cpus) {
  cpus.Remove(CurrentCpuIndex());
  HV_CHECK(cpus.empty(), "TLB shootdown to other CPUs (%#lx) needs IPIs, not implemented",
           static_cast<unsigned long>(cpus.bits()));
}

}  // namespace

mm::CpuId CurrentCpuIndex() { return 0; }

HostPhysAddr ReadCr3Root() { return HostPhysAddr(ReadCr3() & kPteAddrMask); }

void Cr3Mmu::SetRoot(HostPhysAddr root, uint16_t /*asid*/) { WriteCr3(root.value()); }

void Cr3Mmu::ClearRoot() { WriteCr3(fallback_root_.value()); }

void Cr3Mmu::Flush(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> ops, uint16_t /*asid*/) {
  CheckLocalOnly(cpus);
  if (!cpus.Contains(CurrentCpuIndex())) return;
  for (const mm::TlbFlushOp& op : ops) {
    if (op.is_all()) {
      FlushAll();
      return;
    }
  }
  for (const mm::TlbFlushOp& op : ops) {
    for (uint64_t i = 0; i < op.num_pages(); ++i) Invlpg(op.start() + (i << mm::kPageShift));
  }
}

void NptMmu::SetRoot(HostPhysAddr root, uint16_t asid) {
  PerCpu& cpu = cpus_[CurrentCpuIndex()];
  cpu.ncr3.store(root.value(), std::memory_order_relaxed);
  cpu.asid.store(asid, std::memory_order_relaxed);
  // The ASID may hold entries from before this CPU left the space's set.
  cpu.flush_asid.store(true, std::memory_order_release);
}

void NptMmu::ClearRoot() {
  PerCpu& cpu = cpus_[CurrentCpuIndex()];
  cpu.ncr3.store(0, std::memory_order_relaxed);
  cpu.asid.store(0, std::memory_order_relaxed);
}

void NptMmu::Flush(mm::CpuSet cpus, std::span<const mm::TlbFlushOp> /*ops*/, uint16_t asid) {
  CheckLocalOnly(cpus);
  cpus.ForEach([&](mm::CpuId id) {
    // This CPU is in the hypervisor now, so the flag takes effect before
    // the guest runs again.
    if (cpus_[id].asid.load(std::memory_order_relaxed) == asid) {
      cpus_[id].flush_asid.store(true, std::memory_order_release);
    }
  });
}

NptMmu::VmrunState NptMmu::TakeVmrunState() {
  PerCpu& cpu = cpus_[CurrentCpuIndex()];
  return VmrunState{.ncr3 = HostPhysAddr(cpu.ncr3.load(std::memory_order_relaxed)),
                    .asid = cpu.asid.load(std::memory_order_relaxed),
                    .flush_asid = cpu.flush_asid.exchange(false, std::memory_order_acquire)};
}

}  // namespace hv::arch::x86_64
