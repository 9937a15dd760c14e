// Result<T, E>: values and errors, HV_TRY, the storage chosen for T and E
// (trivial, general, niche) and what each keeps of the special members.
#include <gtest/gtest.h>
#include <hv/base/result.h>

#include <optional>
#include <string>

namespace hv {

// A two-word value with a niche: `len == 0` is never a valid Window, so the
// error lives there (code in `base`).
struct Window {
  uint64_t base;
  uint64_t len;
};

template <>
struct ResultNiche<Window, Error> {
  static constexpr bool IsError(const Window& w) { return w.len == 0; }
  static constexpr Window FromError(Error error) { return {static_cast<uint64_t>(error), 0}; }
  static constexpr Error ToError(const Window& w) {
    return IsErrorValue(w.base) ? static_cast<Error>(w.base) : Error::kOutOfRange;
  }
};

namespace {

// A scalar value with an Error: trivially copyable, two words, so it is
// passed and returned in registers.
static_assert(std::is_trivially_copyable_v<Result<uint64_t>>);
static_assert(std::is_trivially_destructible_v<Result<uint64_t>>);
static_assert(sizeof(Result<uint64_t>) == 16);
static_assert(std::is_trivially_copyable_v<Result<bool>>);
static_assert(std::is_trivially_copyable_v<Result<void>>);
// A niche: no bigger than the value.
static_assert(sizeof(Result<Window>) == sizeof(Window));
static_assert(std::is_trivially_copyable_v<Result<Window>>);
// Anything else keeps its special members.
static_assert(!std::is_trivially_copyable_v<Result<std::string>>);
static_assert(!std::is_trivially_copyable_v<Result<std::optional<int>>>);

TEST(Result, HoldsAValueOrAnError) {
  Result<int> value = 42;
  ASSERT_TRUE(value.ok());
  EXPECT_TRUE(static_cast<bool>(value));
  EXPECT_EQ(*value, 42);
  EXPECT_EQ(value.value_or(7), 42);

  Result<int> error = Error::kNotFound;
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error(), Error::kNotFound);
  EXPECT_EQ(error.value_or(7), 7);
}

TEST(Result, ScalarValuesThatLookLikeNoError) {
  // Zero and false are values like any other.
  Result<bool> f = false;
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(*f);
  Result<uint8_t> zero = uint8_t{0};
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, 0);
  int x = 0;
  Result<int*> p = &x;
  EXPECT_EQ(*p, &x);
  Result<int*> none = Error::kNotFound;
  EXPECT_EQ(none.error(), Error::kNotFound);
}

TEST(ResultDeathTest, ErrorZeroIsNoError) {
  // Error has no code 0; a scalar Result would otherwise read it as a value.
  EXPECT_DEATH(
      {
        Result<uint64_t> r = Error{};
        (void)r;
      },
      "no error code");
}

TEST(Result, CopiesAndAssignsBothStates) {
  Result<uint64_t> a = uint64_t{5};
  Result<uint64_t> b = Error::kBusy;
  Result<uint64_t> c = a;
  EXPECT_EQ(c.value(), 5u);
  c = b;
  EXPECT_EQ(c.error(), Error::kBusy);
  c = a;
  EXPECT_EQ(c.value(), 5u);
}

TEST(Result, NicheKeepsValuesAndErrors) {
  Result<Window> ok = Window{0x1000, 16};
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->base, 0x1000u);
  EXPECT_EQ(ok->len, 16u);

  for (Error e : {Error::kInvalidArgs, Error::kPageFault, Error::kTimedOut}) {
    Result<Window> error = e;
    ASSERT_FALSE(error.ok());
    EXPECT_EQ(error.error(), e);
  }

  // Reassigning switches state.
  Result<Window> r = ok;
  r = Result<Window>(Error::kBusy);
  EXPECT_EQ(r.error(), Error::kBusy);
  r = ok;
  EXPECT_EQ(r->len, 16u);
}

TEST(Result, AValueInTheNicheIsTheErrorItEncodes) {
  // The niche's own encoding of an error.
  Result<Window> encoded = Window{static_cast<uint64_t>(Error::kAccessDenied), 0};
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.error(), Error::kAccessDenied);
  // Another value there: whatever ToError makes of it.
  Result<Window> empty = Window{0, 0};
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), Error::kOutOfRange);
}

// Counts live objects, to check the general storage constructs and destroys
// exactly the active member.
struct Tracked {
  static inline int live = 0;
  int v;
  explicit Tracked(int value) : v(value) { ++live; }
  Tracked(const Tracked& other) : v(other.v) { ++live; }
  Tracked(Tracked&& other) noexcept : v(other.v) { ++live; }
  Tracked& operator=(const Tracked&) = default;
  ~Tracked() { --live; }
};

TEST(Result, GeneralStorageConstructsAndDestroysTheActiveMember) {
  static_assert(!std::is_trivially_copyable_v<Result<Tracked>>);
  ASSERT_EQ(Tracked::live, 0);
  {
    Result<Tracked> a = Tracked(1);
    EXPECT_EQ(Tracked::live, 1);
    Result<Tracked> b = a;
    EXPECT_EQ(Tracked::live, 2);
    Result<Tracked> c = Error::kBusy;
    EXPECT_EQ(Tracked::live, 2);
    c = b;  // error -> value
    EXPECT_EQ(Tracked::live, 3);
    EXPECT_EQ(c->v, 1);
    b = Result<Tracked>(Error::kNoMemory);  // value -> error
    EXPECT_EQ(Tracked::live, 2);
    EXPECT_EQ(b.error(), Error::kNoMemory);
    Result<Tracked> d = std::move(a);
    EXPECT_EQ(d->v, 1);
  }
  EXPECT_EQ(Tracked::live, 0);
}

TEST(Result, StringValues) {
  Result<std::string> s = std::string("guest");
  Result<std::string> t = s;
  s = Result<std::string>(Error::kIoError);
  EXPECT_EQ(t.value(), "guest");
  EXPECT_EQ(s.error(), Error::kIoError);
  EXPECT_EQ(std::move(t).value(), "guest");
}

Result<int> Digit(char c) {
  if (c < '0' || c > '9') return Error::kInvalidArgs;
  return c - '0';
}

// Two decimal digits; the first bad one is the error.
Result<int> TwoDigits(const char* s) {
  const int tens = HV_TRY(Digit(s[0]));
  return 10 * tens + HV_TRY(Digit(s[1]));
}

Result<void> CheckTwoDigits(const char* s) {
  HV_TRY(TwoDigits(s));
  return Ok();
}

TEST(Result, TryPropagatesTheFirstError) {
  EXPECT_EQ(TwoDigits("42").value(), 42);
  EXPECT_EQ(TwoDigits("x2").error(), Error::kInvalidArgs);
  EXPECT_EQ(TwoDigits("4y").error(), Error::kInvalidArgs);
  EXPECT_TRUE(CheckTwoDigits("07").ok());
  EXPECT_EQ(CheckTwoDigits("7?").error(), Error::kInvalidArgs);
}

Result<Window> Shrink(Result<Window> w) {
  Window v = HV_TRY(w);
  v.len /= 2;
  return v;  // len 1 -> 0: into the niche, an error
}

TEST(Result, TryThroughANiche) {
  EXPECT_EQ(Shrink(Window{0x10, 8})->len, 4u);
  EXPECT_EQ(Shrink(Result<Window>(Error::kBusy)).error(), Error::kBusy);
  EXPECT_EQ(Shrink(Window{0x10, 1}).error(), Error::kOutOfRange);
}

}  // namespace
}  // namespace hv
