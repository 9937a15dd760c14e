// The decoder in a freestanding kernel image (riscv64 and x86_64 boards):
// a few forms of each kind, decoded at run time rather than at compile time.
#include <arch/riscv64/insn.h>
#include <hv/base/std.h>
#include <ktest/ktest.h>

namespace {

using hv::arch::riscv64::AccessKind;
using hv::arch::riscv64::DecodeMemoryAccess;
using hv::arch::riscv64::ExtendLoadValue;
using hv::arch::riscv64::MemoryAccess;

// Opaque to the optimizer, so the decoding happens in the image.
uint32_t Launder(uint32_t raw) {
  // SAFETY: an empty asm on a register operand; it touches no memory.
  asm volatile("" : "+r"(raw));
  return raw;
}

TEST(Insn, DecodesInTheKernel) {
  const hv::Result<MemoryAccess> lw = DecodeMemoryAccess(Launder(0x0005a503));  // lw x10, 0(x11)
  ASSERT_TRUE(lw.ok());
  EXPECT_EQ(lw->length, 4u);
  EXPECT_TRUE(lw->kind == AccessKind::kLoad);
  EXPECT_EQ(lw->width, 4u);
  EXPECT_EQ(lw->reg, 10u);
  EXPECT_EQ(ExtendLoadValue(*lw, 0x8000'0000), 0xffff'ffff'8000'0000u);

  const hv::Result<MemoryAccess> swsp = DecodeMemoryAccess(Launder(0xdfc6));  // c.swsp x17, 252(sp)
  ASSERT_TRUE(swsp.ok());
  EXPECT_EQ(swsp->length, 2u);
  EXPECT_TRUE(swsp->kind == AccessKind::kStore);
  EXPECT_EQ(swsp->reg, 17u);

  const hv::Result<MemoryAccess> fld = DecodeMemoryAccess(Launder(0x3c04));  // c.fld f9, 56(x8)
  ASSERT_TRUE(fld.ok());
  EXPECT_TRUE(fld->fp);
  EXPECT_EQ(fld->reg, 9u);
  EXPECT_EQ(fld->width, 8u);

  EXPECT_TRUE(DecodeMemoryAccess(Launder(0x4002)).error() == hv::Error::kInvalidArgs);
  EXPECT_TRUE(DecodeMemoryAccess(Launder(0x100022f3)).error() ==  // csrr t0, sstatus
              hv::Error::kUnsupported);
}

}  // namespace
