// An NS16550A UART: the eight byte-wide registers (reg-shift 0), the 16-byte
// receive FIFO, the divisor latch behind LCR.DLAB, loopback, and the
// interrupt identification with the 16550 priorities:
//
//   1. receiver line status (IIR 0x06): overrun, while IER.ELSI; LSR read clears
//   2. received data (0x04 at or above the FIFO trigger level, 0x0c
//      "character timeout" below it; 0x04 without FIFOs), while IER.ERBFI;
//      reading RBR until empty clears
//   3. THR empty (0x02), while IER.ETBEI; set when THR empties (at once:
//      transmission is instantaneous) and when ETBEI is enabled; cleared by
//      an IIR read that reports it or a THR write
//   4. modem status (0x00): a delta bit in MSR, while IER.EDSSI; MSR read
//      clears
//
// IIR bits 7:6 are set while FIFOs are enabled. The interrupt line is high
// while IIR reports an interrupt (as QEMU's model, MCR.OUT2 does not gate
// it). Transmitted bytes go to a CharSink; received bytes come from
// ReceiveInput. In loopback (MCR bit 4) THR feeds the receive FIFO, an
// overflow sets LSR.OE, MSR mirrors MCR, and host input is not accepted.
//
// Access widths: the registers are bytes (reg-shift 0), but software built
// for QEMU's virt machine (and a guest's compiler) may use wider loads and
// stores. A 1-, 2-, 4- or 8-byte access at an offset below 8 that is a
// multiple of its width acts on the one register at that offset: a read
// returns the register zero-extended (and has the register's read side
// effects once), a write stores the low byte and ignores the rest. Any
// other access (an offset past 7, misaligned for its width, or another
// width) is kInvalidArgs. Writes to LSR and MSR are ignored, as on the chip.
//
// Not thread-safe: the VMM serializes register accesses and ReceiveInput.
#ifndef DEVICES_NS16550A_H_
#define DEVICES_NS16550A_H_

#include <devices/bus.h>
#include <devices/char_io.h>
#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::devices {

namespace uart {

// Register offsets.
inline constexpr uint64_t kRbrThrDll = 0;
inline constexpr uint64_t kIerDlm = 1;
inline constexpr uint64_t kIirFcr = 2;
inline constexpr uint64_t kLcr = 3;
inline constexpr uint64_t kMcr = 4;
inline constexpr uint64_t kLsr = 5;
inline constexpr uint64_t kMsr = 6;
inline constexpr uint64_t kScr = 7;

inline constexpr uint8_t kIerRxData = 0x01;
inline constexpr uint8_t kIerThrEmpty = 0x02;
inline constexpr uint8_t kIerLineStatus = 0x04;
inline constexpr uint8_t kIerModemStatus = 0x08;

inline constexpr uint8_t kIirNoInterrupt = 0x01;
inline constexpr uint8_t kIirModemStatus = 0x00;
inline constexpr uint8_t kIirThrEmpty = 0x02;
inline constexpr uint8_t kIirRxData = 0x04;
inline constexpr uint8_t kIirLineStatus = 0x06;
inline constexpr uint8_t kIirCharTimeout = 0x0c;
inline constexpr uint8_t kIirFifoEnabled = 0xc0;

inline constexpr uint8_t kFcrEnable = 0x01;
inline constexpr uint8_t kFcrClearRx = 0x02;
inline constexpr uint8_t kFcrClearTx = 0x04;

inline constexpr uint8_t kLcrDlab = 0x80;

inline constexpr uint8_t kMcrDtr = 0x01;
inline constexpr uint8_t kMcrRts = 0x02;
inline constexpr uint8_t kMcrOut1 = 0x04;
inline constexpr uint8_t kMcrOut2 = 0x08;
inline constexpr uint8_t kMcrLoopback = 0x10;

inline constexpr uint8_t kLsrDataReady = 0x01;
inline constexpr uint8_t kLsrOverrun = 0x02;
inline constexpr uint8_t kLsrThrEmpty = 0x20;
inline constexpr uint8_t kLsrTxEmpty = 0x40;

inline constexpr uint8_t kMsrDeltaCts = 0x01;
inline constexpr uint8_t kMsrDeltaDsr = 0x02;
inline constexpr uint8_t kMsrTrailingRi = 0x04;
inline constexpr uint8_t kMsrDeltaDcd = 0x08;
inline constexpr uint8_t kMsrCts = 0x10;
inline constexpr uint8_t kMsrDsr = 0x20;
inline constexpr uint8_t kMsrRi = 0x40;
inline constexpr uint8_t kMsrDcd = 0x80;

}  // namespace uart

class Ns16550a final : public MmioDevice {
 public:
  static constexpr uint64_t kRegisterCount = 8;
  static constexpr size_t kFifoSize = 16;

  // `output` must outlive the device.
  Ns16550a(CharSink& output, IrqLine irq);

  Result<uint64_t> Read(uint64_t offset, size_t size) override;
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override;

  // Moves host input into the receive FIFO while it has room (16 bytes with
  // FIFOs enabled, 1 without; none in loopback). Returns the bytes taken.
  size_t ReceiveInput(std::span<const std::byte> bytes);

  // Back to the power-on state (a machine reset): registers reset, FIFOs
  // empty, the interrupt line low.
  void Reset();

  bool irq_level() const { return irq_level_; }
  // The bytes the receive FIFO holds now.
  size_t rx_pending() const { return state_.rx.size(); }

 private:
  static bool IsValidAccess(uint64_t offset, size_t size);
  uint8_t Iir() const;
  uint8_t Lsr() const;
  size_t RxCapacity() const { return state_.fifo_enabled ? kFifoSize : 1; }
  void WriteMcr(uint8_t value);
  void UpdateIrq();

  CharSink& output_;
  IrqLine irq_;
  bool irq_level_ = false;

  // Everything the guest can set or observe, at its power-on values:
  // Reset() returns to exactly these.
  struct State {
    ByteFifo<kFifoSize> rx;
    uint8_t ier = 0;
    uint8_t lcr = 0;
    uint8_t mcr = 0;
    uint8_t msr = uart::kMsrCts | uart::kMsrDsr | uart::kMsrDcd;
    uint8_t scr = 0;
    uint8_t dll = 0;
    uint8_t dlm = 0;
    bool fifo_enabled = false;
    size_t rx_trigger = 1;
    bool overrun = false;
    bool thr_interrupt = false;
  };
  State state_;
};

}  // namespace hv::devices

#endif  // DEVICES_NS16550A_H_
