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

// HV_CHECK's failure path: panics with "check failed: <cond>: <message>".
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition, const char* fmt,
                              ...) __attribute__((format(printf, 4, 5)));

}  // namespace hv

#define HV_PANIC(...) ::hv::Panic(__FILE__, __LINE__, __VA_ARGS__)

// The condition's text is an argument, never part of the format, so a
// condition like `x % 8 == 0` prints as written.
#define HV_CHECK(cond, ...)                                         \
  do {                                                              \
    if (!(cond)) [[unlikely]] {                                     \
      ::hv::CheckFailed(__FILE__, __LINE__, #cond, "" __VA_ARGS__); \
    }                                                               \
  } while (0)

#endif  // HV_BASE_CHECK_H_
