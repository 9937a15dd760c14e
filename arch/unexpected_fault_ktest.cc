// An image that must fail: a fault at a pc outside the exception table is
// no fallible access, and the trap handler panics with its full report.
#include <ktest/ktest.h>

TEST(UnexpectedFault, Panics) {
  const auto unmapped = reinterpret_cast<volatile const uint8_t*>(uintptr_t{0x1000'0000});
  // SAFETY: deliberately invalid: the lower half is unmapped in kernel images
  // (arch/layout.h), so this read faults, and the test expects the panic.
  const uint8_t value = *unmapped;
  ADD_FAILURE() << "the faulting read returned " << value;
}
