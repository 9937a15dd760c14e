#include <hv/riscv64/guest_console.h>

namespace hv::riscv64 {
namespace {

std::span<const std::byte> AsBytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace

GuestConsole::GuestConsole(std::string_view name, devices::CharSink& out) : out_(out) {
  name_len_ = std::min(name.size(), kMaxName);
  for (size_t i = 0; i < name_len_; ++i) name_[i] = name[i];
}

void GuestConsole::Write(std::span<const std::byte> bytes) {
  for (std::byte b : bytes) {
    const auto c = static_cast<unsigned char>(b);
    if (c == '\r') continue;
    if (c == '\n') {
      Emit();
      continue;
    }
    line_[len_++] = (c == '\t' || (c >= 0x20 && c < 0x7f)) ? static_cast<char>(c) : '.';
    if (len_ == kMaxLine) Emit();
  }
}

void GuestConsole::Flush() {
  if (len_ != 0) Emit();
}

void GuestConsole::Emit() {
  out_.Write(AsBytes("["));
  out_.Write(AsBytes(std::string_view(name_.data(), name_len_)));
  out_.Write(AsBytes("] "));
  out_.Write(AsBytes(std::string_view(line_.data(), len_)));
  out_.Write(AsBytes("\n"));
  len_ = 0;
}

}  // namespace hv::riscv64
