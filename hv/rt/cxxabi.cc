// The C++ ABI hooks that freestanding kernel code needs: pure virtual calls,
// static destructors, abort() (from -fno-exceptions library paths) and the
// deleting destructors' operator delete. The kernel has no heap behind
// operator new/delete, so reaching either is a bug and panics.
#include <hv/base/check.h>
#include <hv/base/std.h>

extern "C" {

void* __dso_handle = nullptr;

// Kernel images never exit normally, so static destructors never run and
// need not be recorded.
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

void __cxa_pure_virtual() { HV_PANIC("pure virtual function called"); }

void abort() { HV_PANIC("abort() called"); }

}  // extern "C"

void operator delete(void*) noexcept { HV_PANIC("operator delete without a kernel heap"); }
void operator delete(void*, size_t) noexcept { HV_PANIC("operator delete without a kernel heap"); }
