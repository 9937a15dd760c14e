// A range of device memory (MMIO) that may be mapped into address spaces.
//
// IoMem is a small value: physical range, no reference count. A VmSpace
// keeps a copy of every IoMem mapped into it until the VmSpace is destroyed
// (as OSTD does), so that the IoMem behind an I/O mapping can be found again
// (VmSpace::FindIoMemByPaddr) for as long as the space exists, even after
// the mappings themselves are gone.
#ifndef MM_IO_MEM_H_
#define MM_IO_MEM_H_

#include <hv/base/addr.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <mm/paging.h>

namespace hv::mm {

class IoMem {
 public:
  // kInvalidArgs if `paddr` or `size` is not page-aligned, `size` is zero,
  // or the range wraps.
  static Result<IoMem> Create(HostPhysAddr paddr, uint64_t size) {
    if (!paddr.IsAligned(kPageSize) || !IsPageAligned(size) || size == 0 ||
        !paddr.CheckedAdd(size)) {
      return Error::kInvalidArgs;
    }
    return IoMem(paddr, size);
  }

  HostPhysAddr paddr() const { return paddr_; }
  uint64_t size() const { return size_; }
  bool Contains(HostPhysAddr pa) const {
    return pa >= paddr_ && pa.value() - paddr_.value() < size_;
  }

  bool operator==(const IoMem&) const = default;

 private:
  IoMem(HostPhysAddr paddr, uint64_t size) : paddr_(paddr), size_(size) {}

  HostPhysAddr paddr_;
  uint64_t size_;
};

}  // namespace hv::mm

#endif  // MM_IO_MEM_H_
