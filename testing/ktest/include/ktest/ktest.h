// A small in-kernel test framework that reads like GoogleTest.
//
//   TEST(PageTable, MapsOnePage) {
//     ASSERT_TRUE(table.ok());
//     EXPECT_EQ(table->Query(va), pa) << "after map at " << va;
//   }
//
// Tests register themselves in the `.ktest` section (no constructors run);
// the kernel image's KernelMain (ktest_main.cc) runs them all, prints a
// GoogleTest-like log and summary, then prints the pass sentinel and stops
// the machine through the exit device with success or failure.
//
// EXPECT_* records a failure and continues; ASSERT_* also returns from the
// test. Both accept `<< value` for extra context (strings, integers, pointers).
// Tests that need what the firmware handed the kernel (the device tree, the
// multiboot information) get it from ktest::Boot().
#ifndef KTEST_KTEST_H_
#define KTEST_KTEST_H_

#include <arch/boot.h>
#include <hv/base/std.h>

namespace ktest {

// The BootInfo the image's KernelMain received. REQUIRES: called from a test.
const hv::BootInfo& Boot();

void JoinOperands(char* buf, size_t size, const char* left, const char* right);

struct Comparison;

template <typename T>
concept IntegerLike = std::is_integral_v<T> || std::is_enum_v<T>;

struct TestCase {
  const char* suite;
  const char* name;
  void (*body)();
};

// The line printed after all tests pass; the QEMU runner requires it.
inline constexpr const char kPassSentinel[] = "HV_TEST_RESULT: PASS";
inline constexpr const char kFailSentinel[] = "HV_TEST_RESULT: FAIL";

// Accumulates a failure message; reports it when destroyed.
class Failure {
 public:
  Failure(const char* file, int line, const char* what);
  ~Failure();
  Failure(const Failure&) = delete;
  Failure& operator=(const Failure&) = delete;

  // The operands of a failed comparison, as " (a vs b) ".
  Failure& operator<<(const Comparison& comparison);
  Failure& operator<<(const char* text);
  Failure& operator<<(std::string_view text);
  Failure& operator<<(bool value);
  Failure& operator<<(const void* pointer);
  Failure& operator<<(char c);
  template <IntegerLike T>
  Failure& operator<<(T value) {
    if constexpr (std::is_enum_v<T>) {
      return *this << static_cast<std::underlying_type_t<T>>(value);
    } else if constexpr (std::is_signed_v<T>) {
      return AppendSigned(static_cast<int64_t>(value));
    } else {
      return AppendUnsigned(static_cast<uint64_t>(value));
    }
  }

 private:
  Failure& AppendSigned(int64_t value);
  Failure& AppendUnsigned(uint64_t value);

  char text_[384];
  size_t len_ = 0;
};

// Makes `return Fatal() = Failure(...)` a void expression for ASSERT_*.
struct Fatal {
  void operator=(const Failure&) const {}
};

// The outcome of a binary comparison, with both operands already described
// (while they are alive) for the failure message.
struct Comparison {
  bool ok;
  char operands[96];
};

void DescribeInto(char* buf, size_t size, int64_t value);
void DescribeInto(char* buf, size_t size, uint64_t value);
void DescribeInto(char* buf, size_t size, const void* value);
void DescribeInto(char* buf, size_t size, std::string_view value);
void DescribeInto(char* buf, size_t size, bool value);

template <typename T>
void Describe(char* buf, size_t size, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    DescribeInto(buf, size, value);
  } else if constexpr (std::is_enum_v<T>) {
    Describe(buf, size, static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    DescribeInto(buf, size, static_cast<int64_t>(value));
  } else if constexpr (std::is_integral_v<T>) {
    DescribeInto(buf, size, static_cast<uint64_t>(value));
  } else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
    DescribeInto(buf, size, static_cast<const void*>(value));
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    DescribeInto(buf, size, std::string_view(value));
  } else {
    DescribeInto(buf, size, std::string_view("(value)"));
  }
}

// Integers compare by value whatever their signedness (std::cmp_*), so
// EXPECT_EQ(size, 3) neither warns nor lies.
template <typename A, typename B>
constexpr bool kIntegerPair = (std::is_integral_v<A>)&&(std::is_integral_v<B>)&&(
    !std::is_same_v<A, bool>)&&(!std::is_same_v<B, bool>);

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };

template <Op op, typename A, typename B>
Comparison Compare(const A& a, const B& b) {
  bool ok;
  if constexpr (kIntegerPair<A, B>) {
    if constexpr (op == Op::kEq) ok = std::cmp_equal(a, b);
    if constexpr (op == Op::kNe) ok = std::cmp_not_equal(a, b);
    if constexpr (op == Op::kLt) ok = std::cmp_less(a, b);
    if constexpr (op == Op::kLe) ok = std::cmp_less_equal(a, b);
    if constexpr (op == Op::kGt) ok = std::cmp_greater(a, b);
    if constexpr (op == Op::kGe) ok = std::cmp_greater_equal(a, b);
  } else {
    if constexpr (op == Op::kEq) ok = a == b;
    if constexpr (op == Op::kNe) ok = a != b;
    if constexpr (op == Op::kLt) ok = a < b;
    if constexpr (op == Op::kLe) ok = a <= b;
    if constexpr (op == Op::kGt) ok = a > b;
    if constexpr (op == Op::kGe) ok = a >= b;
  }
  Comparison result{.ok = ok, .operands = {}};
  if (!ok) {
    char left[44];
    char right[44];
    Describe(left, sizeof(left), a);
    Describe(right, sizeof(right), b);
    JoinOperands(result.operands, sizeof(result.operands), left, right);
  }
  return result;
}

}  // namespace ktest

#define KTEST_CONCAT_(a, b) a##b
#define KTEST_NAME_(suite, name, what) KTEST_CONCAT_(ktest_##suite##_##name, what)

#define TEST(suite, name)                                                                  \
  static void KTEST_NAME_(suite, name, _body)();                                           \
  static const ::ktest::TestCase KTEST_NAME_(suite, name, _case){                          \
      #suite, #name, &KTEST_NAME_(suite, name, _body)};                                    \
  [[gnu::used, gnu::section(".ktest")]] static const ::ktest::TestCase* const KTEST_NAME_( \
      suite, name, _entry) = &KTEST_NAME_(suite, name, _case);                             \
  static void KTEST_NAME_(suite, name, _body)()

#define KTEST_CHECK_(cond, text, on_failure) \
  if (cond) {                                \
  } else                                     \
    on_failure ::ktest::Failure(__FILE__, __LINE__, text)

#define KTEST_NONFATAL_
#define KTEST_FATAL_ return ::ktest::Fatal() =

#define EXPECT_TRUE(c) KTEST_CHECK_((c), "expected true: " #c " ", KTEST_NONFATAL_)
#define EXPECT_FALSE(c) KTEST_CHECK_(!(c), "expected false: " #c " ", KTEST_NONFATAL_)
#define ASSERT_TRUE(c) KTEST_CHECK_((c), "expected true: " #c " ", KTEST_FATAL_)
#define ASSERT_FALSE(c) KTEST_CHECK_(!(c), "expected false: " #c " ", KTEST_FATAL_)

// Binary comparisons evaluate each operand once and print both on failure.
#define KTEST_CMP_(a, b, op, text, on_failure)                                            \
  if (const ::ktest::Comparison ktest_cmp_ = ::ktest::Compare<::ktest::Op::op>((a), (b)); \
      ktest_cmp_.ok) {                                                                    \
  } else                                                                                  \
    on_failure ::ktest::Failure(__FILE__, __LINE__, "expected " #a " " #text " " #b) << ktest_cmp_

#define EXPECT_EQ(a, b) KTEST_CMP_(a, b, kEq, ==, KTEST_NONFATAL_)
#define EXPECT_NE(a, b) KTEST_CMP_(a, b, kNe, !=, KTEST_NONFATAL_)
#define EXPECT_LT(a, b) KTEST_CMP_(a, b, kLt, <, KTEST_NONFATAL_)
#define EXPECT_LE(a, b) KTEST_CMP_(a, b, kLe, <=, KTEST_NONFATAL_)
#define EXPECT_GT(a, b) KTEST_CMP_(a, b, kGt, >, KTEST_NONFATAL_)
#define EXPECT_GE(a, b) KTEST_CMP_(a, b, kGe, >=, KTEST_NONFATAL_)
#define ASSERT_EQ(a, b) KTEST_CMP_(a, b, kEq, ==, KTEST_FATAL_)
#define ASSERT_NE(a, b) KTEST_CMP_(a, b, kNe, !=, KTEST_FATAL_)
#define ASSERT_LT(a, b) KTEST_CMP_(a, b, kLt, <, KTEST_FATAL_)
#define ASSERT_LE(a, b) KTEST_CMP_(a, b, kLe, <=, KTEST_FATAL_)
#define ASSERT_GT(a, b) KTEST_CMP_(a, b, kGt, >, KTEST_FATAL_)
#define ASSERT_GE(a, b) KTEST_CMP_(a, b, kGe, >=, KTEST_FATAL_)

#define ADD_FAILURE() ::ktest::Failure(__FILE__, __LINE__, "failure")
#define FAIL() return ::ktest::Fatal() = ::ktest::Failure(__FILE__, __LINE__, "failure")

#endif  // KTEST_KTEST_H_
