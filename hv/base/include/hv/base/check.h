// Invariant checks. A broken invariant of our own is a panic with a message;
// anything a guest, a config or a user controls is an error return instead.
//
// HV_CHECK(cond, fmt, ...) panics with the printf-style message when `cond`
// is false. HV_PANIC(fmt, ...) panics unconditionally. Both are always on.
//
// Panic() is provided by the environment: kernel images print a report and
// stop the machine with a failure code; Linux builds print to stderr and
// abort (which death tests observe).
#ifndef HV_BASE_CHECK_H_
#define HV_BASE_CHECK_H_

namespace hv {

[[noreturn]] void Panic(const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace hv

#define HV_PANIC(...) ::hv::Panic(__FILE__, __LINE__, __VA_ARGS__)

#define HV_CHECK(cond, ...)                                                     \
  do {                                                                          \
    if (!(cond)) [[unlikely]] {                                                 \
      ::hv::Panic(__FILE__, __LINE__, "check failed: " #cond ": " __VA_ARGS__); \
    }                                                                           \
  } while (0)

#endif  // HV_BASE_CHECK_H_
