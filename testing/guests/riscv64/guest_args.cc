#include "testing/guests/riscv64/guest_args.h"
#include <hv/fdt/fdt.h>
#include <hv/fdt/machine.h>
#include <ktest/ktest.h>

namespace hv::guests {

std::string_view BootArg(std::string_view key) {
  // SAFETY: the hypervisor passes the device tree's guest-physical address
  // in a1, and guests run with the MMU off: it is a valid pointer. The
  // header's totalsize bounds the span; Fdt::Create validates the rest.
  const auto* blob = reinterpret_cast<const std::byte*>(ktest::Boot().firmware_table);
  const uint32_t total = (static_cast<uint32_t>(blob[4]) << 24) |
                         (static_cast<uint32_t>(blob[5]) << 16) |
                         (static_cast<uint32_t>(blob[6]) << 8) | static_cast<uint32_t>(blob[7]);
  Result<fdt::Fdt> fdt = fdt::Fdt::Create(std::span(blob, total));
  if (!fdt.ok()) return {};
  Result<fdt::Chosen> chosen = fdt::ReadChosen(*fdt);
  if (!chosen.ok()) return {};
  // string_view::substr may throw: slice by hand.
  const char* p = chosen->bootargs.data();
  const char* const end = p + chosen->bootargs.size();
  while (p < end) {
    const char* word_end = p;
    while (word_end < end && *word_end != ' ') ++word_end;
    const std::string_view word(p, static_cast<size_t>(word_end - p));
    if (word.size() > key.size() && std::string_view(word.data(), key.size()) == key &&
        word[key.size()] == '=') {
      return std::string_view(word.data() + key.size() + 1, word.size() - key.size() - 1);
    }
    p = word_end + 1;
  }
  return {};
}

}  // namespace hv::guests
