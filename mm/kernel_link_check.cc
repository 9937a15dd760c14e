// Builds the page-table engine, VmSpace and the arch MMU hooks into a
// bare-metal image for each architecture, so that `bazel build //...`
// proves they compile and link freestanding (no libc, exceptions or RTTI).
// Not a test: nothing runs it. In-kernel tests arrive with the higher-half
// kernel layout; until then DirectMapPhysMem(0) matches the identity-mapped
// boot, and the code below neither activates a space nor touches anything
// but its own static arena.
#include <arch/boot.h>
#include <arch/machine.h>
#include <hv/base/format.h>
#include <mm/frame.h>
#include <mm/io_mem.h>
#include <mm/phys_mem.h>
#include <mm/vm_space.h>

#if defined(__riscv)
#include <arch/riscv64/mm/mmu.h>
#include <arch/riscv64/mm/pte.h>
#elif defined(__x86_64__)
#include <arch/x86_64/mm/mmu.h>
#include <arch/x86_64/mm/pte.h>
#endif

namespace hv {
namespace {

using mm::PageFlags;
using mm::PageProperty;

constexpr uint64_t kArenaSize = 4 << 20;
alignas(2 << 20) std::byte arena[kArenaSize];

// Every cursor operation, once, on one space.
template <typename Space>
bool Exercise(mm::FrameAllocator& frames, const mm::DirectMapPhysMem& phys, mm::Mmu& mmu) {
  using Vaddr = typename Space::Vaddr;
  auto space = Space::Create(frames, phys, mmu);
  if (!space.ok()) return false;
  const auto range = *AddrRange<Vaddr>::Create(Vaddr(1ul << 30), 4 << 20);
  {
    auto cursor = space->OpenCursorMut(range);
    if (!cursor.ok()) return false;
    auto frame = frames.Alloc();
    if (!frame.ok() || !cursor->Map(*frame, PageProperty::New(PageFlags::kRW)).ok()) return false;
    const auto io = mm::IoMem::Create(HostPhysAddr(0x1000'0000), 2 << 20);
    if (!io.ok() || !cursor->MapIoMem(*io, PageProperty::New(PageFlags::kRW), 2 << 20, 0).ok()) {
      return false;
    }
    if (!cursor->Jump(range.start()).ok() || !cursor->Query().ok()) return false;
    if (!cursor->FindNext(range.size())) return false;
    if (!cursor->Jump(range.start()).ok()) return false;
    auto found = cursor->ProtectNext(
        range.size(), [](PageFlags& flags, mm::CachePolicy&) { flags -= PageFlags::kW; });
    if (!found.ok() || !*found) return false;
    if (!cursor->Jump(range.start()).ok()) return false;
    auto unmapped = cursor->Unmap(range.size());
    if (!unmapped.ok() || *unmapped != 1) return false;
    cursor->flusher().DispatchTlbFlush();
  }
  auto reader = space->OpenCursor(range);
  return reader.ok() && reader->Query().ok() && !space->FindIoMemByPaddr(HostPhysAddr(0)) &&
         !space->IsActiveOnCurrentCpu();
}

}  // namespace

[[noreturn]] void KernelMain(const BootInfo& /*boot*/) {
  const mm::DirectMapPhysMem phys(0);
  const auto base = HostVirtFromPtr(arena);
  auto frames = mm::FrameAllocator::Create(phys, HostPhysAddr(base.value()), kArenaSize);
  bool ok = frames.ok();
#if defined(__riscv)
  using arch::riscv64::Sv39PteFormat;
  using arch::riscv64::Sv39x4PteFormat;
  using arch::riscv64::Sv48PteFormat;
  using arch::riscv64::Sv48x4PteFormat;
  arch::riscv64::SatpMmu satp(Sv39PteFormat<>::kTranslationMode, 0);
  arch::riscv64::HgatpMmu hgatp(Sv39x4PteFormat<>::kTranslationMode);
  ok = ok && Exercise<mm::VmSpace<mm::HostSpaceConfig<Sv39PteFormat<>>, mm::DirectMapPhysMem>>(
                 **frames, phys, satp);
  ok = ok && Exercise<mm::VmSpace<mm::HostSpaceConfig<Sv48PteFormat<>>, mm::DirectMapPhysMem>>(
                 **frames, phys, satp);
  ok = ok && Exercise<mm::VmSpace<mm::GuestSpaceConfig<Sv39x4PteFormat<>>, mm::DirectMapPhysMem>>(
                 **frames, phys, hgatp);
  ok = ok && Exercise<mm::VmSpace<mm::GuestSpaceConfig<Sv48x4PteFormat<>>, mm::DirectMapPhysMem>>(
                 **frames, phys, hgatp);
#elif defined(__x86_64__)
  arch::x86_64::Cr3Mmu cr3(HostPhysAddr(0));
  arch::x86_64::NptMmu npt;
  ok = ok &&
       Exercise<mm::VmSpace<mm::HostSpaceConfig<arch::x86_64::X86PteFormat>, mm::DirectMapPhysMem>>(
           **frames, phys, cr3);
  ok =
      ok &&
      Exercise<mm::VmSpace<mm::GuestSpaceConfig<arch::x86_64::NptPteFormat>, mm::DirectMapPhysMem>>(
          **frames, phys, npt);
#endif
  Printf("mm kernel link check: %s\n", ok ? "ok" : "FAILED");
  arch::ExitMachine(ok);
}

}  // namespace hv
