// /init of the Linux test guest: a static riscv64 Linux program that checks,
// from inside an unmodified Linux 6.1, the machine the hypervisor emulates,
// then powers the VM off (SBI SRST shutdown).
//
// Checked here: both harts are online (hart 1 started through SBI HSM) and
// exchange IPIs (SBI IPI); the UART's, the timer's and virtio's interrupts
// arrive (through the emulated PLIC and the hypervisor's timer); Linux's
// virtio-blk driver sees the configured capacity and serial, reads the
// disk's first sector, writes a pattern with O_DIRECT, flushes and reads it
// back; Linux's virtio-console driver writes a line to /dev/hvc0 and reads
// the hypervisor's input there. The hypervisor image checks afterwards that
// the disk and the console really carried that (linux_guest_spec.h).
//
// On the first failed check it prints why and reboots (SBI SRST reboot),
// which the test image reports as a failure; if it crashed instead, the
// kernel would panic and reboot (panic=-1 in the tree's bootargs).
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "testing/guests/linux/linux_guest_spec.h"

namespace {

namespace spec = hv::guests::linux_spec;

[[noreturn]] void Fail(const char* what) {
  const int error = errno;
  std::printf("init: FAIL: %s (errno %d: %s)\n", what, error, std::strerror(error));
  std::fflush(stdout);
  sync();
  reboot(RB_AUTOBOOT);
  _exit(1);
}

void Check(bool ok, const char* what) {
  if (!ok) {
    errno = 0;
    Fail(what);
  }
}

std::string ReadFile(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail(path);
  std::string text;
  char chunk[512];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0) Fail(path);
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

// The count, summed over the CPUs, of the /proc/interrupts line that names
// `name` ("IRQ:  n0  n1  controller ... name"), or -1 if no line does.
long InterruptCount(const std::string& interrupts, std::string_view name) {
  size_t line_start = 0;
  while (line_start < interrupts.size()) {
    size_t line_end = interrupts.find('\n', line_start);
    if (line_end == std::string::npos) line_end = interrupts.size();
    const std::string line = interrupts.substr(line_start, line_end - line_start);
    const size_t colon = line.find(':');
    if (colon != std::string::npos && line.find(name) != std::string::npos) {
      long total = 0;
      const char* p = line.c_str() + colon + 1;
      for (;;) {
        char* end = nullptr;
        const long n = std::strtol(p, &end, 10);
        if (end == p) break;
        total += n;
        p = end;
      }
      return total;
    }
    line_start = line_end + 1;
  }
  return -1;
}

void CheckInterrupts() {
  const std::string interrupts = ReadFile("/proc/interrupts");
  std::printf("init: /proc/interrupts:\n%s", interrupts.c_str());
  Check(InterruptCount(interrupts, "ttyS0") > 0, "no UART interrupt arrived through the PLIC");
  Check(InterruptCount(interrupts, "riscv-timer") > 0, "no timer interrupt arrived");
  Check(InterruptCount(interrupts, "virtio0") > 0 && InterruptCount(interrupts, "virtio1") > 0,
        "no virtio interrupt arrived through the PLIC");
  Check(InterruptCount(interrupts, "Rescheduling interrupts") +
                InterruptCount(interrupts, "Function call interrupts") >
            0,
        "no IPI arrived");
}

void CheckCpus() {
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  std::printf("init: %ld CPUs online\n", online);
  Check(online == spec::kCpus, "not every hart came up (SBI HSM)");
}

// O_DIRECT needs aligned buffers.
alignas(4096) unsigned char g_sector[4096];
alignas(4096) unsigned char g_pattern[spec::kPatternBytes];
alignas(4096) unsigned char g_readback[spec::kPatternBytes];

void CheckBlock() {
  const int fd = open("/dev/vda", O_RDWR | O_DIRECT | O_CLOEXEC);
  if (fd < 0) Fail("open /dev/vda");
  uint64_t bytes = 0;
  if (ioctl(fd, BLKGETSIZE64, &bytes) != 0) Fail("BLKGETSIZE64 /dev/vda");
  std::printf("init: /dev/vda: %llu bytes\n", static_cast<unsigned long long>(bytes));
  Check(bytes == spec::kDiskBytes, "/dev/vda has the wrong capacity");

  std::string serial = ReadFile("/sys/block/vda/serial");
  while (!serial.empty() && (serial.back() == '\n' || serial.back() == '\0')) serial.pop_back();
  std::printf("init: /dev/vda serial: %s\n", serial.c_str());
  Check(serial == spec::kSerial, "/dev/vda has the wrong serial (GET_ID)");

  if (pread(fd, g_sector, sizeof(g_sector), 0) != static_cast<ssize_t>(sizeof(g_sector))) {
    Fail("read the first 4 KiB of /dev/vda");
  }
  Check(std::memcmp(g_sector, spec::kImageText.data(), spec::kImageText.size()) == 0,
        "/dev/vda does not start with the image");
  std::printf("init: /dev/vda sector 0: %.*s", static_cast<int>(spec::kImageText.size()),
              reinterpret_cast<const char*>(g_sector));

  for (uint64_t i = 0; i < spec::kPatternBytes; ++i) {
    g_pattern[i] = spec::PatternByte(spec::kPatternOffset + i);
  }
  if (pwrite(fd, g_pattern, sizeof(g_pattern), spec::kPatternOffset) !=
      static_cast<ssize_t>(sizeof(g_pattern))) {
    Fail("write the pattern to /dev/vda");
  }
  if (fsync(fd) != 0) Fail("fsync /dev/vda");
  if (pread(fd, g_readback, sizeof(g_readback), spec::kPatternOffset) !=
      static_cast<ssize_t>(sizeof(g_readback))) {
    Fail("read the pattern back from /dev/vda");
  }
  Check(std::memcmp(g_pattern, g_readback, sizeof(g_pattern)) == 0,
        "/dev/vda did not give the pattern back");
  close(fd);
  std::printf("init: /dev/vda: %llu bytes written, flushed and read back\n",
              static_cast<unsigned long long>(spec::kPatternBytes));
}

void CheckConsole() {
  const int fd = open("/dev/hvc0", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) Fail("open /dev/hvc0");
  termios mode;
  if (tcgetattr(fd, &mode) != 0) Fail("tcgetattr /dev/hvc0");
  cfmakeraw(&mode);
  if (tcsetattr(fd, TCSANOW, &mode) != 0) Fail("tcsetattr /dev/hvc0");

  const std::string_view line = spec::kConsoleLine;
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    Fail("write to /dev/hvc0");
  }
  if (tcdrain(fd) != 0) Fail("tcdrain /dev/hvc0");

  std::string input;
  while (input.size() < spec::kConsoleInput.size()) {
    pollfd ready = {.fd = fd, .events = POLLIN, .revents = 0};
    const int n = poll(&ready, 1, 10'000);
    if (n < 0) Fail("poll /dev/hvc0");
    Check(n > 0, "no input on /dev/hvc0 within 10 s");
    char chunk[64];
    const ssize_t got = read(fd, chunk, sizeof(chunk));
    if (got <= 0) Fail("read /dev/hvc0");
    input.append(chunk, static_cast<size_t>(got));
  }
  std::printf("init: /dev/hvc0 input: %s", input.c_str());
  Check(input == spec::kConsoleInput, "/dev/hvc0 gave the wrong input");
  close(fd);
}

}  // namespace

int main() {
  if (mount("proc", "/proc", "proc", 0, nullptr) != 0) Fail("mount /proc");
  if (mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0) Fail("mount /sys");
  if (mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr) != 0) Fail("mount /dev");
  utsname name;
  if (uname(&name) != 0) Fail("uname");
  std::printf("init: hello from %s %s on %s\n", name.sysname, name.release, name.machine);
  std::fflush(stdout);

  CheckCpus();
  CheckBlock();
  CheckConsole();
  CheckInterrupts();

  std::printf("init: all checks passed; powering off\n");
  std::fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  Fail("reboot(RB_POWER_OFF) returned");
}
