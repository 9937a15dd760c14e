// MMIO emulation against a fake guest (instructions at a guest-virtual pc)
// and a recording device: every load and store form, extension, write-back,
// and every failure path of the policy in mmio.h.
#include <gtest/gtest.h>
#include <hv/riscv64/mmio.h>

#include <vector>

namespace hv::riscv64 {
namespace {

using arch::riscv64::AccessKind;
using arch::riscv64::VcpuRegs;

constexpr uint64_t kPc = 0x8000'1000;
constexpr uint64_t kDevice = 0x1000'0000;

// Guest-virtual memory holding code at kPc; everything else faults.
class FakeGuest final : public guestmem::GuestVirtualMemory {
 public:
  std::vector<std::byte> code;

  void SetCode(std::initializer_list<uint16_t> halfwords) {
    code.clear();
    for (uint16_t h : halfwords) {
      code.push_back(std::byte(h & 0xff));
      code.push_back(std::byte(h >> 8));
    }
  }
  void SetInsn32(uint32_t insn) { SetCode({uint16_t(insn), uint16_t(insn >> 16)}); }

  guestmem::CopyResult ReadVirt(GuestVirtAddr, std::span<std::byte>) const override {
    return guestmem::CopyError{Error::kPageFault, 0};
  }
  guestmem::CopyResult WriteVirt(GuestVirtAddr, std::span<const std::byte>) const override {
    return guestmem::CopyError{Error::kPageFault, 0};
  }
  guestmem::CopyResult FetchVirt(GuestVirtAddr gva, std::span<std::byte> out) const override {
    ++fetches;
    size_t done = 0;
    for (; done < out.size(); ++done) {
      const uint64_t at = gva.value() + done;
      if (at < kPc || at - kPc >= code.size()) return guestmem::CopyError{Error::kPageFault, done};
      out[done] = code[at - kPc];
    }
    return done;
  }
  mutable int fetches = 0;
};

// Reads return `pattern` cut to the access width; records the last access.
class FakeDevice final : public devices::MmioDevice {
 public:
  uint64_t pattern = 0x8182'8384'8586'8788;
  bool refuse = false;
  uint64_t last_offset = ~0ull;
  size_t last_size = 0;
  std::optional<uint64_t> last_write;

  Result<uint64_t> Read(uint64_t offset, size_t size) override {
    if (refuse) return Error::kInvalidArgs;
    last_offset = offset;
    last_size = size;
    return size == 8 ? pattern : pattern & ((uint64_t{1} << (8 * size)) - 1);
  }
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override {
    if (refuse) return Error::kInvalidArgs;
    last_offset = offset;
    last_size = size;
    last_write = value;
    return Ok();
  }
};

constexpr uint32_t Load(uint32_t funct3, uint32_t rd, uint32_t rs1 = 10) {
  return (rs1 << 15) | (funct3 << 12) | (rd << 7) | 0x03;
}
constexpr uint32_t Store(uint32_t funct3, uint32_t rs2, uint32_t rs1 = 10) {
  return (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | 0x23;
}
// Quadrant 0 compressed load/store: rd'/rs2' = x8 + r, rs1' = x10.
constexpr uint16_t CompressedQ0(uint32_t funct3, uint32_t r) {
  return static_cast<uint16_t>((funct3 << 13) | (2 << 7) | (r << 2));
}

class MmioTest : public ::testing::Test {
 protected:
  MmioTest() {
    EXPECT_TRUE(bus.Register(GuestPhysAddr(kDevice), 0x100, &device).ok());
    regs.sepc = kPc;
    for (int i = 1; i < 32; ++i) regs.x[i] = 0x1111'0000'0000'0000 + i;
  }

  MmioOutcome Run(AccessKind kind, uint64_t gpa = kDevice + 8, uint64_t htinst = 0) {
    const GuestPageFault fault{.kind = kind,
                               .gpa = GuestPhysAddr(gpa),
                               .gva = GuestVirtAddr(0x4000'0000 + (gpa & 0xfff)),
                               .htinst = htinst};
    return EmulateMmio(regs, fault, guest, bus);
  }

  // Asserts that nothing in regs changed.
  void ExpectUntouched() {
    EXPECT_EQ(regs.sepc, kPc);
    for (int i = 1; i < 32; ++i) EXPECT_EQ(regs.x[i], 0x1111'0000'0000'0000u + i) << "x" << i;
  }

  VcpuRegs regs{};
  FakeGuest guest;
  FakeDevice device;
  devices::MmioBus bus;
};

TEST(FaultGuestPhysAddr, CombinesHtvalAndStval) {
  EXPECT_EQ(FaultGuestPhysAddr(0x1000'0000 >> 2, 0xffff'ffff'c000'0003).value(), 0x1000'0003u);
  EXPECT_EQ(FaultGuestPhysAddr(uint64_t{1} << 39, 0).value(), uint64_t{1} << 41);
}

TEST_F(MmioTest, EveryLoadWidthAndExtension) {
  struct Case {
    const char* name;
    uint32_t funct3;
    size_t width;
    uint64_t expect;
  };
  const Case cases[] = {
      {"lb", 0, 1, 0xffff'ffff'ffff'ff88},
      {"lh", 1, 2, 0xffff'ffff'ffff'8788},
      {"lw", 2, 4, 0xffff'ffff'8586'8788},
      {"ld", 3, 8, 0x8182'8384'8586'8788},
      {"lbu", 4, 1, 0x88},
      {"lhu", 5, 2, 0x8788},
      {"lwu", 6, 4, 0x8586'8788},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    regs.sepc = kPc;
    guest.SetInsn32(Load(c.funct3, /*rd=*/5));
    const MmioOutcome out = Run(AccessKind::kLoad);
    ASSERT_EQ(out.action, MmioAction::kEmulated);
    EXPECT_EQ(out.width, c.width);
    EXPECT_EQ(device.last_size, c.width);
    EXPECT_EQ(device.last_offset, 8u);
    EXPECT_EQ(regs.x[5], c.expect);
    EXPECT_EQ(regs.sepc, kPc + 4);
  }
  // Positive values are not sign-extended: bit 7 of an lh result is data.
  device.pattern = 0x00fe;
  regs.sepc = kPc;
  guest.SetInsn32(Load(1, 6));
  ASSERT_EQ(Run(AccessKind::kLoad).action, MmioAction::kEmulated);
  EXPECT_EQ(regs.x[6], 0xfeu);
}

TEST_F(MmioTest, EveryStoreWidthTruncatesTheRegister) {
  const uint64_t source = 0x0102'0304'0506'0708;
  const std::pair<uint32_t, uint64_t> cases[] = {
      {0, 0x08}, {1, 0x0708}, {2, 0x0506'0708}, {3, source}};
  for (const auto& [funct3, expect] : cases) {
    regs.sepc = kPc;
    regs.x[7] = source;
    guest.SetInsn32(Store(funct3, /*rs2=*/7));
    const MmioOutcome out = Run(AccessKind::kStore);
    ASSERT_EQ(out.action, MmioAction::kEmulated);
    EXPECT_EQ(device.last_size, size_t{1} << funct3);
    EXPECT_EQ(device.last_write, expect);
    EXPECT_EQ(regs.sepc, kPc + 4);
  }
  // A store of x0 writes zero.
  regs.sepc = kPc;
  guest.SetInsn32(Store(2, 0));
  ASSERT_EQ(Run(AccessKind::kStore).action, MmioAction::kEmulated);
  EXPECT_EQ(device.last_write, 0u);
}

TEST_F(MmioTest, CompressedFormsAdvanceByTwo) {
  // c.lw x9, c.ld x10: sign-extended into x8 + r.
  guest.SetCode({CompressedQ0(0b010, 1)});
  ASSERT_EQ(Run(AccessKind::kLoad).action, MmioAction::kEmulated);
  EXPECT_EQ(regs.x[9], 0xffff'ffff'8586'8788u);
  EXPECT_EQ(regs.sepc, kPc + 2);
  regs.sepc = kPc;
  guest.SetCode({CompressedQ0(0b011, 2)});
  ASSERT_EQ(Run(AccessKind::kLoad).action, MmioAction::kEmulated);
  EXPECT_EQ(regs.x[10], 0x8182'8384'8586'8788u);
  // c.sw x11, c.sd x12.
  regs.sepc = kPc;
  regs.x[11] = 0xaaaa'bbbb'cccc'dddd;
  guest.SetCode({CompressedQ0(0b110, 3)});
  ASSERT_EQ(Run(AccessKind::kStore).action, MmioAction::kEmulated);
  EXPECT_EQ(device.last_write, 0xcccc'ddddu);
  EXPECT_EQ(regs.sepc, kPc + 2);
  regs.sepc = kPc;
  regs.x[12] = 0x1234'5678'9abc'def0;
  guest.SetCode({CompressedQ0(0b111, 4)});
  ASSERT_EQ(Run(AccessKind::kStore).action, MmioAction::kEmulated);
  EXPECT_EQ(device.last_write, 0x1234'5678'9abc'def0u);
  // c.lwsp x20 and c.sdsp x21 (sp-relative, full register fields).
  regs.sepc = kPc;
  guest.SetCode({static_cast<uint16_t>((0b010 << 13) | (20 << 7) | 0b10)});
  ASSERT_EQ(Run(AccessKind::kLoad).action, MmioAction::kEmulated);
  EXPECT_EQ(regs.x[20], 0xffff'ffff'8586'8788u);
  regs.sepc = kPc;
  guest.SetCode({static_cast<uint16_t>((0b111 << 13) | (21 << 2) | 0b10)});
  ASSERT_EQ(Run(AccessKind::kStore).action, MmioAction::kEmulated);
  EXPECT_EQ(device.last_write, regs.x[21]);
  EXPECT_EQ(regs.sepc, kPc + 2);
}

TEST_F(MmioTest, ALoadIntoX0DiscardsTheValue) {
  guest.SetInsn32(Load(3, 0));
  ASSERT_EQ(Run(AccessKind::kLoad).action, MmioAction::kEmulated);
  EXPECT_EQ(regs.x[0], 0u);
  EXPECT_EQ(regs.sepc, kPc + 4);
  EXPECT_EQ(device.last_size, 8u);  // the read (and its side effects) happened
}

TEST_F(MmioTest, NoDeviceStopsWithoutFetching) {
  guest.SetInsn32(Load(3, 5));
  const MmioOutcome out = Run(AccessKind::kLoad, 0x2000'0000);
  EXPECT_EQ(out.action, MmioAction::kStopVm);
  EXPECT_EQ(out.failure, MmioFailure::kNoDevice);
  EXPECT_EQ(guest.fetches, 0);
  ExpectUntouched();
  // An access straddling the device's end is not the device's either.
  EXPECT_EQ(Run(AccessKind::kLoad, kDevice + 0xfc).failure, MmioFailure::kNoDevice);
  ExpectUntouched();
}

TEST_F(MmioTest, UnfetchableInstructionStops) {
  guest.code.clear();
  MmioOutcome out = Run(AccessKind::kLoad);
  EXPECT_EQ(out.action, MmioAction::kStopVm);
  EXPECT_EQ(out.failure, MmioFailure::kFetchFailed);
  ExpectUntouched();
  // A 32-bit instruction whose second half is not fetchable (page end).
  guest.SetCode({static_cast<uint16_t>(Load(3, 5))});
  out = Run(AccessKind::kLoad);
  EXPECT_EQ(out.failure, MmioFailure::kFetchFailed);
  ExpectUntouched();
}

TEST_F(MmioTest, GarbageAndUnemulatedInstructionsStop) {
  guest.SetCode({0x0000, 0x0000});  // the defined illegal instruction
  EXPECT_EQ(Run(AccessKind::kLoad).failure, MmioFailure::kUndecodable);
  guest.SetInsn32(Load(7, 5));  // ldu: RV128 only
  EXPECT_EQ(Run(AccessKind::kLoad).failure, MmioFailure::kUndecodable);
  guest.SetInsn32((10 << 15) | (2 << 12) | (5 << 7) | 0x2f);  // amoadd.w
  MmioOutcome out = Run(AccessKind::kStore);
  EXPECT_EQ(out.action, MmioAction::kStopVm);
  EXPECT_EQ(out.failure, MmioFailure::kUnsupportedInstruction);
  EXPECT_EQ(out.insn, (10u << 15) | (2 << 12) | (5 << 7) | 0x2f);
  guest.SetInsn32(0x0000'0013);  // addi x0, x0, 0
  EXPECT_EQ(Run(AccessKind::kLoad).failure, MmioFailure::kUnsupportedInstruction);
  guest.SetCode({0x003f, 0, 0});  // a 48-bit instruction
  EXPECT_EQ(Run(AccessKind::kLoad).failure, MmioFailure::kUnsupportedInstruction);
  ExpectUntouched();
}

TEST_F(MmioTest, FloatingPointAccessesAreRefused) {
  guest.SetInsn32((10 << 15) | (3 << 12) | (5 << 7) | 0x07);  // fld f5
  MmioOutcome out = Run(AccessKind::kLoad);
  EXPECT_EQ(out.action, MmioAction::kStopVm);
  EXPECT_EQ(out.failure, MmioFailure::kFloatingPoint);
  guest.SetCode({CompressedQ0(0b101, 1)});  // c.fsd
  EXPECT_EQ(Run(AccessKind::kStore).failure, MmioFailure::kFloatingPoint);
  ExpectUntouched();
}

TEST_F(MmioTest, AStoreWhereTheHardwareSawALoadStops) {
  guest.SetInsn32(Store(3, 5));
  EXPECT_EQ(Run(AccessKind::kLoad).failure, MmioFailure::kKindMismatch);
  ExpectUntouched();
}

TEST_F(MmioTest, ARefusedAccessIsAnAccessFaultForTheGuest) {
  device.refuse = true;
  guest.SetInsn32(Load(2, 5));
  MmioOutcome out = Run(AccessKind::kLoad);
  EXPECT_EQ(out.action, MmioAction::kInjectAccessFault);
  EXPECT_EQ(out.failure, MmioFailure::kDeviceRefused);
  guest.SetInsn32(Store(2, 5));
  out = Run(AccessKind::kStore);
  EXPECT_EQ(out.action, MmioAction::kInjectAccessFault);
  ExpectUntouched();
}

TEST_F(MmioTest, ATransformedHtinstIsUsedWithoutFetching) {
  guest.code.clear();
  // lw x5 as a transformed instruction; bit 1 clear: the original was
  // compressed (2 bytes).
  const uint32_t transformed = Load(2, 5, 0) & ~uint32_t{2};
  const MmioOutcome out = Run(AccessKind::kLoad, kDevice + 8, transformed);
  ASSERT_EQ(out.action, MmioAction::kEmulated);
  EXPECT_EQ(guest.fetches, 0);
  EXPECT_EQ(regs.x[5], 0xffff'ffff'8586'8788u);
  EXPECT_EQ(regs.sepc, kPc + 2);
}

}  // namespace
}  // namespace hv::riscv64
