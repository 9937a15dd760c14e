#include <arch/constructors.h>

extern "C" {
// Linker-script symbols (see platforms/<board>/kernel.ld).
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
}

namespace hv::arch {

void RunStaticConstructors() {
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) {
    (*ctor)();
  }
}

}  // namespace hv::arch
