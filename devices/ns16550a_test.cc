// The NS16550A model: registers, the divisor latch, FIFOs, loopback, and the
// interrupt identification with its priorities and clearing rules.
#include <devices/ns16550a.h>
#include <gtest/gtest.h>

#include <string>

#include "devices/testing/virtio_rig.h"

namespace hv::devices {
namespace {

using namespace uart;  // NOLINT(google-build-using-namespace): register names

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

class UartTest : public ::testing::Test {
 protected:
  uint8_t Get(uint64_t reg) { return static_cast<uint8_t>(uart.Read(reg, 1).value()); }
  void Set(uint64_t reg, uint8_t value) { ASSERT_TRUE(uart.Write(reg, 1, value).ok()); }

  testing::StringSink output;
  testing::IrqRecorder irq;
  Ns16550a uart{output, IrqLine(&irq, 10)};
};

TEST_F(UartTest, ResetState) {
  EXPECT_EQ(Get(kIirFcr), kIirNoInterrupt);
  EXPECT_EQ(Get(kLsr), kLsrThrEmpty | kLsrTxEmpty);
  EXPECT_EQ(Get(kMsr), kMsrCts | kMsrDsr | kMsrDcd);
  EXPECT_EQ(Get(kIerDlm), 0);
  EXPECT_FALSE(irq.level);
}

// A machine reset: every register back to ResetState, the FIFO emptied,
// the raised line lowered.
TEST_F(UartTest, ResetReturnsToTheResetState) {
  Set(kIirFcr, kFcrEnable);
  Set(kLcr, 0x03);
  Set(kMcr, kMcrOut2);
  Set(kScr, 0x5a);
  EXPECT_EQ(uart.ReceiveInput(Bytes("abc")), 3u);
  Set(kIerDlm, kIerRxData);
  EXPECT_TRUE(irq.level);
  uart.Reset();
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(uart.rx_pending(), 0u);
  EXPECT_EQ(Get(kIirFcr), kIirNoInterrupt);
  EXPECT_EQ(Get(kLsr), kLsrThrEmpty | kLsrTxEmpty);
  EXPECT_EQ(Get(kMsr), kMsrCts | kMsrDsr | kMsrDcd);
  EXPECT_EQ(Get(kIerDlm), 0);
  EXPECT_EQ(Get(kLcr), 0);
  EXPECT_EQ(Get(kMcr), 0);
  EXPECT_EQ(Get(kScr), 0);
  // Without FIFOs again: one byte of input at a time.
  EXPECT_EQ(uart.ReceiveInput(Bytes("xy")), 1u);
}

TEST_F(UartTest, RefusesMisalignedWideAndOutOfRangeAccesses) {
  EXPECT_EQ(uart.Read(kLsr, 2).error(), Error::kInvalidArgs);  // misaligned for 2
  EXPECT_EQ(uart.Read(kIirFcr, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(uart.Read(kMcr, 8).error(), Error::kInvalidArgs);
  EXPECT_EQ(uart.Read(0, 3).error(), Error::kInvalidArgs);
  EXPECT_EQ(uart.Read(8, 1).error(), Error::kInvalidArgs);
  EXPECT_EQ(uart.Write(kLcr, 2, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(uart.Write(0, 16, 'x').error(), Error::kInvalidArgs);
  EXPECT_EQ(uart.Write(0x40, 1, 'x').error(), Error::kInvalidArgs);
  EXPECT_EQ(uart.Write(8, 8, 'x').error(), Error::kInvalidArgs);
  EXPECT_EQ(output.text, "");
}

TEST_F(UartTest, WideAccessesActOnTheAddressedRegister) {
  // Writes store the low byte: THR at 0 with every width.
  EXPECT_TRUE(uart.Write(kRbrThrDll, 2, 0xff00 | 'a').ok());
  EXPECT_TRUE(uart.Write(kRbrThrDll, 4, 0xdead'0000 | 'b').ok());
  EXPECT_TRUE(uart.Write(kRbrThrDll, 8, 0xffff'ffff'ffff'ff00 | 'c').ok());
  EXPECT_EQ(output.text, "abc");
  // Reads are zero-extended. The registers a wide access can reach are
  // those at offsets aligned to its width: IIR (2), MCR (4), MSR (6), RBR (0).
  Set(kMcr, kMcrDtr | kMcrRts);
  EXPECT_EQ(uart.Read(kMcr, 4).value(), uint64_t{kMcrDtr | kMcrRts});
  EXPECT_EQ(uart.Read(kMsr, 2).value(), uint64_t{kMsrCts | kMsrDsr | kMsrDcd});
  EXPECT_EQ(uart.Read(kIirFcr, 2).value(), uint64_t{kIirNoInterrupt});
  // A 4-byte write at 4 is MCR's: the low byte, 0.
  EXPECT_TRUE(uart.Write(kMcr, 4, 0xffff'ff00).ok());
  EXPECT_EQ(Get(kMcr), 0);
  // An 8-byte read of RBR pops exactly one received byte.
  const std::byte in[2] = {std::byte{'x'}, std::byte{'y'}};
  Set(kIirFcr, kFcrEnable);
  ASSERT_EQ(uart.ReceiveInput(in), 2u);
  EXPECT_EQ(uart.Read(kRbrThrDll, 8).value(), uint64_t{'x'});
  EXPECT_EQ(uart.Read(kRbrThrDll, 4).value(), uint64_t{'y'});
  EXPECT_EQ(uart.rx_pending(), 0u);
}

TEST_F(UartTest, TransmitsAndKeepsScratch) {
  for (char c : std::string("hi\n")) Set(kRbrThrDll, static_cast<uint8_t>(c));
  EXPECT_EQ(output.text, "hi\n");
  Set(kScr, 0x5a);
  EXPECT_EQ(Get(kScr), 0x5a);
  Set(kLsr, 0);  // read-only: ignored
  EXPECT_EQ(Get(kLsr), kLsrThrEmpty | kLsrTxEmpty);
}

TEST_F(UartTest, DlabSwitchesToTheDivisorLatch) {
  Set(kIerDlm, kIerRxData);
  Set(kLcr, kLcrDlab | 0x03);
  Set(kRbrThrDll, 0x0c);  // divisor 12: 9600 baud
  Set(kIerDlm, 0x00);
  EXPECT_EQ(Get(kRbrThrDll), 0x0c);
  EXPECT_EQ(Get(kIerDlm), 0x00);
  EXPECT_EQ(output.text, "");  // DLL is not THR
  Set(kLcr, 0x03);
  EXPECT_EQ(Get(kIerDlm), kIerRxData);  // IER untouched
  EXPECT_EQ(Get(kLcr), 0x03);
  Set(kIerDlm, 0xff);
  EXPECT_EQ(Get(kIerDlm), 0x0f);  // four interrupt enables
}

TEST_F(UartTest, ThrEmptyInterruptRisesOnEnableClearsOnIirReadAndReturnsAfterAWrite) {
  Set(kIerDlm, kIerThrEmpty);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(irq.last_irq, 10u);
  EXPECT_EQ(Get(kIirFcr), kIirThrEmpty);  // reading acknowledges it
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(Get(kIirFcr), kIirNoInterrupt);
  Set(kRbrThrDll, 'a');
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(Get(kIirFcr), kIirThrEmpty);
  // Disabling the source lowers the line.
  Set(kRbrThrDll, 'b');
  Set(kIerDlm, 0);
  EXPECT_FALSE(irq.level);
}

TEST_F(UartTest, ReceiveWithoutFifosHoldsOneByte) {
  EXPECT_EQ(uart.ReceiveInput(Bytes("xy")), 1u);
  EXPECT_EQ(Get(kLsr) & kLsrDataReady, kLsrDataReady);
  EXPECT_FALSE(irq.level);  // not enabled
  Set(kIerDlm, kIerRxData);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(Get(kIirFcr), kIirRxData);
  EXPECT_EQ(Get(kRbrThrDll), 'x');
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(Get(kLsr) & kLsrDataReady, 0);
  EXPECT_EQ(uart.ReceiveInput(Bytes("y")), 1u);
  EXPECT_EQ(Get(kRbrThrDll), 'y');
  EXPECT_EQ(Get(kRbrThrDll), 0);  // empty reads as 0
}

TEST_F(UartTest, FifoTriggerLevelsAndTimeoutIdentification) {
  Set(kIirFcr, kFcrEnable | 0x80);  // trigger at 8
  Set(kIerDlm, kIerRxData);
  EXPECT_EQ(uart.ReceiveInput(Bytes("0123456789abcdefXYZ")), 16u);
  EXPECT_EQ(Get(kIirFcr), kIirFifoEnabled | kIirRxData);
  for (int i = 0; i < 9; ++i) Get(kRbrThrDll);
  // 7 left: below the trigger, reported as a character timeout.
  EXPECT_EQ(Get(kIirFcr), kIirFifoEnabled | kIirCharTimeout);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(Get(kRbrThrDll), '9');
  // FCR bit 1 clears the receive FIFO.
  Set(kIirFcr, kFcrEnable | kFcrClearRx);
  EXPECT_EQ(uart.rx_pending(), 0u);
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(Get(kIirFcr), kIirFifoEnabled | kIirNoInterrupt);
  // Turning FIFOs off empties them too and drops back to one byte.
  EXPECT_EQ(uart.ReceiveInput(Bytes("abc")), 3u);
  Set(kIirFcr, 0);
  EXPECT_EQ(uart.rx_pending(), 0u);
  EXPECT_EQ(uart.ReceiveInput(Bytes("abc")), 1u);
  EXPECT_EQ(Get(kIirFcr), kIirRxData);
}

TEST_F(UartTest, LoopbackOverrunAndPriorities) {
  Set(kIirFcr, kFcrEnable);  // trigger 1
  Set(kMcr, kMcrLoopback);
  EXPECT_EQ(uart.ReceiveInput(Bytes("host")), 0u);  // disconnected from the line
  for (int i = 0; i < 17; ++i) Set(kRbrThrDll, static_cast<uint8_t>('A' + i));
  EXPECT_EQ(output.text, "");
  EXPECT_EQ(uart.rx_pending(), 16u);
  // Every source pending at once: overrun, data, THR empty, modem status.
  Set(kMcr, kMcrLoopback | kMcrRts);  // CTS changes: a modem status delta
  Set(kIerDlm, kIerRxData | kIerThrEmpty | kIerLineStatus | kIerModemStatus);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(Get(kIirFcr), kIirFifoEnabled | kIirLineStatus);
  EXPECT_EQ(Get(kLsr), kLsrDataReady | kLsrOverrun | kLsrThrEmpty | kLsrTxEmpty);
  EXPECT_EQ(Get(kIirFcr), kIirFifoEnabled | kIirRxData);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(Get(kRbrThrDll), 'A' + i);
  EXPECT_EQ(Get(kIirFcr), kIirFifoEnabled | kIirThrEmpty);  // read: acknowledged
  EXPECT_EQ(Get(kIirFcr), kIirFifoEnabled | kIirModemStatus);
  // Entering loopback dropped CTS, DSR and DCD; RTS raised CTS again.
  EXPECT_EQ(Get(kMsr), kMsrCts | kMsrDeltaCts | kMsrDeltaDsr | kMsrDeltaDcd);
  EXPECT_EQ(Get(kIirFcr), kIirFifoEnabled | kIirNoInterrupt);
  EXPECT_FALSE(irq.level);
}

TEST_F(UartTest, LoopbackMirrorsModemControlIntoModemStatus) {
  Set(kMcr, kMcrLoopback | kMcrDtr | kMcrOut1 | kMcrOut2);
  EXPECT_EQ(Get(kMsr) & 0xf0, kMsrDsr | kMsrRi | kMsrDcd);
  Set(kMcr, kMcrLoopback | kMcrDtr | kMcrOut2);  // RI falls: trailing edge
  EXPECT_EQ(Get(kMsr), kMsrDsr | kMsrDcd | kMsrTrailingRi);
  EXPECT_EQ(Get(kMsr), kMsrDsr | kMsrDcd);  // deltas clear on read
  Set(kMcr, 0);
  EXPECT_EQ(Get(kMsr), kMsrCts | kMsrDsr | kMsrDcd | kMsrDeltaCts);
  EXPECT_EQ(Get(kMcr), 0);
  EXPECT_EQ(uart.ReceiveInput(Bytes("z")), 1u);  // connected again
}

}  // namespace
}  // namespace hv::devices
