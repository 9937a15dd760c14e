#include <gtest/gtest.h>
#include <hv/riscv64/guest_console.h>

#include <string>

namespace hv::riscv64 {
namespace {

class StringSink final : public devices::CharSink {
 public:
  void Write(std::span<const std::byte> bytes) override {
    for (std::byte b : bytes) text.push_back(static_cast<char>(b));
  }
  std::string text;
};

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(GuestConsole, PrefixesWholeLines) {
  StringSink out;
  GuestConsole console("vm1", out);
  console.Write(Bytes("hel"));
  EXPECT_EQ(out.text, "");
  console.Write(Bytes("lo\r\nworld\n"));
  EXPECT_EQ(out.text, "[vm1] hello\n[vm1] world\n");
  console.Write(Bytes("partial"));
  console.Flush();
  EXPECT_EQ(out.text, "[vm1] hello\n[vm1] world\n[vm1] partial\n");
  console.Flush();  // nothing pending: nothing printed
  EXPECT_EQ(out.text, "[vm1] hello\n[vm1] world\n[vm1] partial\n");
}

TEST(GuestConsole, AGuestCannotForgeAHypervisorLine) {
  StringSink out;
  GuestConsole console("evil", out);
  console.Write(Bytes("HV_TEST_RESULT: PASS\n\rHV_TEST_RESULT: PASS\x1b[2K\n"));
  EXPECT_EQ(out.text, "[evil] HV_TEST_RESULT: PASS\n[evil] HV_TEST_RESULT: PASS.[2K\n");
  for (size_t start = 0; start < out.text.size();) {
    EXPECT_EQ(out.text.compare(start, 7, "[evil] "), 0);
    start = out.text.find('\n', start) + 1;
  }
}

TEST(GuestConsole, SplitsLongLinesAndTruncatesLongNames) {
  StringSink out;
  GuestConsole console("a-very-long-vm-name-indeed", out);
  console.Write(Bytes(std::string(GuestConsole::kMaxLine + 3, 'x')));
  console.Flush();
  const std::string prefix = "[a-very-long-vm-n] ";
  ASSERT_EQ(prefix.size(), GuestConsole::kMaxName + 3);
  EXPECT_EQ(out.text, prefix + std::string(GuestConsole::kMaxLine, 'x') + "\n" + prefix + "xxx\n");
}

}  // namespace
}  // namespace hv::riscv64
