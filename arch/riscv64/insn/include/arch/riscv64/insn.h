// Decoding of the RISC-V loads and stores a guest can aim at emulated MMIO.
//
// On a guest-page fault QEMU leaves htinst at 0, so the hypervisor fetches
// the trapping instruction itself and needs to know: how long it is (to
// advance sepc), whether it loads or stores, how many bytes, how a loaded
// value is extended, and which register supplies or receives the data. The
// faulting address comes from htval/stval, so offsets and base registers are
// not decoded.
//
// Handled (RV64GC): lb lh lw ld lbu lhu lwu sb sh sw sd, flw fld fsw fsd, and
// the compressed c.lw c.ld c.sw c.sd c.lwsp c.ldsp c.swsp c.sdsp c.fld c.fsd
// c.fldsp c.fsdsp. FP accesses are decoded and marked `fp`; whether to
// emulate them is the caller's choice.
//
// Everything else is an error, by this rule:
//   kInvalidArgs  an encoding RV64GC reserves or defines as illegal, in the
//                 opcode space of the handled instructions: the all-zero
//                 halfword, c.lwsp/c.ldsp with rd = x0, LOAD with funct3 7
//                 (ldu, RV128 only), STORE with funct3 4..7 (sq is RV128).
//   kUnsupported  anything else: a valid instruction that is not one of the
//                 handled loads and stores (AMOs, LR/SC, CSR and other SYSTEM
//                 instructions such as HLV/HSV, fences and CBO, arithmetic,
//                 branches, other compressed instructions), encodings that
//                 only extensions outside RV64GC define (Zfh flh/fsh, Q
//                 flq/fsq, vector loads/stores in LOAD-FP/STORE-FP, Zcb in
//                 the compressed funct3 100 slot), and instructions longer
//                 than 32 bits.
// A hypervisor should stop the VM (or inject an illegal-instruction fault)
// on either error; the distinction tells a report "guest executed garbage"
// from "guest used something we do not emulate".
//
// Everything here is constexpr and freestanding: it builds for every
// platform and is tested on the host.
#ifndef ARCH_RISCV64_INSN_H_
#define ARCH_RISCV64_INSN_H_

#include <hv/base/check.h>
#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::arch::riscv64 {

enum class AccessKind : uint8_t { kLoad, kStore };

// A decoded load or store.
struct MemoryAccess {
  uint8_t length;  // of the instruction in bytes: 2 (compressed) or 4
  AccessKind kind;
  uint8_t width;     // bytes accessed: 1, 2, 4 or 8
  bool sign_extend;  // loads: lb/lh/lw/ld and their compressed forms; else false
  // Loads: rd, which receives the value (x0: the value is discarded).
  // Stores: rs2, which supplies it. For compressed forms with 3-bit register
  // fields, already mapped to x8..x15 (or f8..f15).
  uint8_t reg;
  bool fp;  // `reg` is an FP register (flw fld fsw fsd and compressed forms)

  constexpr bool operator==(const MemoryAccess&) const = default;
};

// The length in bytes of the instruction whose first (lowest-addressed)
// 16-bit parcel is `first_halfword`: 2, 4, 6 or 8 by the standard length
// encoding; kUnsupported for the encodings of 10 bytes and longer.
constexpr Result<uint8_t> InstructionLength(uint16_t first_halfword) {
  if ((first_halfword & 0b11) != 0b11) return uint8_t{2};
  if ((first_halfword & 0b11100) != 0b11100) return uint8_t{4};
  if ((first_halfword & 0b111111) == 0b011111) return uint8_t{6};
  if ((first_halfword & 0b1111111) == 0b0111111) return uint8_t{8};
  return Error::kUnsupported;
}

namespace internal {

constexpr MemoryAccess Load(uint8_t length, uint8_t width, bool sign_extend, uint32_t reg,
                            bool fp = false) {
  return MemoryAccess{.length = length,
                      .kind = AccessKind::kLoad,
                      .width = width,
                      .sign_extend = sign_extend,
                      .reg = static_cast<uint8_t>(reg),
                      .fp = fp};
}

constexpr MemoryAccess Store(uint8_t length, uint8_t width, uint32_t reg, bool fp = false) {
  return MemoryAccess{.length = length,
                      .kind = AccessKind::kStore,
                      .width = width,
                      .sign_extend = false,
                      .reg = static_cast<uint8_t>(reg),
                      .fp = fp};
}

constexpr Result<MemoryAccess> DecodeCompressed(uint16_t insn) {
  if (insn == 0) return Error::kInvalidArgs;  // the defined illegal instruction
  const uint32_t funct3 = insn >> 13;
  // Quadrant 0: rd'/rs2' in bits 4:2 name x8..x15 (f8..f15).
  const uint32_t reg_prime = 8 + ((insn >> 2) & 0b111);
  // Quadrant 2: rd in bits 11:7 (loads), rs2 in bits 6:2 (stores).
  const uint32_t rd = (insn >> 7) & 0b11111;
  const uint32_t rs2 = (insn >> 2) & 0b11111;
  switch (insn & 0b11) {
    case 0b00:
      switch (funct3) {
        case 0b001:
          return Load(2, 8, false, reg_prime, /*fp=*/true);  // c.fld
        case 0b010:
          return Load(2, 4, true, reg_prime);  // c.lw
        case 0b011:
          return Load(2, 8, true, reg_prime);  // c.ld
        case 0b101:
          return Store(2, 8, reg_prime, /*fp=*/true);  // c.fsd
        case 0b110:
          return Store(2, 4, reg_prime);  // c.sw
        case 0b111:
          return Store(2, 8, reg_prime);  // c.sd
        default:
          // 000 c.addi4spn; 100 is reserved in C and used by Zcb.
          return Error::kUnsupported;
      }
    case 0b10:
      switch (funct3) {
        case 0b001:
          return Load(2, 8, false, rd, /*fp=*/true);  // c.fldsp
        case 0b010:                                   // c.lwsp
          if (rd == 0) return Error::kInvalidArgs;    // reserved
          return Load(2, 4, true, rd);
        case 0b011:                                 // c.ldsp
          if (rd == 0) return Error::kInvalidArgs;  // reserved
          return Load(2, 8, true, rd);
        case 0b101:
          return Store(2, 8, rs2, /*fp=*/true);  // c.fsdsp
        case 0b110:
          return Store(2, 4, rs2);  // c.swsp
        case 0b111:
          return Store(2, 8, rs2);  // c.sdsp
        default:
          // 000 c.slli; 100 c.jr/c.mv/c.ebreak/c.jalr/c.add.
          return Error::kUnsupported;
      }
    default:  // quadrant 1 has no memory accesses
      return Error::kUnsupported;
  }
}

constexpr Result<MemoryAccess> DecodeUncompressed(uint32_t insn) {
  if ((insn & 0b11100) == 0b11100) return Error::kUnsupported;  // longer than 32 bits
  const uint32_t funct3 = (insn >> 12) & 0b111;
  const uint32_t rd = (insn >> 7) & 0b11111;
  const uint32_t rs2 = (insn >> 20) & 0b11111;
  switch (insn & 0b1111111) {
    case 0b0000011:  // LOAD
      switch (funct3) {
        case 0b000:
          return Load(4, 1, true, rd);  // lb
        case 0b001:
          return Load(4, 2, true, rd);  // lh
        case 0b010:
          return Load(4, 4, true, rd);  // lw
        case 0b011:
          return Load(4, 8, true, rd);  // ld
        case 0b100:
          return Load(4, 1, false, rd);  // lbu
        case 0b101:
          return Load(4, 2, false, rd);  // lhu
        case 0b110:
          return Load(4, 4, false, rd);  // lwu
        default:
          return Error::kInvalidArgs;  // ldu exists only in RV128
      }
    case 0b0100011:  // STORE
      switch (funct3) {
        case 0b000:
          return Store(4, 1, rs2);  // sb
        case 0b001:
          return Store(4, 2, rs2);  // sh
        case 0b010:
          return Store(4, 4, rs2);  // sw
        case 0b011:
          return Store(4, 8, rs2);  // sd
        default:
          return Error::kInvalidArgs;  // sq (RV128) and reserved
      }
    case 0b0000111:  // LOAD-FP
      switch (funct3) {
        case 0b010:
          return Load(4, 4, false, rd, /*fp=*/true);  // flw
        case 0b011:
          return Load(4, 8, false, rd, /*fp=*/true);  // fld
        default:
          return Error::kUnsupported;  // flh (Zfh), flq (Q), vector loads
      }
    case 0b0100111:  // STORE-FP
      switch (funct3) {
        case 0b010:
          return Store(4, 4, rs2, /*fp=*/true);  // fsw
        case 0b011:
          return Store(4, 8, rs2, /*fp=*/true);  // fsd
        default:
          return Error::kUnsupported;  // fsh (Zfh), fsq (Q), vector stores
      }
    default:
      return Error::kUnsupported;
  }
}

}  // namespace internal

// Decodes the instruction in `raw`: a compressed instruction in the low 16
// bits (the high 16 are then ignored, so a caller may pass 4 fetched bytes),
// or a 32-bit one. Errors as described at the top of this file.
constexpr Result<MemoryAccess> DecodeMemoryAccess(uint32_t raw) {
  if ((raw & 0b11) != 0b11) return internal::DecodeCompressed(static_cast<uint16_t>(raw));
  return internal::DecodeUncompressed(raw);
}

// The 64-bit register value a load writes, from the `access.width` bytes
// read (the low bytes of `raw_value`, little-endian as loaded): sign- or
// zero-extended for integer loads, NaN-boxed (upper 32 bits all ones) for
// flw as the F extension requires.
// REQUIRES: access.kind == AccessKind::kLoad.
constexpr uint64_t ExtendLoadValue(MemoryAccess access, uint64_t raw_value) {
  HV_CHECK(access.kind == AccessKind::kLoad, "ExtendLoadValue on a store");
  if (access.width >= 8) return raw_value;
  const unsigned bits = 8u * access.width;
  const uint64_t value = raw_value & ((uint64_t{1} << bits) - 1);
  if (access.fp) return value | (~uint64_t{0} << bits);
  if (access.sign_extend && ((value >> (bits - 1)) & 1) != 0) return value | (~uint64_t{0} << bits);
  return value;
}

// The bytes a store writes, from the 64-bit value of its source register:
// the low `access.width` bytes (little-endian), the rest zero.
// REQUIRES: access.kind == AccessKind::kStore.
constexpr uint64_t StoreValue(MemoryAccess access, uint64_t reg_value) {
  HV_CHECK(access.kind == AccessKind::kStore, "StoreValue on a load");
  if (access.width >= 8) return reg_value;
  return reg_value & ((uint64_t{1} << (8u * access.width)) - 1);
}

}  // namespace hv::arch::riscv64

#endif  // ARCH_RISCV64_INSN_H_
