// DecodeMemoryAccess against GNU as: every record of insn_cases.s holds an
// instruction as the assembler encoded it, the fields expected of it
// (written beside the instruction, from its mnemonic and operands) and, for
// the handled forms, the encoding assembled by hand. The expectations never
// come from the decoder under test.
#include <arch/riscv64/insn.h>
#include <arch/riscv64/insn/insn_cases_embedded.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace hv {

void PrintTo(Error error, std::ostream* os) { *os << ErrorName(error); }

namespace arch::riscv64 {
namespace {

// The record layout of insn_cases.s.
struct Record {
  uint32_t hand;
  uint8_t kind;  // 0 load, 1 store, 2 unsupported
  uint8_t width;
  uint8_t sign;
  uint8_t reg;
  uint8_t fp;
  uint8_t length;  // as assembled
  uint8_t pad[2];
  uint8_t insn[4];
  char text[40];
};
static_assert(sizeof(Record) == 56);

std::vector<Record> Records() {
  const std::span<const std::byte> bytes = testdata::InsnCases();
  EXPECT_EQ(bytes.size() % sizeof(Record), 0u);
  std::vector<Record> records(bytes.size() / sizeof(Record));
  // SAFETY: both buffers hold records.size() records; Record is plain bytes.
  std::memcpy(records.data(), bytes.data(), records.size() * sizeof(Record));
  return records;
}

uint32_t Encoding(const Record& r) {
  uint32_t value = 0;
  for (int i = r.length - 1; i >= 0; --i) value = (value << 8) | r.insn[i];
  return value;
}

TEST(InsnAssembler, EveryRecordPresent) {
  // 54 handled forms and 43 refused instructions in insn_cases.s.
  const std::vector<Record> records = Records();
  EXPECT_EQ(records.size(), 97u);
  size_t handled = 0;
  for (const Record& r : records) handled += r.kind != 2;
  EXPECT_EQ(handled, 54u);
}

TEST(InsnAssembler, HandEncodingsMatchTheAssembler) {
  for (const Record& r : Records()) {
    if (r.hand == 0) continue;
    EXPECT_EQ(r.hand, Encoding(r)) << r.text;
  }
}

TEST(InsnAssembler, DecodesAsExpected) {
  for (const Record& r : Records()) {
    SCOPED_TRACE(::testing::Message() << r.text << " = 0x" << std::hex << Encoding(r));
    const uint32_t raw = Encoding(r);
    ASSERT_TRUE(r.length == 2 || r.length == 4);
    EXPECT_EQ(*InstructionLength(static_cast<uint16_t>(raw)), r.length);

    const Result<MemoryAccess> access = DecodeMemoryAccess(raw);
    if (r.kind == 2) {
      ASSERT_FALSE(access.ok());
      EXPECT_EQ(access.error(), Error::kUnsupported);
      continue;
    }
    ASSERT_TRUE(access.ok()) << ErrorName(access.error());
    EXPECT_EQ(access->length, r.length);
    EXPECT_EQ(access->kind, r.kind == 0 ? AccessKind::kLoad : AccessKind::kStore);
    EXPECT_EQ(access->width, r.width);
    EXPECT_EQ(access->sign_extend, r.sign != 0);
    EXPECT_EQ(access->reg, r.reg);
    EXPECT_EQ(access->fp, r.fp != 0);
  }
}

TEST(InsnAssembler, CompressedIgnoresTheNextParcel) {
  // A caller may fetch 4 bytes: what follows a compressed instruction must
  // not change its decoding.
  for (const Record& r : Records()) {
    if (r.length != 2) continue;
    const uint32_t raw = Encoding(r);
    for (const uint32_t next : {0x0000u, 0xffffu, 0x1234u, 0xdeadu}) {
      const Result<MemoryAccess> plain = DecodeMemoryAccess(raw);
      const Result<MemoryAccess> with_next = DecodeMemoryAccess(raw | (next << 16));
      ASSERT_EQ(plain.ok(), with_next.ok()) << r.text;
      if (plain.ok()) {
        EXPECT_EQ(*plain, *with_next) << r.text;
      } else {
        EXPECT_EQ(plain.error(), with_next.error()) << r.text;
      }
    }
  }
}

// Encodings as cannot produce (reserved ones) or that this binutils does not
// know (Zcb), assembled by hand, with the documented error.
TEST(InsnAssembler, HandAssembledRefusals) {
  const struct {
    uint32_t raw;
    Error error;
    const char* what;
  } kCases[] = {
      {0x0000'0000, Error::kInvalidArgs, "all-zero halfword (defined illegal)"},
      {0xffff'0000, Error::kInvalidArgs, "all-zero halfword, next parcel set"},
      {0x4002, Error::kInvalidArgs, "c.lwsp x0, 0(sp) (reserved)"},
      {0x507e, Error::kInvalidArgs, "c.lwsp x0, 252(sp) (reserved)"},
      {0x6002, Error::kInvalidArgs, "c.ldsp x0, 0(sp) (reserved)"},
      {0x707e, Error::kInvalidArgs, "c.ldsp x0, 504(sp) (reserved)"},
      {0x0000'7003, Error::kInvalidArgs, "LOAD funct3 7 (ldu, RV128)"},
      {0xfff7'f083, Error::kInvalidArgs, "LOAD funct3 7, rd x1, rs1 x15, -1"},
      {0x0000'4023, Error::kInvalidArgs, "STORE funct3 4 (sq, RV128)"},
      {0x0000'5023, Error::kInvalidArgs, "STORE funct3 5"},
      {0x0000'6023, Error::kInvalidArgs, "STORE funct3 6"},
      {0x0000'7023, Error::kInvalidArgs, "STORE funct3 7"},
      {0x8000, Error::kUnsupported, "c.lbu x8, 0(x8) (Zcb)"},
      {0x9c00, Error::kUnsupported, "quadrant 0 funct3 100 (Zcb)"},
      {0x0004, Error::kUnsupported, "c.addi4spn with a zero immediate"},
      {0x0000'001f, Error::kUnsupported, "a 48-bit instruction"},
      {0x0000'003f, Error::kUnsupported, "a 64-bit instruction"},
      {0x0000'007f, Error::kUnsupported, "an 80-bit-or-longer instruction"},
      {0xffff'ffff, Error::kUnsupported, "all ones"},
      {0x0000'0013, Error::kUnsupported, "nop (addi x0, x0, 0)"},
  };
  for (const auto& c : kCases) {
    const Result<MemoryAccess> access = DecodeMemoryAccess(c.raw);
    ASSERT_FALSE(access.ok()) << c.what;
    EXPECT_EQ(access.error(), c.error) << c.what;
  }
}

TEST(InsnAssembler, InstructionLengths) {
  EXPECT_EQ(*InstructionLength(0x4080), 2u);     // c.lw
  EXPECT_EQ(*InstructionLength(0x0000), 2u);     // illegal, but a 16-bit parcel
  EXPECT_EQ(*InstructionLength(0xa503), 4u);     // lw
  EXPECT_EQ(*InstructionLength(0x001f), 6u);     // xxxxxxxxxx011111
  EXPECT_EQ(*InstructionLength(0x003f), 8u);     // xxxxxxxxx0111111
  EXPECT_FALSE(InstructionLength(0x007f).ok());  // 80 bits and longer
  EXPECT_EQ(InstructionLength(0xffff).error(), Error::kUnsupported);
}

}  // namespace
}  // namespace arch::riscv64
}  // namespace hv
