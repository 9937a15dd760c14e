#include <arch/extable.h>
#include <arch/x86_64/io.h>
#include <arch/x86_64/trap.h>
#include <hv/base/check.h>
#include <hv/base/format.h>

extern "C" const uint64_t x86_64_trap_stubs[256];

namespace hv::arch::x86_64 {
namespace {

struct [[gnu::packed]] IdtGate {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attr;
  uint16_t offset_mid;
  uint32_t offset_high;
  uint32_t reserved;
};
static_assert(sizeof(IdtGate) == 16);

struct [[gnu::packed]] IdtPointer {
  uint16_t limit;
  uint64_t base;
};

constexpr uint16_t kKernelCodeSelector = 0x08;
constexpr uint8_t kInterruptGate = 0x8e;  // present, DPL 0, 64-bit interrupt gate

alignas(16) IdtGate g_idt[256];

const char* VectorName(uint64_t vector) {
  static constexpr const char* kNames[] = {
      "divide error",
      "debug",
      "NMI",
      "breakpoint",
      "overflow",
      "bound range exceeded",
      "invalid opcode",
      "device not available",
      "double fault",
      "coprocessor segment overrun",
      "invalid TSS",
      "segment not present",
      "stack-segment fault",
      "general protection fault",
      "page fault",
      "reserved (15)",
      "x87 FP error",
      "alignment check",
      "machine check",
      "SIMD FP exception",
      "virtualization exception",
      "control protection",
  };
  return vector < std::size(kNames) ? kNames[vector] : (vector < 32 ? "reserved" : "interrupt");
}

}  // namespace

void InstallIdt() {
  for (int v = 0; v < 256; ++v) {
    const uint64_t handler = x86_64_trap_stubs[v];
    g_idt[v] = IdtGate{
        .offset_low = static_cast<uint16_t>(handler),
        .selector = kKernelCodeSelector,
        .ist = 0,
        .type_attr = kInterruptGate,
        .offset_mid = static_cast<uint16_t>(handler >> 16),
        .offset_high = static_cast<uint32_t>(handler >> 32),
        .reserved = 0,
    };
  }
  const IdtPointer pointer{.limit = sizeof(g_idt) - 1, .base = reinterpret_cast<uint64_t>(g_idt)};
  // SAFETY: g_idt is a static table of valid gates that lives forever.
  asm volatile("lidt %0" ::"m"(pointer));
}

void PrintTrapFrame(const TrapFrame& f) {
  Printf("trap: %s (vector %lu, error code %#lx)\n", VectorName(f.vector), f.vector, f.error_code);
  Printf("  rip %016lx  rsp %016lx  rflags %016lx  cr2 %016lx\n", f.rip, f.rsp, f.rflags,
         ReadCr2());
  Printf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f.rax, f.rbx, f.rcx, f.rdx);
  Printf("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f.rsi, f.rdi, f.rbp, f.r8);
  Printf("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f.r9, f.r10, f.r11, f.r12);
  Printf("  r13 %016lx  r14 %016lx  r15 %016lx  cs  %04lx\n", f.r13, f.r14, f.r15, f.cs);
}

}  // namespace hv::arch::x86_64

// Called by trap_entry.S with the saved context. A page fault, or a general
// protection fault (what a non-canonical address gives), at an instruction
// listed in the exception table resumes at its fixup; the kernel enables no
// interrupts and expects no other exception yet, so every other trap is
// fatal.
extern "C" void x86_64_handle_trap(hv::arch::x86_64::TrapFrame* frame) {
  using hv::arch::x86_64::kVectorGeneralProtection;
  using hv::arch::x86_64::kVectorPageFault;
  if (frame->vector == kVectorPageFault || frame->vector == kVectorGeneralProtection) {
    if (const std::optional<uintptr_t> fixup = hv::arch::FixupForFault(frame->rip)) {
      frame->rip = *fixup;
      return;
    }
  }
  hv::arch::x86_64::PrintTrapFrame(*frame);
  HV_PANIC("unexpected trap in the kernel at rip %#lx", frame->rip);
}
