// Runs a QEMU command as a test: copies the serial console into the test log
// and passes only when QEMU exits with the expected code after the image has
// printed the pass sentinel. On failure (bad exit code, missing sentinel,
// timeout, signal) it says why and repeats the last serial lines.
//
//   qemu_runner --timeout=60s --success_exit_code=0 -- qemu-system-riscv64 ...
//
// With --gdb, QEMU waits for a debugger on tcp::1234 (-s -S) and there is no
// timeout; use it through `bazel run`.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

ABSL_FLAG(absl::Duration, timeout, absl::Seconds(120),
          "Kill QEMU and fail when it has not exited after this long.");
ABSL_FLAG(int, success_exit_code, 0, "QEMU's exit code when the image reports success.");
ABSL_FLAG(std::string, sentinel, "HV_TEST_RESULT: PASS",
          "A serial line that must appear for the test to pass.");
ABSL_FLAG(int, tail_lines, 50, "How many serial lines to repeat when the test fails.");
ABSL_FLAG(bool, gdb, false, "Start QEMU with -s -S (gdb on tcp::1234) and no timeout.");
ABSL_FLAG(std::string, symbols, "", "The image's ELF with symbols, for the --gdb hint.");

namespace {

struct Outcome {
  bool exited = false;  // false: killed by a signal
  int code = 0;         // exit code or signal number
  bool timed_out = false;
  bool saw_sentinel = false;
};

// Keeps the serial output: all of it in a log file, the tail in memory.
class Console {
 public:
  Console(size_t tail_lines, std::string sentinel)
      : tail_lines_(tail_lines), sentinel_(std::move(sentinel)) {
    if (const char* dir = getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
      log_.open(absl::StrCat(dir, "/serial.log"), std::ios::binary);
    }
  }

  void Feed(const char* data, size_t n) {
    fwrite(data, 1, n, stdout);
    fflush(stdout);
    if (log_.is_open()) log_.write(data, static_cast<std::streamsize>(n));
    for (size_t i = 0; i < n; ++i) {
      const char c = data[i];
      if (c == '\n') {
        EndLine();
      } else if (c != '\r') {
        partial_.push_back(c);
      }
    }
  }

  void Finish() {
    if (!partial_.empty()) EndLine();
  }

  bool saw_sentinel() const { return saw_sentinel_; }
  const std::deque<std::string>& tail() const { return tail_; }

 private:
  void EndLine() {
    if (partial_ == sentinel_) saw_sentinel_ = true;
    tail_.push_back(std::move(partial_));
    partial_.clear();
    while (tail_.size() > tail_lines_) tail_.pop_front();
  }

  size_t tail_lines_;
  std::string sentinel_;
  std::string partial_;
  std::deque<std::string> tail_;
  bool saw_sentinel_ = false;
  std::ofstream log_;
};

absl::StatusOr<Outcome> Run(const std::vector<std::string>& command, absl::Duration timeout,
                            Console& console) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  const pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    // QEMU and anything it starts form one process group, killed together.
    setpgid(0, 0);
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, STDIN_FILENO);
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    std::vector<char*> argv;
    for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    fprintf(stderr, "qemu_runner: cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);
  close(pipe_fds[1]);

  Outcome outcome;
  const absl::Time deadline = absl::Now() + timeout;
  char buf[4096];
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      outcome.timed_out = true;
      break;
    }
    pollfd pfd{.fd = pipe_fds[0], .events = POLLIN, .revents = 0};
    const int64_t wait_ms = std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000);
    const int ready = poll(&pfd, 1, static_cast<int>(wait_ms));
    if (ready < 0 && errno != EINTR) return absl::ErrnoToStatus(errno, "poll");
    if (ready <= 0) continue;
    const ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: QEMU closed its output (it is exiting)
    console.Feed(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  console.Finish();
  if (outcome.timed_out) kill(-pid, SIGKILL);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::ErrnoToStatus(errno, "waitpid");
  }
  outcome.exited = WIFEXITED(status);
  outcome.code = outcome.exited ? WEXITSTATUS(status) : WTERMSIG(status);
  outcome.saw_sentinel = console.saw_sentinel();
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> command(rest.begin() + 1, rest.end());
  if (command.empty()) {
    fprintf(stderr, "usage: qemu_runner [flags] -- qemu-system-... args\n");
    return 2;
  }
  absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  if (absl::GetFlag(FLAGS_gdb)) {
    command.push_back("-s");
    command.push_back("-S");
    timeout = absl::InfiniteDuration();
    char resolved[PATH_MAX];
    const std::string symbols = absl::GetFlag(FLAGS_symbols);
    const char* elf = !symbols.empty() && realpath(symbols.c_str(), resolved) != nullptr
                          ? resolved
                          : "<image elf>";
    fprintf(stderr,
            "qemu_runner: QEMU waits for gdb on localhost:1234:\n"
            "  gdb-multiarch -ex 'target remote :1234' %s\n",
            elf);
  }
  fprintf(stderr, "qemu_runner: %s\n", absl::StrJoin(command, " ").c_str());

  Console console(static_cast<size_t>(absl::GetFlag(FLAGS_tail_lines)),
                  absl::GetFlag(FLAGS_sentinel));
  const absl::Time start = absl::Now();
  absl::StatusOr<Outcome> outcome = Run(command, timeout, console);
  const absl::Duration elapsed = absl::Now() - start;
  if (!outcome.ok()) {
    fprintf(stderr, "qemu_runner: %s\n", outcome.status().ToString().c_str());
    return 1;
  }

  std::string failure;
  const int expected = absl::GetFlag(FLAGS_success_exit_code);
  if (outcome->timed_out) {
    failure = absl::StrCat("timed out after ", absl::FormatDuration(timeout), " (QEMU killed)");
  } else if (!outcome->exited) {
    failure = absl::StrCat("QEMU was killed by signal ", outcome->code);
  } else if (outcome->code != expected) {
    failure = absl::StrCat("QEMU exited with code ", outcome->code, ", expected ", expected);
  } else if (!outcome->saw_sentinel) {
    failure = absl::StrCat("the image did not print \"", absl::GetFlag(FLAGS_sentinel), "\"");
  }
  if (failure.empty()) {
    fprintf(stderr, "qemu_runner: PASS in %s\n", absl::FormatDuration(elapsed).c_str());
    return 0;
  }
  fprintf(stderr, "qemu_runner: FAIL: %s after %s\n", failure.c_str(),
          absl::FormatDuration(elapsed).c_str());
  fprintf(stderr, "---- last %zu serial lines ----\n", console.tail().size());
  for (const std::string& line : console.tail()) fprintf(stderr, "%s\n", line.c_str());
  fprintf(stderr, "---- end of serial output ----\n");
  return 1;
}
