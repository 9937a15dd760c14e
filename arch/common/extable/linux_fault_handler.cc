// InstallFaultHandler() for Linux processes (host and qemu-riscv64): a
// SIGSEGV/SIGBUS handler that resumes a fault inside the fallible primitives
// at its exception-table fixup, and hands every other fault to whatever
// handler was installed before (or to the default action).
#include <signal.h>
#include <ucontext.h>

#include <arch/extable.h>
#include <arch/fallible.h>
#include <hv/base/check.h>

namespace hv::arch {
namespace {

struct sigaction g_previous_segv;
struct sigaction g_previous_bus;

// The saved program counter in a signal's context (greg_t on x86_64,
// unsigned long on riscv64).
auto& SavedPc(ucontext_t& context) {
#if defined(__x86_64__)
  return context.uc_mcontext.gregs[REG_RIP];
#elif defined(__riscv)
  return context.uc_mcontext.__gregs[REG_PC];
#else
#error "unsupported architecture"
#endif
}

void Chain(int signo, siginfo_t* info, void* context) {
  const struct sigaction& previous = signo == SIGSEGV ? g_previous_segv : g_previous_bus;
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(signo, info, context);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signo);
    return;
  }
  // Default action (a fault cannot be ignored: returning would only fault
  // again). Returning re-executes the faulting instruction, which now takes
  // the default action with the right signal and address; a signal sent by
  // kill() is not re-raised that way, so raise it (it stays blocked, hence
  // pending, until this handler returns).
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signo, &dfl, nullptr);
  if (info->si_code <= 0) raise(signo);
}

void HandleFault(int signo, siginfo_t* info, void* context) {
  // SAFETY: the kernel passes a ucontext_t as the third argument of an
  // SA_SIGINFO handler; changing its saved pc redirects the return.
  auto& pc = SavedPc(*static_cast<ucontext_t*>(context));
  // Only genuine faults (si_code > 0) are fixed up: kill() and friends
  // report si_code <= 0 with a pc that merely happens to be interrupted.
  if (info->si_code > 0) {
    if (const std::optional<uintptr_t> fixup = FixupForFault(static_cast<uintptr_t>(pc))) {
      pc = static_cast<std::remove_reference_t<decltype(pc)>>(*fixup);
      return;
    }
  }
  Chain(signo, info, context);
}

bool Install() {
  CheckLinkedExTable();
  struct sigaction action = {};
  action.sa_sigaction = HandleFault;
  // SA_ONSTACK: a thread with an alternate signal stack (say, to report
  // stack overflows) keeps handling faults on it, as the handler we chain
  // to expects.
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  // Record the previous handlers before ours can run and consult them.
  HV_CHECK(sigaction(SIGSEGV, nullptr, &g_previous_segv) == 0, "sigaction(SIGSEGV) failed");
  HV_CHECK(sigaction(SIGBUS, nullptr, &g_previous_bus) == 0, "sigaction(SIGBUS) failed");
  HV_CHECK(sigaction(SIGSEGV, &action, nullptr) == 0, "sigaction(SIGSEGV) failed");
  HV_CHECK(sigaction(SIGBUS, &action, nullptr) == 0, "sigaction(SIGBUS) failed");
  return true;
}

}  // namespace

void InstallFaultHandler() {
  // A function-local static is initialised exactly once, thread-safely.
  [[maybe_unused]] static const bool installed = Install();
}

}  // namespace hv::arch
