#include <arch/riscv64/csr.h>

namespace hv::arch::riscv64 {

const char* CauseName(uint64_t scause) {
  if (scause & kScauseInterrupt) {
    switch (scause & ~kScauseInterrupt) {
      case 1:
        return "supervisor software interrupt";
      case 2:
        return "virtual supervisor software interrupt";
      case 5:
        return "supervisor timer interrupt";
      case 6:
        return "virtual supervisor timer interrupt";
      case 9:
        return "supervisor external interrupt";
      case 10:
        return "virtual supervisor external interrupt";
      case 12:
        return "supervisor guest external interrupt";
      default:
        return "unknown interrupt";
    }
  }
  static constexpr const char* kNames[] = {
      "instruction address misaligned",
      "instruction access fault",
      "illegal instruction",
      "breakpoint",
      "load address misaligned",
      "load access fault",
      "store/AMO address misaligned",
      "store/AMO access fault",
      "environment call from U-mode",
      "environment call from S/HS-mode",
      "environment call from VS-mode",
      "environment call from M-mode",
      "instruction page fault",
      "load page fault",
      "reserved (14)",
      "store/AMO page fault",
      "reserved (16)",
      "reserved (17)",
      "reserved (18)",
      "reserved (19)",
      "instruction guest-page fault",
      "load guest-page fault",
      "virtual instruction",
      "store/AMO guest-page fault",
  };
  return scause < std::size(kNames) ? kNames[scause] : "unknown exception";
}

}  // namespace hv::arch::riscv64
