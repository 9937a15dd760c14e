// Access to guest memory by guest-virtual address: instruction fetch for
// MMIO emulation and guest-supplied pointers.
//
// Every access either completes or returns the error with the exact bytes
// done, like the physical accessor. kPageFault means the access faulted: the
// guest's page tables do not allow it (not present, wrong permission,
// reserved bits) or the memory behind it is not accessible to the
// hypervisor. kOutOfRange means a guest page table or the data lies outside
// guest RAM.
//
// Implementations: X86_64GuestPaging walks the guest's 4-level page tables in
// software over a GuestMemoryAccessor; on riscv64 the hypervisor uses the
// HLV/HLVX/HSV instructions, which walk both translation stages in hardware
// (Riscv64GuestVirtualMemory, kernel only).
#ifndef GUESTMEM_GUEST_VIRTUAL_H_
#define GUESTMEM_GUEST_VIRTUAL_H_

#include <guestmem/accessor.h>
#include <hv/base/addr.h>
#include <hv/base/result.h>

namespace hv::guestmem {

class GuestVirtualMemory {
 public:
  virtual ~GuestVirtualMemory() = default;

  // Reads/writes [gva, gva + n) with the guest's data-access permissions.
  virtual CopyResult ReadVirt(GuestVirtAddr gva, std::span<std::byte> out) const = 0;
  virtual CopyResult WriteVirt(GuestVirtAddr gva, std::span<const std::byte> in) const = 0;
  // Reads instruction bytes at gva with execute permission (as the CPU's
  // fetch would), up to out.size() bytes.
  virtual CopyResult FetchVirt(GuestVirtAddr gva, std::span<std::byte> out) const = 0;
};

// The guest's x86_64 long-mode paging state that a walk depends on.
struct X86_64PagingState {
  uint64_t cr3 = 0;
  bool write_protect = true;  // CR0.WP
  bool nx_enabled = true;     // EFER.NXE
  bool user = false;          // the access is made at CPL 3
};

// A software walk of x86_64 4-level guest page tables (4 KiB, 2 MiB and
// 1 GiB pages) over the guest's physical memory. The walk only reads the
// tables: it does not set accessed/dirty bits.
class X86_64GuestPaging final : public GuestVirtualMemory {
 public:
  enum class Access { kRead, kWrite, kExecute };

  struct Mapping {
    GuestPhysAddr gpa;   // of gva
    uint64_t page_size;  // 4 KiB, 2 MiB or 1 GiB
    uint64_t limit;      // bytes from gva to the end of its page
  };

  X86_64GuestPaging(const GuestMemoryAccessor& memory, X86_64PagingState state)
      : memory_(memory), state_(state) {}

  // The mapping of gva for `access`: kInvalidArgs for a non-canonical gva,
  // kPageFault if the tables do not allow the access, kOutOfRange if a table
  // lies outside guest RAM.
  Result<Mapping> Translate(GuestVirtAddr gva, Access access) const;

  CopyResult ReadVirt(GuestVirtAddr gva, std::span<std::byte> out) const override;
  CopyResult WriteVirt(GuestVirtAddr gva, std::span<const std::byte> in) const override;
  CopyResult FetchVirt(GuestVirtAddr gva, std::span<std::byte> out) const override;

 private:
  template <typename CopyPage>
  CopyResult ForEachPage(GuestVirtAddr gva, size_t total, Access access, CopyPage copy) const;

  const GuestMemoryAccessor& memory_;
  X86_64PagingState state_;
};

}  // namespace hv::guestmem

#endif  // GUESTMEM_GUEST_VIRTUAL_H_
