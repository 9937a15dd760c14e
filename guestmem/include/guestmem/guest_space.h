// A guest's stage-2 address space on the page-table engine (riscv64 G-stage
// Sv39x4/Sv48x4, AMD NPT), and guest-memory access through it.
//
// GuestSpace owns the guest's VmSpace: MapRam gives the guest fresh zeroed
// RAM frames, MapIoMem passes device memory through, Unmap takes either
// away. As a GuestMemoryAccessor it translates a guest-physical address by
// querying the table: RAM is reached through the physical-memory policy
// (the kernel's direct map, or a host arena in tests), and the limit runs to
// the end of the leaf that maps the address. Passthrough device memory is
// not RAM: the accessor refuses it (kAccessDenied) rather than copying to
// registers with memcpy.
#ifndef GUESTMEM_GUEST_SPACE_H_
#define GUESTMEM_GUEST_SPACE_H_

#include <guestmem/accessor.h>
#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <mm/frame.h>
#include <mm/io_mem.h>
#include <mm/page_property.h>
#include <mm/phys_mem.h>
#include <mm/pte_format.h>
#include <mm/vm_space.h>

namespace hv::guestmem {

// Guest RAM: readable, writable, executable (the U bit stage 2 needs is the
// format's business).
inline constexpr mm::PageProperty kGuestRamProperty = mm::PageProperty::New(mm::PageFlags::kRWX);

template <mm::PteFormat F, mm::PhysMem P>
class GuestSpace final : public GuestMemoryAccessor {
 public:
  using Space = mm::VmSpace<mm::GuestSpaceConfig<F>, P>;
  using Range = AddrRange<GuestPhysAddr>;

  // An empty guest space tagged with `vmid` (the VMID of hgatp, the ASID of
  // NPT). Errors: kNoMemory.
  static Result<GuestSpace> Create(mm::FrameAllocator& frames, const P& phys, mm::Mmu& mmu,
                                   uint16_t vmid) {
    Space space = HV_TRY(Space::Create(frames, phys, mmu, mm::VmSpaceOptions{.asid = vmid}));
    return GuestSpace(std::move(space), phys);
  }

  GuestSpace(GuestSpace&&) noexcept = default;

  // Maps [gpa, gpa + size) to fresh RAM frames, zeroed, using 2 MiB frames
  // where the range allows. kInvalidArgs if unaligned, empty or wrapping,
  // kOutOfRange past the space, kAlreadyExists if anything is mapped there
  // (nothing is changed then), kNoMemory when frames run out (what was
  // mapped stays mapped; Unmap to undo).
  Result<void> MapRam(GuestPhysAddr gpa, uint64_t size, mm::PageProperty prop = kGuestRamProperty) {
    const Range range = HV_TRY(PageRange(gpa, size));
    {
      auto cursor = HV_TRY(space_.OpenCursor(range));
      if (cursor.FindNext(size).has_value()) return Error::kAlreadyExists;
    }
    auto cursor = HV_TRY(space_.OpenCursorMut(range));
    uint64_t done = 0;
    while (done < size) {
      const uint64_t at = gpa.value() + done;
      const bool huge = (at % mm::PageSizeAt(2)) == 0 && size - done >= mm::PageSizeAt(2);
      mm::Frame frame = HV_TRY(space_.allocator().Alloc(huge ? 2 : 1));
      // SAFETY: the frame was just allocated to us; its direct-map (or arena)
      // view is `frame.size()` bytes of RAM nobody else uses.
      __builtin_memset(phys_.PhysToVirt(frame.paddr()), 0, frame.size());
      const uint64_t step = frame.size();
      HV_TRY(cursor.Map(std::move(frame), prop));
      done += step;
    }
    return Ok();
  }

  // Maps `frame` at gpa (aligned to the frame's size). Returns what it
  // replaced, if anything. Errors as CursorMut::Map.
  Result<std::optional<mm::VmQueriedItem>> MapFrame(GuestPhysAddr gpa, mm::Frame frame,
                                                    mm::PageProperty prop = kGuestRamProperty) {
    const Range range = HV_TRY(PageRange(gpa, frame.size()));
    auto cursor = HV_TRY(space_.OpenCursorMut(range));
    return cursor.Map(std::move(frame), prop);
  }

  // Passes [io.paddr() + offset, + len) through at gpa. The space retains
  // the IoMem until it is destroyed. Errors as CursorMut::MapIoMem.
  Result<void> MapIoMem(GuestPhysAddr gpa, const mm::IoMem& io, uint64_t len, uint64_t offset,
                        mm::PageProperty prop = mm::PageProperty::New(
                            mm::PageFlags::kRW, mm::CachePolicy::kUncacheable)) {
    const Range range = HV_TRY(PageRange(gpa, len));
    auto cursor = HV_TRY(space_.OpenCursorMut(range));
    return cursor.MapIoMem(io, prop, len, offset);
  }

  // Unmaps [gpa, gpa + size); returns how many RAM leaves were unmapped.
  // Their frames go back to the allocator after the TLB flush.
  Result<uint64_t> Unmap(GuestPhysAddr gpa, uint64_t size) {
    const Range range = HV_TRY(PageRange(gpa, size));
    auto cursor = HV_TRY(space_.OpenCursorMut(range));
    return cursor.Unmap(size);
  }

  Result<Translation> TranslateAndGetLimit(GuestPhysAddr gpa) const override {
    const GuestPhysAddr page = gpa.AlignDown(mm::kPageSize);
    const std::optional<Range> range = Range::Create(page, mm::kPageSize);
    if (!range || page.value() - Space::kBase >= Space::kSize) return Error::kOutOfRange;
    Result<typename Space::Cursor> cursor = space_.OpenCursor(*range);
    if (!cursor.ok()) return Error::kOutOfRange;
    auto found = HV_TRY(cursor->Query());
    if (!found.second) return Error::kOutOfRange;
    const auto* ram = std::get_if<mm::MappedRam>(&*found.second);
    if (ram == nullptr) return Error::kAccessDenied;  // passthrough device memory
    const uint64_t offset = gpa.OffsetFrom(found.first.start());
    const HostPhysAddr hpa(ram->frame.paddr().value() + offset);
    return Translation{HostVirtFromPtr(phys_.PhysToVirt(hpa)), found.first.size() - offset};
  }

  // The underlying space: activation (hgatp / nCR3), cursors.
  Space& space() { return space_; }
  const Space& space() const { return space_; }

 private:
  GuestSpace(Space space, const P& phys) : space_(std::move(space)), phys_(phys) {}

  static Result<Range> PageRange(GuestPhysAddr gpa, uint64_t size) {
    if (size == 0 || !gpa.IsAligned(mm::kPageSize) || size % mm::kPageSize != 0) {
      return Error::kInvalidArgs;
    }
    const std::optional<Range> range = Range::Create(gpa, size);
    if (!range) return Error::kInvalidArgs;
    return *range;
  }

  // Opening a cursor takes the table's locks, which is not a logical change
  // of the space: TranslateAndGetLimit is const.
  mutable Space space_;
  P phys_;
};

}  // namespace hv::guestmem

#endif  // GUESTMEM_GUEST_SPACE_H_
