#include <guestmem/guest_virtual.h>

namespace hv::guestmem {
namespace {

// Page-table entry bits (Intel SDM vol. 3, 4.5; AMD APM vol. 2, 5.3).
constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kUser = 1ull << 2;
constexpr uint64_t kPageSize = 1ull << 7;
constexpr uint64_t kNoExecute = 1ull << 63;
constexpr uint64_t kAddressMask = 0x000f'ffff'ffff'f000ull;  // bits 51:12

bool IsCanonical(uint64_t va) {
  const uint64_t top = va >> 47;
  return top == 0 || top == 0x1ffff;
}

}  // namespace

Result<X86_64GuestPaging::Mapping> X86_64GuestPaging::Translate(GuestVirtAddr gva,
                                                                Access access) const {
  const uint64_t va = gva.value();
  if (!IsCanonical(va)) return Error::kInvalidArgs;
  uint64_t table = state_.cr3 & kAddressMask;
  bool writable = true;
  bool user = true;
  bool executable = true;
  // Levels: PML4 (shift 39), PDPT (30), PD (21), PT (12).
  for (int shift = 39; shift >= 12; shift -= 9) {
    const uint64_t index = (va >> shift) & 0x1ff;
    const uint64_t entry = HV_TRY(memory_.ReadObj<uint64_t>(GuestPhysAddr(table + index * 8)));
    if ((entry & kPresent) == 0) return Error::kPageFault;
    writable = writable && (entry & kWritable) != 0;
    user = user && (entry & kUser) != 0;
    executable = executable && (!state_.nx_enabled || (entry & kNoExecute) == 0);
    // Without EFER.NXE, bit 63 is reserved.
    if (!state_.nx_enabled && (entry & kNoExecute) != 0) return Error::kPageFault;
    const bool leaf = shift == 12 || ((entry & kPageSize) != 0 && (shift == 30 || shift == 21));
    if ((entry & kPageSize) != 0 && shift == 39) return Error::kPageFault;  // reserved in PML4
    if (!leaf) {
      table = entry & kAddressMask;
      continue;
    }
    const uint64_t page_size = uint64_t{1} << shift;
    // A large page's frame must be aligned to its size (bit 12 is PAT).
    const uint64_t frame_mask = shift == 12 ? kAddressMask : (kAddressMask & ~(page_size - 1));
    if (shift != 12 && (entry & kAddressMask & (page_size - 1) & ~0x1000ull) != 0) {
      return Error::kPageFault;  // reserved bits set in a large-page entry
    }
    if (state_.user && !user) return Error::kPageFault;
    if (access == Access::kWrite && !writable && (state_.user || state_.write_protect)) {
      return Error::kPageFault;
    }
    if (access == Access::kExecute && !executable) return Error::kPageFault;
    const uint64_t offset = va & (page_size - 1);
    return Mapping{GuestPhysAddr((entry & frame_mask) + offset), page_size, page_size - offset};
  }
  HV_PANIC("unreachable: the walk ends at the PT level");
}

template <typename CopyPage>
CopyResult X86_64GuestPaging::ForEachPage(GuestVirtAddr gva, size_t total, Access access,
                                          CopyPage copy) const {
  if (total != 0 && !gva.CheckedAdd(total - 1)) return CopyError{Error::kInvalidArgs, 0};
  size_t done = 0;
  while (done < total) {
    Result<Mapping> m = Translate(GuestVirtAddr(gva.value() + done), access);
    if (!m.ok()) return CopyError{m.error(), done};
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(m->limit, total - done));
    CopyResult copied = copy(m->gpa, done, chunk);
    if (!copied.ok()) return CopyError{copied.error().code, done + copied.error().done};
    done += chunk;
  }
  return done;
}

CopyResult X86_64GuestPaging::ReadVirt(GuestVirtAddr gva, std::span<std::byte> out) const {
  return ForEachPage(gva, out.size(), Access::kRead, [&](GuestPhysAddr gpa, size_t at, size_t n) {
    return memory_.ReadBuffer(gpa, out.subspan(at, n));
  });
}

CopyResult X86_64GuestPaging::WriteVirt(GuestVirtAddr gva, std::span<const std::byte> in) const {
  return ForEachPage(gva, in.size(), Access::kWrite, [&](GuestPhysAddr gpa, size_t at, size_t n) {
    return memory_.WriteBuffer(gpa, in.subspan(at, n));
  });
}

CopyResult X86_64GuestPaging::FetchVirt(GuestVirtAddr gva, std::span<std::byte> out) const {
  return ForEachPage(gva, out.size(), Access::kExecute,
                     [&](GuestPhysAddr gpa, size_t at, size_t n) {
                       return memory_.ReadBuffer(gpa, out.subspan(at, n));
                     });
}

}  // namespace hv::guestmem
