// The test guests' configuration: the value of "key=value" in the device
// tree's /chosen/bootargs (the VM config picks a tree per VM).
#ifndef TESTING_GUESTS_RISCV64_GUEST_ARGS_H_
#define TESTING_GUESTS_RISCV64_GUEST_ARGS_H_

#include <hv/base/std.h>

namespace hv::guests {

// The value of `key` in /chosen/bootargs of the device tree the guest was
// booted with (ktest::Boot()), or "" if there is none.
std::string_view BootArg(std::string_view key);

}  // namespace hv::guests

#endif  // TESTING_GUESTS_RISCV64_GUEST_ARGS_H_
