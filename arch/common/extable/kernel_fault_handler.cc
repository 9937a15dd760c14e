// InstallFaultHandler() in kernel images: nothing to install, the trap
// handlers (arch/<arch>/trap) consult the exception table on every fault.
#include <arch/fallible.h>

namespace hv::arch {

void InstallFaultHandler() {}

}  // namespace hv::arch
