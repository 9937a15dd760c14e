// A VM's console on the hypervisor's: everything the guest writes (through
// its UART or the SBI console) comes out line by line, each line prefixed
// with the VM's name ("[sbi] hello"). Only the hypervisor itself therefore
// prints lines that start anywhere else, such as the test-pass sentinel.
//
// Bytes are sanitized: '\r' is dropped, other control characters (except
// '\t') and bytes >= 0x7f become '.', so a guest cannot break or forge a
// line of the hypervisor's output. A line longer than kMaxLine is split.
#ifndef HV_RISCV64_GUEST_CONSOLE_H_
#define HV_RISCV64_GUEST_CONSOLE_H_

#include <devices/char_io.h>
#include <hv/base/std.h>

namespace hv::riscv64 {

class GuestConsole final : public devices::CharSink {
 public:
  static constexpr size_t kMaxLine = 160;
  static constexpr size_t kMaxName = 16;

  // `name` is copied (truncated to kMaxName); `out` must outlive this.
  GuestConsole(std::string_view name, devices::CharSink& out);

  void Write(std::span<const std::byte> bytes) override;
  // Emits a pending partial line (e.g. when the VM ends).
  void Flush();

 private:
  void Emit();

  devices::CharSink& out_;
  std::array<char, kMaxName> name_{};
  size_t name_len_ = 0;
  std::array<char, kMaxLine> line_{};
  size_t len_ = 0;
};

}  // namespace hv::riscv64

#endif  // HV_RISCV64_GUEST_CONSOLE_H_
