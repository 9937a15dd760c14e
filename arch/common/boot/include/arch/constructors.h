// Running a kernel image's static constructors (.init_array), which no C
// runtime does for us. Every architecture's boot code calls it once, before
// KernelMain.
#ifndef ARCH_CONSTRUCTORS_H_
#define ARCH_CONSTRUCTORS_H_

namespace hv::arch {

void RunStaticConstructors();

}  // namespace hv::arch

#endif  // ARCH_CONSTRUCTORS_H_
