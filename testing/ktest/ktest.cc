#include <arch/boot.h>
#include <arch/machine.h>
#include <hv/base/check.h>
#include <hv/base/format.h>
#include <ktest/ktest.h>

extern "C" {
// The .ktest section: one TestCase pointer per TEST (see kernel.ld).
extern const ktest::TestCase* const __ktest_start[];
extern const ktest::TestCase* const __ktest_end[];
}

namespace ktest {
namespace {

bool g_current_failed = false;
// Set by KernelMain before the first test runs.
const hv::BootInfo* g_boot = nullptr;

}  // namespace

const hv::BootInfo& Boot() {
  HV_CHECK(g_boot != nullptr, "ktest::Boot() outside a test");
  return *g_boot;
}

void JoinOperands(char* buf, size_t size, const char* left, const char* right) {
  hv::Format(buf, size, " (%s vs %s) ", left, right);
}

void DescribeInto(char* buf, size_t size, int64_t value) { hv::Format(buf, size, "%ld", value); }
void DescribeInto(char* buf, size_t size, uint64_t value) {
  hv::Format(buf, size, "%lu (%#lx)", value, value);
}
void DescribeInto(char* buf, size_t size, const void* value) { hv::Format(buf, size, "%p", value); }
void DescribeInto(char* buf, size_t size, std::string_view value) {
  hv::Format(buf, size, "\"%.*s\"", static_cast<int>(value.size()), value.data());
}
void DescribeInto(char* buf, size_t size, bool value) {
  hv::Format(buf, size, "%s", value ? "true" : "false");
}

Failure::Failure(const char* file, int line, const char* what) {
  len_ = hv::Format(text_, sizeof(text_), "%s:%d: Failure: %s", file, line, what);
  if (len_ >= sizeof(text_)) len_ = sizeof(text_) - 1;
}

Failure::~Failure() {
  g_current_failed = true;
  hv::Printf("%s\n", text_);
}

Failure& Failure::operator<<(std::string_view text) {
  for (char c : text) {
    if (len_ + 1 >= sizeof(text_)) break;
    text_[len_++] = c;
  }
  text_[len_] = '\0';
  return *this;
}

Failure& Failure::operator<<(const Comparison& comparison) { return *this << comparison.operands; }
Failure& Failure::operator<<(const char* text) {
  return *this << std::string_view(text == nullptr ? "(null)" : text);
}
Failure& Failure::operator<<(bool value) { return *this << (value ? "true" : "false"); }
Failure& Failure::operator<<(char c) { return *this << std::string_view(&c, 1); }
Failure& Failure::operator<<(const void* pointer) {
  char buf[24];
  DescribeInto(buf, sizeof(buf), pointer);
  return *this << buf;
}
Failure& Failure::AppendSigned(int64_t value) {
  char buf[24];
  DescribeInto(buf, sizeof(buf), value);
  return *this << buf;
}
Failure& Failure::AppendUnsigned(uint64_t value) {
  char buf[48];
  DescribeInto(buf, sizeof(buf), value);
  return *this << buf;
}

}  // namespace ktest

namespace hv {

// Runs every registered test and stops the machine with the verdict.
void KernelMain(const BootInfo& boot) {
  // Arch boot code's BootInfo lives until KernelMain returns, which it never
  // does.
  ktest::g_boot = &boot;
  const size_t total = static_cast<size_t>(__ktest_end - __ktest_start);
  Printf("[==========] Running %zu tests (boot cpu %lu).\n", total, boot.boot_cpu);
  size_t failed = 0;
  for (auto* entry = __ktest_start; entry != __ktest_end; ++entry) {
    const ktest::TestCase& test = **entry;
    Printf("[ RUN      ] %s.%s\n", test.suite, test.name);
    ktest::g_current_failed = false;
    test.body();
    if (ktest::g_current_failed) {
      ++failed;
      Printf("[  FAILED  ] %s.%s\n", test.suite, test.name);
    } else {
      Printf("[       OK ] %s.%s\n", test.suite, test.name);
    }
  }
  Printf("[==========] %zu tests ran.\n", total);
  if (total == 0) {
    // An image without tests is a build mistake, not a pass.
    Printf("no tests were registered\n%s\n", ktest::kFailSentinel);
    arch::ExitMachine(false);
  }
  if (failed != 0) {
    Printf("[  FAILED  ] %zu of %zu tests.\n%s\n", failed, total, ktest::kFailSentinel);
    arch::ExitMachine(false);
  }
  Printf("[  PASSED  ] %zu tests.\n%s\n", total, ktest::kPassSentinel);
  arch::ExitMachine(true);
}

}  // namespace hv
