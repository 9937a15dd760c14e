#include <arch/extable.h>

namespace hv::arch {

std::optional<uintptr_t> SearchExTable(std::span<const ExTableEntry> table, uintptr_t pc) {
  for (const ExTableEntry& entry : table) {
    if (entry.from_address() != pc) continue;
    if (entry.type != static_cast<uint32_t>(ExType::kFixup)) return std::nullopt;
    return entry.to_address();
  }
  return std::nullopt;
}

}  // namespace hv::arch
