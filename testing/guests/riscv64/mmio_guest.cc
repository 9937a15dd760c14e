// Drives the emulated NS16550A with every load and store width and every
// instruction form the hypervisor decodes, and checks sign and zero
// extension of what comes back. The UART's registers are bytes; wider
// accesses at width-aligned offsets act on the register there (see
// devices/ns16550a.h), so:
//   - THR (offset 0) prints the low byte of sb/sh/sw/sd and c.sw/c.sd/
//     c.swsp/c.sdsp stores;
//   - with LCR.DLAB set, offset 0 is DLL, a plain read/write byte register:
//     DLL = 0xfe reads back as -2 through lb and as 0xfe through every other
//     load (the device zero-extends to the access width, so lh/lw/ld see a
//     positive number: the hypervisor must extend from the access width);
//   - MSR (offset 6, reset 0xb0) checks lb/lh at a 2-aligned offset;
//   - an access the UART refuses (lw at offset 1) is an access fault the
//     guest takes and survives.
#include <board/config.h>
#include <devices/ns16550a.h>
#include <ktest/ktest.h>

extern "C" {
uint64_t mmio_lb(uint64_t addr);
uint64_t mmio_lbu(uint64_t addr);
uint64_t mmio_lh(uint64_t addr);
uint64_t mmio_lhu(uint64_t addr);
uint64_t mmio_lw(uint64_t addr);
uint64_t mmio_lwu(uint64_t addr);
uint64_t mmio_ld(uint64_t addr);
void mmio_sb(uint64_t addr, uint64_t value);
void mmio_sh(uint64_t addr, uint64_t value);
void mmio_sw(uint64_t addr, uint64_t value);
void mmio_sd(uint64_t addr, uint64_t value);
uint64_t mmio_c_lw(uint64_t addr);
uint64_t mmio_c_ld(uint64_t addr);
void mmio_c_sw(uint64_t addr, uint64_t value);
void mmio_c_sd(uint64_t addr, uint64_t value);
uint64_t mmio_c_lwsp(uint64_t addr);
uint64_t mmio_c_ldsp(uint64_t addr);
void mmio_c_swsp(uint64_t addr, uint64_t value);
void mmio_c_sdsp(uint64_t addr, uint64_t value);
int mmio_try_lw(uint64_t addr, uint64_t* out);
int mmio_try_sw(uint64_t addr, uint64_t value);
}

namespace {

namespace uart = hv::devices::uart;

constexpr uint64_t kUart = hv::board::kUart0Base;
constexpr uint64_t kThr = kUart + uart::kRbrThrDll;
constexpr uint64_t kDll = kUart + uart::kRbrThrDll;
constexpr uint64_t kLcr = kUart + uart::kLcr;
constexpr uint64_t kMcr = kUart + uart::kMcr;
constexpr uint64_t kLsr = kUart + uart::kLsr;
constexpr uint64_t kMsr = kUart + uart::kMsr;
constexpr uint64_t kScr = kUart + uart::kScr;

void Print(void (*store)(uint64_t, uint64_t), const char* text, uint64_t junk) {
  // The high bytes are junk the UART must ignore.
  for (const char* p = text; *p != '\0'; ++p) store(kThr, junk | static_cast<uint8_t>(*p));
}

TEST(Mmio, EveryStoreFormPrints) {
  Print(mmio_sb, "sb prints\n", 0);
  Print(mmio_sh, "sh prints\n", 0xab00);
  Print(mmio_sw, "sw prints\n", 0xabcd'ef00);
  Print(mmio_sd, "sd prints\n", 0xfedc'ba98'7654'3200);
  Print(mmio_c_sw, "c.sw prints\n", 0x1200);
  Print(mmio_c_sd, "c.sd prints\n", 0x1234'5678'0000'0000);
  Print(mmio_c_swsp, "c.swsp prints\n", 0xff00);
  Print(mmio_c_sdsp, "c.sdsp prints\n", 0xffff'ffff'ffff'ff00);
}

TEST(Mmio, EveryLoadFormExtendsFromItsWidth) {
  mmio_sb(kLcr, uart::kLcrDlab);
  mmio_sd(kDll, 0xffff'ffff'ffff'ff00 | 0xfe);  // DLL = 0xfe (low byte)
  EXPECT_EQ(mmio_lb(kDll), 0xffff'ffff'ffff'fffeu);
  EXPECT_EQ(mmio_lbu(kDll), 0xfeu);
  EXPECT_EQ(mmio_lh(kDll), 0xfeu);
  EXPECT_EQ(mmio_lhu(kDll), 0xfeu);
  EXPECT_EQ(mmio_lw(kDll), 0xfeu);
  EXPECT_EQ(mmio_lwu(kDll), 0xfeu);
  EXPECT_EQ(mmio_ld(kDll), 0xfeu);
  EXPECT_EQ(mmio_c_lw(kDll), 0xfeu);
  EXPECT_EQ(mmio_c_ld(kDll), 0xfeu);
  EXPECT_EQ(mmio_c_lwsp(kDll), 0xfeu);
  EXPECT_EQ(mmio_c_ldsp(kDll), 0xfeu);
  mmio_sh(kDll, 0x81);
  EXPECT_EQ(mmio_lb(kDll), 0xffff'ffff'ffff'ff81u);
  mmio_sw(kDll, 0x7f);
  EXPECT_EQ(mmio_lb(kDll), 0x7fu);
  mmio_c_sw(kDll, 0x80);
  EXPECT_EQ(mmio_lbu(kDll), 0x80u);
  mmio_c_sdsp(kDll, 0xc3);
  EXPECT_EQ(mmio_lb(kDll), 0xffff'ffff'ffff'ffc3u);
  mmio_c_swsp(kDll, 0x3c);
  EXPECT_EQ(mmio_c_ldsp(kDll), 0x3cu);
  mmio_sb(kLcr, 0);
  // MSR resets to CTS | DSR | DCD = 0xb0: negative as a byte.
  EXPECT_EQ(mmio_lb(kMsr), 0xffff'ffff'ffff'ffb0u);
  EXPECT_EQ(mmio_lh(kMsr), 0xb0u);
  EXPECT_EQ(mmio_lbu(kLsr), uint64_t{uart::kLsrThrEmpty | uart::kLsrTxEmpty});
  mmio_sw(kMcr, 0xffff'ff00 | uart::kMcrOut2);
  EXPECT_EQ(mmio_lwu(kMcr), uint64_t{uart::kMcrOut2});
  mmio_sw(kMcr, 0);
}

TEST(Mmio, ScratchRegisterKeepsEveryByteValue) {
  for (unsigned v = 0; v < 256; v += 17) {
    mmio_sb(kScr, v);
    EXPECT_EQ(mmio_lbu(kScr), v);
    EXPECT_EQ(mmio_lb(kScr), static_cast<uint64_t>(static_cast<int8_t>(v)));
  }
}

TEST(Mmio, ARefusedAccessIsAnAccessFault) {
  uint64_t value = 0x1234;
  EXPECT_EQ(mmio_try_lw(kUart + 1, &value), 1);  // misaligned for its width
  EXPECT_EQ(value, 0x1234u);
  EXPECT_EQ(mmio_try_sw(kUart + 2, 0), 1);
  EXPECT_EQ(mmio_try_lw(kUart + 4, &value), 0);  // and the UART still works
  EXPECT_EQ(mmio_try_sw(kThr, 'k'), 0);
  mmio_sb(kThr, '\n');
}

}  // namespace
