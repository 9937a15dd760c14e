// Kernel memory: the frame allocator over the RAM the firmware leaves to
// the kernel, the MMU of the kernel's own address spaces, and host address
// spaces that share the kernel half of the boot page table. Kernel images
// only; the hypervisor and the in-kernel tests use it alike.
//
//   KernelMemory* kmem = HV_TRY(KernelMemory::Init(boot));
//   KernelHostSpace space = HV_TRY(kmem->CreateHostSpace());
//   space.Activate();
//   ... map into the lower half with a cursor, copy with space.Reader() ...
//   space.Deactivate();
//
// Usable RAM (usable_ram.h) is what the firmware reports as RAM, minus the
// kernel image, the firmware's tables and whatever the firmware reserves:
//   riscv64  the device tree's /memory, minus the blob itself, its memory
//            reservation block and /reserved-memory (OpenSBI's own range)
//   x86_64   the multiboot memory map's available entries, minus the first
//            MiB (real-mode data, the BIOS), the multiboot information
//            structure, its memory map, command line and boot loader name.
//            Boot modules are refused (kUnsupported) until something
//            handles them.
// The frame allocator takes the largest page-aligned range of it inside the
// direct map; the rest stays unused for now.
//
// The kernel half of every host space is the boot page table's: root
// entries copied when the space is created (VmSpaceOptions::shared_root).
// That stays right because nothing changes the kernel half's root entries
// after boot (the boot code fills every one the kernel uses: riscv64 1 GiB
// leaves, x86_64 the direct map's and the image's tables).
#ifndef HV_KMEM_KMEM_H_
#define HV_KMEM_KMEM_H_

#include <arch/boot.h>
#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <hv/kmem/usable_ram.h>
#include <mm/frame.h>
#include <mm/phys_mem.h>
#include <mm/tlb.h>
#include <mm/vm_space.h>

#if defined(__riscv)
#include <arch/riscv64/mm/mmu.h>
#include <arch/riscv64/mm/pte.h>
#elif defined(__x86_64__)
#include <arch/x86_64/mm/mmu.h>
#include <arch/x86_64/mm/pte.h>
#endif

namespace hv::kmem {

#if defined(__riscv)
// Sv39 (satp), the mode the boot page table uses.
using ArchFormat = arch::riscv64::Sv39PteFormat<>;
using ArchMmu = arch::riscv64::SatpMmu;
#elif defined(__x86_64__)
// 4-level paging (CR3).
using ArchFormat = arch::x86_64::X86PteFormat;
using ArchMmu = arch::x86_64::Cr3Mmu;
#endif

// A host address space of this architecture: its lower half is its own,
// its upper half the kernel's.
using KernelHostSpace = mm::VmSpace<mm::HostSpaceConfig<ArchFormat>, mm::DirectMapPhysMem>;

class KernelMemory {
  struct Key {
    explicit Key() = default;
  };

 public:
  // Sets up kernel memory from what the firmware handed over (`boot`, as
  // KernelMain received it), on the first call; later calls return the same
  // object. Errors (nothing is set up; a later call tries again): what
  // reading the firmware tables returns (kInvalidArgs, kNotFound,
  // kOutOfRange for malformed or missing tables, or tables outside the
  // direct map); kNoMemory if no usable range can hold the allocator.
  // REQUIRES: on the boot CPU, before other CPUs run kernel code, with the
  // boot page table (or one sharing its kernel half) active.
  static Result<KernelMemory*> Init(const BootInfo& boot);

  mm::FrameAllocator& frames() const { return *frames_; }
  const mm::DirectMapPhysMem& phys() const { return phys_; }
  // The MMU of host spaces. Its fallback root (Deactivate) is kernel_root().
  mm::Mmu& mmu() { return mmu_; }
  // The boot page table: the root active when Init ran.
  HostPhysAddr kernel_root() const { return kernel_root_; }
  // Usable RAM as found; the allocator manages the largest range of it.
  const PhysRangeSet& usable_ram() const { return usable_ram_; }

  // A new, empty host space sharing the kernel half of kernel_root().
  // Errors: kNoMemory.
  Result<KernelHostSpace> CreateHostSpace(uint16_t asid = 0) {
    return KernelHostSpace::Create(*frames_, phys_, mmu_,
                                   mm::VmSpaceOptions{.asid = asid, .shared_root = kernel_root_});
  }

  // For Init only (Key is private).
  KernelMemory(Key, mm::FrameAllocator& frames, const PhysRangeSet& usable_ram);
  KernelMemory(const KernelMemory&) = delete;
  KernelMemory& operator=(const KernelMemory&) = delete;

 private:
  mm::FrameAllocator* frames_;
  mm::DirectMapPhysMem phys_;
  ArchMmu mmu_;
  HostPhysAddr kernel_root_;
  PhysRangeSet usable_ram_;
};

}  // namespace hv::kmem

#endif  // HV_KMEM_KMEM_H_
