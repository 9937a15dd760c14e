// InstallFaultHandler() chains to the handler installed before it. This
// binary holds only this test, so the test's own handler really is installed
// first.
#include <arch/fallible.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <thread>
#include <vector>

namespace hv::arch {
namespace {

constexpr int kPreviousHandlerExitCode = 42;

void PreviousHandler(int signo, siginfo_t*, void*) {
  static constexpr char kMessage[] = "previous handler called\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  _exit(kPreviousHandlerExitCode + (signo == SIGBUS ? 1 : 0));
}

TEST(LinuxFaultHandler, ChainsToThePreviousHandler) {
  struct sigaction previous = {};
  previous.sa_sigaction = PreviousHandler;
  previous.sa_flags = SA_SIGINFO;
  sigemptyset(&previous.sa_mask);
  ASSERT_EQ(sigaction(SIGSEGV, &previous, nullptr), 0);
  ASSERT_EQ(sigaction(SIGBUS, &previous, nullptr), 0);

  // Installation is idempotent and thread-safe: racing threads install the
  // handler once (a second installation would record the handler itself as
  // "previous" and loop).
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([] { InstallFaultHandler(); });
  for (std::thread& thread : threads) thread.join();
  InstallFaultHandler();

  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  volatile char* const bad = static_cast<char*>(p);

  // A fault inside the primitives is fixed up...
  char buf[16];
  EXPECT_EQ(hv_memcpy_fallible(buf, p, sizeof(buf)), sizeof(buf));
  // ...and any other one reaches the previous handler.
  // SAFETY: a deliberate fault on a PROT_NONE page, in the death-test child.
  EXPECT_EXIT(*bad = 1, ::testing::ExitedWithCode(kPreviousHandlerExitCode),
              "previous handler called");
  EXPECT_EXIT(raise(SIGBUS), ::testing::ExitedWithCode(kPreviousHandlerExitCode + 1),
              "previous handler called");
  munmap(p, page);
}

}  // namespace
}  // namespace hv::arch
