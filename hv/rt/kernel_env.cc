// The environment hooks of hv/base for kernel images: the boot console and a
// panic that reports and stops the machine with a failure code.
#include <arch/machine.h>
#include <hv/base/check.h>
#include <hv/base/format.h>

namespace hv {

void ConsoleWrite(std::string_view text) {
  for (char c : text) {
    if (c == '\n') arch::EarlyPutChar('\r');
    arch::EarlyPutChar(c);
  }
}

void Panic(const char* file, int line, const char* fmt, ...) {
  // A panic while panicking (a fault in the report itself) must not recurse.
  static bool panicking = false;
  if (!panicking) {
    panicking = true;
    char message[512];
    va_list args;
    va_start(args, fmt);
    FormatV(message, sizeof(message), fmt, args);
    va_end(args);
    Printf("\nPANIC at %s:%d: %s\n", file, line, message);
    arch::PrintBacktrace();
  }
  arch::ExitMachine(false);
}

}  // namespace hv
