#include <hv/base/check.h>
#include <hv/base/format.h>

namespace hv {
namespace {

// Appends to a bounded buffer while counting the full length.
class Sink {
 public:
  Sink(char* buf, size_t size) : buf_(buf), size_(size) {}

  void Put(char c) {
    if (len_ + 1 < size_) {
      buf_[len_] = c;
    }
    ++len_;
  }
  void Repeat(char c, int n) {
    for (int i = 0; i < n; ++i) Put(c);
  }
  size_t Finish() {
    if (size_ > 0) {
      buf_[len_ < size_ ? len_ : size_ - 1] = '\0';
    }
    return len_;
  }

 private:
  char* buf_;
  size_t size_;
  size_t len_ = 0;
};

struct Spec {
  bool left = false;
  bool alt = false;
  bool zero = false;
  int width = 0;
  int precision = -1;
};

void PutPadded(Sink& out, const Spec& spec, std::string_view body, std::string_view prefix = {}) {
  const int len = static_cast<int>(body.size() + prefix.size());
  const int pad = spec.width > len ? spec.width - len : 0;
  if (!spec.left && !spec.zero) out.Repeat(' ', pad);
  for (char c : prefix) out.Put(c);
  if (!spec.left && spec.zero) out.Repeat('0', pad);
  for (char c : body) out.Put(c);
  if (spec.left) out.Repeat(' ', pad);
}

void PutUnsigned(Sink& out, const Spec& spec, uint64_t value, unsigned base, bool upper,
                 std::string_view prefix = {}) {
  char digits[24];
  int n = 0;
  const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits[sizeof(digits) - 1 - n++] = alphabet[value % base];
    value /= base;
  } while (value != 0);
  PutPadded(out, spec, std::string_view(&digits[sizeof(digits) - n], n), prefix);
}

}  // namespace

size_t FormatV(char* buf, size_t size, const char* fmt, va_list args) {
  Sink out(buf, size);
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      out.Put(*p);
      continue;
    }
    const char* start = p++;
    Spec spec;
    for (;; ++p) {
      if (*p == '-') {
        spec.left = true;
      } else if (*p == '#') {
        spec.alt = true;
      } else if (*p == '0') {
        spec.zero = true;
      } else {
        break;
      }
    }
    if (*p == '*') {
      spec.width = va_arg(args, int);
      ++p;
    } else {
      while (*p >= '0' && *p <= '9') spec.width = spec.width * 10 + (*p++ - '0');
    }
    if (*p == '.') {
      ++p;
      spec.precision = 0;
      if (*p == '*') {
        spec.precision = va_arg(args, int);
        ++p;
      } else {
        while (*p >= '0' && *p <= '9') spec.precision = spec.precision * 10 + (*p++ - '0');
      }
    }
    int longs = 0;      // 0: int, 1: long, 2: long long, -1: short, -2: char
    bool wide = false;  // size_t, intmax_t, ptrdiff_t
    for (;; ++p) {
      if (*p == 'l') {
        ++longs;
      } else if (*p == 'h') {
        --longs;
      } else if (*p == 'z' || *p == 'j' || *p == 't') {
        wide = true;
      } else {
        break;
      }
    }
    auto signed_arg = [&]() -> int64_t {
      if (wide || longs >= 1) return longs >= 2 ? va_arg(args, long long) : va_arg(args, long);
      const int v = va_arg(args, int);
      return longs == -1 ? static_cast<short>(v) : longs <= -2 ? static_cast<signed char>(v) : v;
    };
    auto unsigned_arg = [&]() -> uint64_t {
      if (wide || longs >= 1) {
        return longs >= 2 ? va_arg(args, unsigned long long) : va_arg(args, unsigned long);
      }
      const unsigned v = va_arg(args, unsigned);
      return longs == -1   ? static_cast<unsigned short>(v)
             : longs <= -2 ? static_cast<unsigned char>(v)
                           : v;
    };
    switch (*p) {
      case 'd':
      case 'i': {
        const int64_t v = signed_arg();
        const uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        PutUnsigned(out, spec, magnitude, 10, false, v < 0 ? "-" : "");
        break;
      }
      case 'u':
        PutUnsigned(out, spec, unsigned_arg(), 10, false);
        break;
      case 'x':
      case 'X': {
        const uint64_t v = unsigned_arg();
        PutUnsigned(out, spec, v, 16, *p == 'X',
                    spec.alt && v != 0 ? (*p == 'X' ? "0X" : "0x") : "");
        break;
      }
      case 'o': {
        const uint64_t v = unsigned_arg();
        PutUnsigned(out, spec, v, 8, false, spec.alt && v != 0 ? "0" : "");
        break;
      }
      case 'p':
        PutUnsigned(out, spec, reinterpret_cast<uintptr_t>(va_arg(args, void*)), 16, false, "0x");
        break;
      case 'c': {
        const char c = static_cast<char>(va_arg(args, int));
        PutPadded(out, spec, std::string_view(&c, 1));
        break;
      }
      case 's': {
        const char* s = va_arg(args, const char*);
        if (s == nullptr) s = "(null)";
        size_t n = 0;
        while (s[n] != '\0' && (spec.precision < 0 || n < static_cast<size_t>(spec.precision))) ++n;
        spec.zero = false;
        PutPadded(out, spec, std::string_view(s, n));
        break;
      }
      case '%':
        out.Put('%');
        break;
      default:
        // Unknown conversion: show it as written.
        for (const char* q = start; q <= p && *q != '\0'; ++q) out.Put(*q);
        if (*p == '\0') --p;
        break;
    }
  }
  return out.Finish();
}

size_t Format(char* buf, size_t size, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const size_t n = FormatV(buf, size, fmt, args);
  va_end(args);
  return n;
}

void VPrintf(const char* fmt, va_list args) {
  char buf[512];
  const size_t n = FormatV(buf, sizeof(buf), fmt, args);
  ConsoleWrite(std::string_view(buf, n < sizeof(buf) ? n : sizeof(buf) - 1));
}

void Printf(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  VPrintf(fmt, args);
  va_end(args);
}

void CheckFailed(const char* file, int line, const char* condition, const char* fmt, ...) {
  char message[384];
  va_list args;
  va_start(args, fmt);
  FormatV(message, sizeof(message), fmt, args);
  va_end(args);
  Panic(file, line, "check failed: %s: %s", condition, message);
}

}  // namespace hv
