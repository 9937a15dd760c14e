// printf-style formatting without libc, and the console it prints to.
//
// Supported conversions: %d %i %u %x %X %o %c %s %p %%, with the flags '-',
// '#' and '0', a field width, a precision for %s (also `*`), and the length
// modifiers hh h l ll z j t. Anything else is printed verbatim, so a bad
// format string shows up in the output instead of corrupting memory.
#ifndef HV_BASE_FORMAT_H_
#define HV_BASE_FORMAT_H_

#include <cstdarg>

#include <hv/base/std.h>

namespace hv {

// Formats into `buf` (always NUL-terminated when `size > 0`) and returns the
// length the full output would have had, as snprintf does.
size_t FormatV(char* buf, size_t size, const char* fmt, va_list args);
size_t Format(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// Formats to the console. Output longer than 512 bytes per call is truncated.
void Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void VPrintf(const char* fmt, va_list args);

// Writes raw bytes to the console. Provided by the environment: the kernel
// console in kernel images, stderr in Linux builds.
void ConsoleWrite(std::string_view text);

}  // namespace hv

#endif  // HV_BASE_FORMAT_H_
