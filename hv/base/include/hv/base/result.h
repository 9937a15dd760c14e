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

// Whether `bits` is the value of an Error (from kInvalidArgs to kTimedOut,
// the last code: a new one goes before it or moves this bound).
constexpr bool IsErrorValue(uint64_t bits) {
  return bits >= static_cast<uint64_t>(Error::kInvalidArgs) &&
         bits <= static_cast<uint64_t>(Error::kTimedOut);
}

// A stable, human-readable name for `error` ("kPageFault"...).
const char* ErrorName(Error error);

template <typename T, typename E>
class Result;

// Customisation point: a type T that has representations which are never a
// valid T (a "niche") may let Result<T, E> keep its error there. The Result
// is then exactly a T, and comes back in registers whenever T does (a
// two-word T in rax:rdx or a0:a1, say). A specialisation provides
//
//   static constexpr bool IsError(const T& repr);   repr holds an error
//   static constexpr T FromError(E error);          an error as a T
//   static constexpr E ToError(const T& repr);      REQUIRES: IsError(repr)
//
// A value `v` with IsError(v) can then not be told from an error: building
// Result<T, E> from it yields the error ToError(v), so a niche must only
// contain representations that are invalid as values anyway. The primary
// template is left undefined: no niche.
template <typename T, typename E>
struct ResultNiche;

namespace internal {

template <typename T, typename E>
concept HasResultNiche = requires(const T& repr, E error) {
  { ResultNiche<T, E>::IsError(repr) } -> std::same_as<bool>;
  { ResultNiche<T, E>::FromError(error) } -> std::same_as<T>;
  { ResultNiche<T, E>::ToError(repr) } -> std::same_as<E>;
};

struct ValueTag {};
struct ErrorTag {};

// The storage of a Result<T, E>: a flag and a union. The general case
// constructs, copies and destroys whichever member is active.
template <typename T, typename E>
class ResultStorage {
 public:
  constexpr ResultStorage(ValueTag, auto&& value)
      : has_value_(true), value_(std::forward<decltype(value)>(value)) {}
  constexpr ResultStorage(ErrorTag, E error) : has_value_(false), error_(std::move(error)) {}

  constexpr ResultStorage(const ResultStorage& other) : has_value_(other.has_value_) {
    if (has_value_) {
      std::construct_at(&value_, other.value_);
    } else {
      std::construct_at(&error_, other.error_);
    }
  }
  constexpr ResultStorage(ResultStorage&& other) noexcept : has_value_(other.has_value_) {
    if (has_value_) {
      std::construct_at(&value_, std::move(other.value_));
    } else {
      std::construct_at(&error_, std::move(other.error_));
    }
  }
  constexpr ResultStorage& operator=(ResultStorage other) noexcept {
    Destroy();
    has_value_ = other.has_value_;
    if (has_value_) {
      std::construct_at(&value_, std::move(other.value_));
    } else {
      std::construct_at(&error_, std::move(other.error_));
    }
    return *this;
  }
  constexpr ~ResultStorage() { Destroy(); }

  constexpr bool has_value() const { return has_value_; }
  constexpr T& value() { return value_; }
  constexpr const T& value() const { return value_; }
  constexpr E error() const { return error_; }

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

// A scalar value (integer, enum, pointer) with an Error: the two side by
// side, no flag (no Error is 0, so error_ == Error{} means a value) and no
// union. Trivially copyable, so a Result<uint64_t> comes back in rax:rdx
// (a0:a1), and nothing in it makes GCC copy it through memory. (A union of
// differently shaped members does: GCC 12 moves it with wide loads over
// the narrow stores that built it, and each copy stalls on store
// forwarding; that cost a Result<std::optional<VirtqUsedElem>> about 25 ns
// per copy, so other trivially copyable types keep the general storage.)
template <typename T, typename E>
requires std::is_scalar_v<T> && std::is_same_v<E, Error> &&
    (!HasResultNiche<T, E>)class ResultStorage<T, E> {
 public:
  constexpr ResultStorage(ValueTag, auto&& value)
      : value_(std::forward<decltype(value)>(value)), error_() {}
  constexpr ResultStorage(ErrorTag, E error) : value_(), error_(error) {
    HV_CHECK(error != Error{}, "Result built from Error 0, which is no error code");
  }

  constexpr bool has_value() const { return error_ == Error{}; }
  constexpr T& value() { return value_; }
  constexpr const T& value() const { return value_; }
  constexpr E error() const { return error_; }

 private:
  T value_;
  Error error_;
};

// A niche: the error lives in a representation of T (see ResultNiche).
template <typename T, typename E>
requires HasResultNiche<T, E>
class ResultStorage<T, E> {
  using Niche = ResultNiche<T, E>;

 public:
  constexpr ResultStorage(ValueTag, auto&& value) : repr_(std::forward<decltype(value)>(value)) {
    // A value in the niche is an error: keep the one it encodes.
    if (Niche::IsError(repr_)) repr_ = Niche::FromError(Niche::ToError(repr_));
  }
  constexpr ResultStorage(ErrorTag, E error) : repr_(Niche::FromError(std::move(error))) {}

  constexpr bool has_value() const { return !Niche::IsError(repr_); }
  constexpr T& value() { return repr_; }
  constexpr const T& value() const { return repr_; }
  constexpr E error() const { return Niche::ToError(repr_); }

 private:
  T repr_;
};

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
  constexpr Result(U&& value)  // NOLINT(google-explicit-constructor)
      : storage_(internal::ValueTag{}, std::forward<U>(value)) {}
  constexpr Result(E error)  // NOLINT(google-explicit-constructor)
      : storage_(internal::ErrorTag{}, std::move(error)) {}

  constexpr bool ok() const { return storage_.has_value(); }
  constexpr explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  constexpr T& value() & {
    HV_CHECK(ok(), "Result::value() on an error");
    return storage_.value();
  }
  constexpr const T& value() const& {
    HV_CHECK(ok(), "Result::value() on an error");
    return storage_.value();
  }
  constexpr T&& value() && {
    HV_CHECK(ok(), "Result::value() on an error");
    return std::move(storage_.value());
  }
  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }
  constexpr T* operator->() { return &value(); }
  constexpr const T* operator->() const { return &value(); }

  // REQUIRES: !ok(). By value: a niche keeps no E to refer to.
  constexpr E error() const {
    HV_CHECK(!ok(), "Result::error() on a value");
    return storage_.error();
  }

  constexpr T value_or(T fallback) const& { return ok() ? storage_.value() : fallback; }

 private:
  internal::ResultStorage<T, E> storage_;
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
  constexpr E error() const {
    HV_CHECK(!ok(), "Result::error() on a value");
    return *error_;
  }

 private:
  std::optional<E> error_;
};

// Success of a Result<void>.
inline constexpr Result<void> Ok() { return {}; }

}  // namespace hv

// Propagates the error of `expr` from the enclosing function, or yields its
// value. The enclosing function's result must be constructible from the error.
#define HV_TRY(expr)                         \
  ({                                         \
    auto hv_try_result_ = (expr);            \
    if (!hv_try_result_.ok()) [[unlikely]] { \
      return hv_try_result_.error();         \
    }                                        \
    std::move(hv_try_result_).value();       \
  })

#endif  // HV_BASE_RESULT_H_
