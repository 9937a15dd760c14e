// The one result type of this codebase.
//
// `Result<T, E>` holds either a value of type `T` or an error of type `E`
// (by default `hv::Error`). It is `[[nodiscard]]`: an ignored result is a
// compile error under -Werror. There is no "ok" error value; success is the
// presence of a value. Operations that can fail part-way (fallible copies)
// use an error type that also carries the progress made, such as
// `hv::mm::CopyError`.
//
// HV_TRY(expr) evaluates `expr`, returns its error from the enclosing
// function if it failed, and otherwise yields its value.
#ifndef HV_BASE_RESULT_H_
#define HV_BASE_RESULT_H_

#include <hv/base/check.h>
#include <hv/base/std.h>

namespace hv {

// Error codes. Zero is deliberately not a valid code.
enum class Error : uint8_t {
  kInvalidArgs = 1,  // An argument is malformed (misaligned, empty, wraps...).
  kPageFault,        // A memory access faulted.
  kAccessDenied,     // The operation is not permitted on this object.
  kNoMemory,         // An allocation failed.
  kOutOfRange,       // An address or index lies outside the object.
  kNotFound,         // The looked-up item does not exist.
  kAlreadyExists,    // The item to create exists already.
  kBusy,             // The resource is in use.
  kUnsupported,      // The request is valid but not implemented here.
  kBadState,         // The object is not in a state that allows this.
  kIoError,          // A backing device or file reported a failure.
  kTimedOut,         // The operation did not finish in time.
};

// A stable, human-readable name for `error` ("kPageFault"...).
const char* ErrorName(Error error);

template <typename T, typename E>
class Result;

namespace internal {

// A type a Result<T, E> can be built from as its value: anything T can be
// constructed from, except the Result itself and the error type.
template <typename U, typename T, typename E>
concept ResultValueFrom = std::is_constructible_v<T, U&&> &&
    (!std::is_same_v<std::remove_cvref_t<U>, Result<T, E>>)&&(
        !std::is_same_v<std::remove_cvref_t<U>, E>);

}  // namespace internal

template <typename T, typename E = Error>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, E>, "value and error types must differ");

 public:
  using value_type = T;
  using error_type = E;

  // Implicit from a value or an error, so `return value;` and
  // `return Error::kInvalidArgs;` both read naturally.
  template <internal::ResultValueFrom<T, E> U = T>
  constexpr Result(U&& value) : has_value_(true) {  // NOLINT(google-explicit-constructor)
    std::construct_at(&value_, std::forward<U>(value));
  }
  constexpr Result(E error) : has_value_(false) {  // NOLINT(google-explicit-constructor)
    std::construct_at(&error_, std::move(error));
  }

  constexpr Result(const Result& other) : has_value_(other.has_value_) {
    if (has_value_) {
      std::construct_at(&value_, other.value_);
    } else {
      std::construct_at(&error_, other.error_);
    }
  }
  constexpr Result(Result&& other) noexcept : has_value_(other.has_value_) {
    if (has_value_) {
      std::construct_at(&value_, std::move(other.value_));
    } else {
      std::construct_at(&error_, std::move(other.error_));
    }
  }
  constexpr Result& operator=(Result other) noexcept {
    Destroy();
    has_value_ = other.has_value_;
    if (has_value_) {
      std::construct_at(&value_, std::move(other.value_));
    } else {
      std::construct_at(&error_, std::move(other.error_));
    }
    return *this;
  }
  constexpr ~Result() { Destroy(); }

  constexpr bool ok() const { return has_value_; }
  constexpr explicit operator bool() const { return has_value_; }

  // REQUIRES: ok().
  constexpr T& value() & {
    HV_CHECK(has_value_, "Result::value() on an error");
    return value_;
  }
  constexpr const T& value() const& {
    HV_CHECK(has_value_, "Result::value() on an error");
    return value_;
  }
  constexpr T&& value() && {
    HV_CHECK(has_value_, "Result::value() on an error");
    return std::move(value_);
  }
  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }
  constexpr T* operator->() { return &value(); }
  constexpr const T* operator->() const { return &value(); }

  // REQUIRES: !ok().
  constexpr const E& error() const& {
    HV_CHECK(!has_value_, "Result::error() on a value");
    return error_;
  }
  constexpr E&& error() && {
    HV_CHECK(!has_value_, "Result::error() on a value");
    return std::move(error_);
  }

  constexpr T value_or(T fallback) const& { return has_value_ ? value_ : fallback; }

 private:
  constexpr void Destroy() {
    if (has_value_) {
      std::destroy_at(&value_);
    } else {
      std::destroy_at(&error_);
    }
  }

  bool has_value_;
  union {
    T value_;
    E error_;
  };
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  constexpr Result() = default;
  constexpr Result(E error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  constexpr bool ok() const { return !error_.has_value(); }
  constexpr explicit operator bool() const { return ok(); }
  constexpr void value() const { HV_CHECK(ok(), "Result::value() on an error"); }
  constexpr const E& error() const& {
    HV_CHECK(!ok(), "Result::error() on a value");
    return *error_;
  }
  constexpr E&& error() && {
    HV_CHECK(!ok(), "Result::error() on a value");
    return std::move(*error_);
  }

 private:
  std::optional<E> error_;
};

// Success of a Result<void>.
inline constexpr Result<void> Ok() { return {}; }

}  // namespace hv

// Propagates the error of `expr` from the enclosing function, or yields its
// value. The enclosing function's result must be constructible from the error.
#define HV_TRY(expr)                            \
  ({                                            \
    auto hv_try_result_ = (expr);               \
    if (!hv_try_result_.ok()) [[unlikely]] {    \
      return std::move(hv_try_result_).error(); \
    }                                           \
    std::move(hv_try_result_).value();          \
  })

#endif  // HV_BASE_RESULT_H_
