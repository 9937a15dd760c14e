// Fallible guest-virtual access from HS-mode with HLV/HLVX/HSV (see
// guest_access.S): each returns the bytes NOT done, exact to the byte
// (hv_guest_fetch: to the halfword).
#ifndef ARCH_RISCV64_GUEST_ACCESS_H_
#define ARCH_RISCV64_GUEST_ACCESS_H_

#include <hv/base/std.h>

extern "C" {

// REQUIRES: the guest's vsatp, hgatp and hstatus.SPVP are loaded (as after
// a guest exit); [gva, gva + len) does not wrap.
size_t hv_guest_read(void* dst, uint64_t gva, size_t len);
size_t hv_guest_write(uint64_t gva, const void* src, size_t len);
// REQUIRES: in addition, gva is 2-byte aligned and len is even.
size_t hv_guest_fetch(void* dst, uint64_t gva, size_t len);

}  // extern "C"

#endif  // ARCH_RISCV64_GUEST_ACCESS_H_
