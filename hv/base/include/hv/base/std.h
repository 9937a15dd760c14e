// The curated set of standard-library headers that kernel code may use.
//
// Everything here is header-only and freestanding-safe with -fno-exceptions:
// no allocation, no locale, no I/O. Kernel code includes this instead of
// reaching for arbitrary standard headers.
#ifndef HV_BASE_STD_H_
#define HV_BASE_STD_H_

#include <array>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#endif  // HV_BASE_STD_H_
