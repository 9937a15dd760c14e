// DecodeMemoryAccess against a reference decoder written differently: a
// mask/match table in the style of riscv-opcodes, with the operand fields
// pulled out by explicit bit positions. Every compressed encoding (2^16) and
// a large fixed-seed sample of 32-bit encodings must agree: same error, or
// same fields. ExtendLoadValue and StoreValue are checked against C++
// integer conversions.
#include <arch/riscv64/insn.h>
#include <gtest/gtest.h>

#include <optional>
#include <random>

namespace hv {

void PrintTo(Error error, std::ostream* os) { *os << ErrorName(error); }

namespace arch::riscv64 {

void PrintTo(const MemoryAccess& a, std::ostream* os) {
  *os << "{len " << int{a.length} << (a.kind == AccessKind::kLoad ? " load" : " store") << " w"
      << int{a.width} << (a.sign_extend ? " signed" : "") << (a.fp ? " f" : " x") << int{a.reg}
      << "}";
}

namespace {

// The decoder must work in constant expressions.
static_assert(DecodeMemoryAccess(0x0005a503).value() ==  // lw x10, 0(x11)
              MemoryAccess{.length = 4,
                           .kind = AccessKind::kLoad,
                           .width = 4,
                           .sign_extend = true,
                           .reg = 10,
                           .fp = false});
static_assert(DecodeMemoryAccess(0xc004).value().kind == AccessKind::kStore);  // c.sw x9, 0(x8)
static_assert(DecodeMemoryAccess(0x4002).error() == Error::kInvalidArgs);      // c.lwsp x0
static_assert(InstructionLength(0x4080).value() == 2);
static_assert(ExtendLoadValue(DecodeMemoryAccess(0x00010083).value(), 0x80) ==  // lb
              0xffff'ffff'ffff'ff80);

// Field extraction, by bit position as drawn in the ISA manual.
uint32_t Bits(uint32_t v, int hi, int lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1); }

enum class Reg { kRd, kRs2, kRdPrime, kRs2Prime, kCRd, kCRs2 };

struct Pattern {
  const char* name;
  uint32_t mask;
  uint32_t match;
  AccessKind kind;
  uint8_t width;
  bool sign_extend;
  bool fp;
  Reg reg;
  bool rd_zero_reserved;
};

constexpr AccessKind L = AccessKind::kLoad;
constexpr AccessKind S = AccessKind::kStore;

// 32-bit: opcode and funct3 (mask 0x707f).
constexpr Pattern kPatterns32[] = {
    {"lb", 0x707f, 0x0003, L, 1, true, false, Reg::kRd, false},
    {"lh", 0x707f, 0x1003, L, 2, true, false, Reg::kRd, false},
    {"lw", 0x707f, 0x2003, L, 4, true, false, Reg::kRd, false},
    {"ld", 0x707f, 0x3003, L, 8, true, false, Reg::kRd, false},
    {"lbu", 0x707f, 0x4003, L, 1, false, false, Reg::kRd, false},
    {"lhu", 0x707f, 0x5003, L, 2, false, false, Reg::kRd, false},
    {"lwu", 0x707f, 0x6003, L, 4, false, false, Reg::kRd, false},
    {"sb", 0x707f, 0x0023, S, 1, false, false, Reg::kRs2, false},
    {"sh", 0x707f, 0x1023, S, 2, false, false, Reg::kRs2, false},
    {"sw", 0x707f, 0x2023, S, 4, false, false, Reg::kRs2, false},
    {"sd", 0x707f, 0x3023, S, 8, false, false, Reg::kRs2, false},
    {"flw", 0x707f, 0x2007, L, 4, false, true, Reg::kRd, false},
    {"fld", 0x707f, 0x3007, L, 8, false, true, Reg::kRd, false},
    {"fsw", 0x707f, 0x2027, S, 4, false, true, Reg::kRs2, false},
    {"fsd", 0x707f, 0x3027, S, 8, false, true, Reg::kRs2, false},
};
// Reserved in RV64 within LOAD/STORE: ldu and sq..funct3 7.
constexpr uint32_t kReserved32[][2] = {
    {0x707f, 0x7003}, {0x707f, 0x4023}, {0x707f, 0x5023}, {0x707f, 0x6023}, {0x707f, 0x7023}};

// 16-bit: funct3 and quadrant (mask 0xe003).
constexpr Pattern kPatterns16[] = {
    {"c.fld", 0xe003, 0x2000, L, 8, false, true, Reg::kRdPrime, false},
    {"c.lw", 0xe003, 0x4000, L, 4, true, false, Reg::kRdPrime, false},
    {"c.ld", 0xe003, 0x6000, L, 8, true, false, Reg::kRdPrime, false},
    {"c.fsd", 0xe003, 0xa000, S, 8, false, true, Reg::kRs2Prime, false},
    {"c.sw", 0xe003, 0xc000, S, 4, false, false, Reg::kRs2Prime, false},
    {"c.sd", 0xe003, 0xe000, S, 8, false, false, Reg::kRs2Prime, false},
    {"c.fldsp", 0xe003, 0x2002, L, 8, false, true, Reg::kCRd, false},
    {"c.lwsp", 0xe003, 0x4002, L, 4, true, false, Reg::kCRd, true},
    {"c.ldsp", 0xe003, 0x6002, L, 8, true, false, Reg::kCRd, true},
    {"c.fsdsp", 0xe003, 0xa002, S, 8, false, true, Reg::kCRs2, false},
    {"c.swsp", 0xe003, 0xc002, S, 4, false, false, Reg::kCRs2, false},
    {"c.sdsp", 0xe003, 0xe002, S, 8, false, false, Reg::kCRs2, false},
};

uint32_t RegOf(Reg reg, uint32_t insn) {
  switch (reg) {
    case Reg::kRd:
      return Bits(insn, 11, 7);
    case Reg::kRs2:
      return Bits(insn, 24, 20);
    case Reg::kRdPrime:   // CL format rd' (bits 4:2)
    case Reg::kRs2Prime:  // CS format rs2' (bits 4:2)
      return 8 + Bits(insn, 4, 2);
    case Reg::kCRd:  // CI format rd (bits 11:7)
      return Bits(insn, 11, 7);
    case Reg::kCRs2:  // CSS format rs2 (bits 6:2)
      return Bits(insn, 6, 2);
  }
  return 99;
}

// The reference: a value, or the expected error.
struct Expected {
  std::optional<MemoryAccess> access;
  Error error = Error{};
};

Expected Reference(uint32_t raw) {
  const bool compressed = (raw & 3) != 3;
  const uint32_t insn = compressed ? (raw & 0xffff) : raw;
  if (compressed && insn == 0) return {.error = Error::kInvalidArgs};
  const auto& patterns =
      compressed ? std::span<const Pattern>(kPatterns16) : std::span<const Pattern>(kPatterns32);
  for (const Pattern& p : patterns) {
    if ((insn & p.mask) != p.match) continue;
    const uint32_t reg = RegOf(p.reg, insn);
    if (p.rd_zero_reserved && reg == 0) return {.error = Error::kInvalidArgs};
    return {.access = MemoryAccess{.length = static_cast<uint8_t>(compressed ? 2 : 4),
                                   .kind = p.kind,
                                   .width = p.width,
                                   .sign_extend = p.sign_extend,
                                   .reg = static_cast<uint8_t>(reg),
                                   .fp = p.fp}};
  }
  if (!compressed) {
    for (const auto& [mask, match] : kReserved32) {
      if ((insn & mask) == match) return {.error = Error::kInvalidArgs};
    }
  }
  return {.error = Error::kUnsupported};
}

void ExpectAgrees(uint32_t raw) {
  const Expected expected = Reference(raw);
  const Result<MemoryAccess> actual = DecodeMemoryAccess(raw);
  if (expected.access.has_value()) {
    ASSERT_TRUE(actual.ok()) << std::hex << "0x" << raw << ": " << ErrorName(actual.error());
    ASSERT_EQ(*actual, *expected.access) << std::hex << "0x" << raw;
  } else {
    ASSERT_FALSE(actual.ok()) << std::hex << "0x" << raw;
    ASSERT_EQ(actual.error(), expected.error) << std::hex << "0x" << raw;
  }
}

TEST(InsnProperty, EveryCompressedEncoding) {
  std::mt19937 rng(16);
  size_t decoded = 0;
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    if ((h & 3) == 3) continue;
    ExpectAgrees(h);
    // The next parcel does not matter.
    ExpectAgrees(h | (rng() << 16));
    if (HasFatalFailure()) return;
    decoded += DecodeMemoryAccess(h).ok();
  }
  // 12 memory slots of 2^11 encodings each, less c.lwsp/c.ldsp with rd = 0.
  EXPECT_EQ(decoded, 12u * 2048 - 2 * 64);
}

TEST(InsnProperty, RandomUncompressedEncodings) {
#if defined(__riscv)
  constexpr int kSamples = 1 << 20;  // under qemu-riscv64
#else
  constexpr int kSamples = 1 << 23;
#endif
  std::mt19937 rng(32);
  for (int i = 0; i < kSamples; ++i) {
    ExpectAgrees(rng() | 3);
    if (HasFatalFailure()) return;
  }
}

TEST(InsnProperty, EveryOpcodeAndFunct3WithRandomOperands) {
  // Uniform sampling rarely hits one opcode; cover each (opcode, funct3)
  // pair with random other bits, and with the other bits all 0 or all 1.
  std::mt19937 rng(7);
  size_t decoded = 0;
  for (uint32_t opcode = 3; opcode < 128; opcode += 4) {
    for (uint32_t funct3 = 0; funct3 < 8; ++funct3) {
      const uint32_t fixed = opcode | (funct3 << 12);
      ExpectAgrees(fixed);
      ExpectAgrees(fixed | ~0x707fu);
      for (int i = 0; i < 512; ++i) {
        const uint32_t raw = (rng() & ~0x707fu) | fixed;
        ExpectAgrees(raw);
        decoded += DecodeMemoryAccess(raw).ok();
      }
      if (HasFatalFailure()) return;
    }
  }
  // 15 handled (opcode, funct3) pairs.
  EXPECT_EQ(decoded, 15u * 512);
}

TEST(InsnProperty, InstructionLengthOfEveryParcel) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const Result<uint8_t> length = InstructionLength(static_cast<uint16_t>(h));
    // The ISA manual's figure "RISC-V instruction length encoding".
    uint8_t expected = 0;
    if (Bits(h, 1, 0) != 0b11) {
      expected = 2;
    } else if (Bits(h, 4, 2) != 0b111) {
      expected = 4;
    } else if (Bits(h, 5, 0) == 0b011111) {
      expected = 6;
    } else if (Bits(h, 6, 0) == 0b0111111) {
      expected = 8;
    }
    if (expected == 0) {
      ASSERT_FALSE(length.ok()) << h;
      EXPECT_EQ(length.error(), Error::kUnsupported);
    } else {
      ASSERT_TRUE(length.ok()) << h;
      EXPECT_EQ(*length, expected) << h;
    }
    // Decodable instructions agree with it.
    const Result<MemoryAccess> access = DecodeMemoryAccess(h);
    if (access.ok()) {
      EXPECT_EQ(access->length, expected);
    }
  }
}

MemoryAccess AccessOf(AccessKind kind, uint8_t width, bool sign_extend, bool fp) {
  return MemoryAccess{
      .length = 4, .kind = kind, .width = width, .sign_extend = sign_extend, .reg = 1, .fp = fp};
}

TEST(InsnProperty, ExtendLoadValueMatchesIntegerConversions) {
  std::mt19937_64 rng(64);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = i < 4 ? (i & 1 ? ~uint64_t{0} : 0) ^ (i & 2 ? 0x80 : 0) : rng();
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 1, true, false), v),
              static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(v))));
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 2, true, false), v),
              static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(v))));
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 4, true, false), v),
              static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))));
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 8, true, false), v), v);
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 1, false, false), v), uint64_t{static_cast<uint8_t>(v)});
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 2, false, false), v), uint64_t{static_cast<uint16_t>(v)});
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 4, false, false), v), uint64_t{static_cast<uint32_t>(v)});
    // flw NaN-boxes; fld takes the value as is.
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 4, false, true), v),
              0xffff'ffff'0000'0000 | static_cast<uint32_t>(v));
    EXPECT_EQ(ExtendLoadValue(AccessOf(L, 8, false, true), v), v);

    EXPECT_EQ(StoreValue(AccessOf(S, 1, false, false), v), uint64_t{static_cast<uint8_t>(v)});
    EXPECT_EQ(StoreValue(AccessOf(S, 2, false, false), v), uint64_t{static_cast<uint16_t>(v)});
    EXPECT_EQ(StoreValue(AccessOf(S, 4, false, true), v), uint64_t{static_cast<uint32_t>(v)});
    EXPECT_EQ(StoreValue(AccessOf(S, 8, false, false), v), v);
  }
}

TEST(InsnPropertyDeathTest, ExtendingAStoreIsABug) {
  EXPECT_DEATH({ [[maybe_unused]] uint64_t v = ExtendLoadValue(AccessOf(S, 4, false, false), 1); },
               "ExtendLoadValue on a store");
  EXPECT_DEATH({ [[maybe_unused]] uint64_t v = StoreValue(AccessOf(L, 4, true, false), 1); },
               "StoreValue on a load");
}

}  // namespace
}  // namespace arch::riscv64
}  // namespace hv
