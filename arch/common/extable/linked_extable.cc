// The exception table linked into this program. Kept apart from the lookup
// (extable.cc) so that a program without the table can still use the lookup.
#include <arch/extable.h>
#include <hv/base/check.h>

extern "C" {
// Defined by GNU ld for the hv_ex_table section in Linux builds, and by the
// kernel linker scripts (platforms/<board>/kernel.ld). A program without any
// fallible primitive has no such section and fails to link if it asks for
// the table, which is the build-time half of the non-empty check.
extern const hv::arch::ExTableEntry __start_hv_ex_table[];
extern const hv::arch::ExTableEntry __stop_hv_ex_table[];
}

namespace hv::arch {

std::span<const ExTableEntry> LinkedExTable() { return {__start_hv_ex_table, __stop_hv_ex_table}; }

std::optional<uintptr_t> FixupForFault(uintptr_t pc) { return SearchExTable(LinkedExTable(), pc); }

void CheckLinkedExTable() {
  const std::span<const ExTableEntry> table = LinkedExTable();
  HV_CHECK(!table.empty(), "the exception table (hv_ex_table) is empty");
  for (const ExTableEntry& entry : table) {
    HV_CHECK(entry.type == static_cast<uint32_t>(ExType::kFixup),
             "exception-table entry for pc %#lx has unknown type %u", entry.from_address(),
             entry.type);
  }
}

}  // namespace hv::arch
