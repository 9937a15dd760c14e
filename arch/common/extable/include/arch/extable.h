// The exception table: which instructions may fault, and where execution
// resumes when they do. Entries are emitted by the HV_EXTABLE assembler macro
// (<arch/extable_asm.h>) next to each faulting instruction of the fallible
// primitives; this header is the one lookup routine every consumer uses: the
// kernel trap handlers of both architectures and the SIGSEGV/SIGBUS handler
// of Linux builds.
//
// Everything here is freestanding and async-signal-safe: no allocation, no
// locks, reads of constant memory only.
#ifndef ARCH_EXTABLE_H_
#define ARCH_EXTABLE_H_

#include <arch/extable_asm.h>
#include <hv/base/std.h>

namespace hv::arch {

enum class ExType : uint32_t {
  kFixup = HV_EX_TYPE_FIXUP,
};

// One entry; layout shared with HV_EXTABLE. `from` and `to` are offsets from
// the address of the field that holds them.
struct ExTableEntry {
  int32_t from;
  int32_t to;
  uint32_t type;

  // The address of the instruction that may fault.
  uintptr_t from_address() const {
    // SAFETY: takes the field's address as an integer; dereferences nothing.
    return reinterpret_cast<uintptr_t>(&from) + static_cast<intptr_t>(from);
  }
  // The address execution resumes at after a fault at from_address().
  uintptr_t to_address() const {
    // SAFETY: takes the field's address as an integer; dereferences nothing.
    return reinterpret_cast<uintptr_t>(&to) + static_cast<intptr_t>(to);
  }
};
static_assert(sizeof(ExTableEntry) == HV_EX_ENTRY_SIZE);
static_assert(alignof(ExTableEntry) == 4);
static_assert(offsetof(ExTableEntry, to) == 4 && offsetof(ExTableEntry, type) == 8);

// The resume address for a fault at `pc` according to `table`, or nullopt if
// no entry covers `pc` (or the covering entry has an unknown type). The table
// is searched linearly: it holds a few dozen entries and need not be sorted.
std::optional<uintptr_t> SearchExTable(std::span<const ExTableEntry> table, uintptr_t pc);

// The table linked into this program (section hv_ex_table).
std::span<const ExTableEntry> LinkedExTable();

// SearchExTable(LinkedExTable(), pc): what a fault handler calls.
std::optional<uintptr_t> FixupForFault(uintptr_t pc);

// Panics unless the linked table is non-empty and every entry has a known
// type. Kernel boot code calls it before KernelMain; the Linux fault handler
// when it is installed.
void CheckLinkedExTable();

}  // namespace hv::arch

#endif  // ARCH_EXTABLE_H_
