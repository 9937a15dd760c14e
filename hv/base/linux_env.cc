// The environment hooks of hv/base for Linux processes (host tools, unit tests
// on the host and under qemu-riscv64, VMMs that embed our libraries).
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <hv/base/check.h>
#include <hv/base/format.h>

namespace hv {

void ConsoleWrite(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

void Panic(const char* file, int line, const char* fmt, ...) {
  char message[1024];
  va_list args;
  va_start(args, fmt);
  FormatV(message, sizeof(message), fmt, args);
  va_end(args);
  fprintf(stderr, "PANIC at %s:%d: %s\n", file, line, message);
  fflush(stderr);
  abort();
}

}  // namespace hv
