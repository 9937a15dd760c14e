#include <devices/ns16550a.h>

namespace hv::devices {

namespace {

// FCR bits 7:6 select the receive FIFO trigger level.
constexpr size_t kTriggerLevels[4] = {1, 4, 8, 14};

}  // namespace

Ns16550a::Ns16550a(CharSink& output, IrqLine irq) : output_(output), irq_(irq) {}

void Ns16550a::Reset() {
  rx_.Clear();
  ier_ = 0;
  lcr_ = 0;
  mcr_ = 0;
  msr_ = uart::kMsrCts | uart::kMsrDsr | uart::kMsrDcd;
  scr_ = 0;
  dll_ = 0;
  dlm_ = 0;
  fifo_enabled_ = false;
  rx_trigger_ = 1;
  overrun_ = false;
  thr_interrupt_ = false;
  UpdateIrq();
}

uint8_t Ns16550a::Lsr() const {
  uint8_t lsr = uart::kLsrThrEmpty | uart::kLsrTxEmpty;
  if (!rx_.empty()) lsr |= uart::kLsrDataReady;
  if (overrun_) lsr |= uart::kLsrOverrun;
  return lsr;
}

uint8_t Ns16550a::Iir() const {
  const uint8_t fifo = fifo_enabled_ ? uart::kIirFifoEnabled : 0;
  if ((ier_ & uart::kIerLineStatus) != 0 && overrun_) return fifo | uart::kIirLineStatus;
  if ((ier_ & uart::kIerRxData) != 0 && !rx_.empty()) {
    // Below the trigger level a real 16550 reports a character timeout after
    // four character times; we report it at once.
    const bool timeout = fifo_enabled_ && rx_.size() < rx_trigger_;
    return fifo | (timeout ? uart::kIirCharTimeout : uart::kIirRxData);
  }
  if ((ier_ & uart::kIerThrEmpty) != 0 && thr_interrupt_) return fifo | uart::kIirThrEmpty;
  if ((ier_ & uart::kIerModemStatus) != 0 && (msr_ & 0x0f) != 0) {
    return fifo | uart::kIirModemStatus;
  }
  return fifo | uart::kIirNoInterrupt;
}

bool Ns16550a::IsValidAccess(uint64_t offset, size_t size) {
  const bool width_ok = size == 1 || size == 2 || size == 4 || size == 8;
  return width_ok && offset < kRegisterCount && offset % size == 0;
}

Result<uint64_t> Ns16550a::Read(uint64_t offset, size_t size) {
  if (!IsValidAccess(offset, size)) return Error::kInvalidArgs;
  const bool dlab = (lcr_ & uart::kLcrDlab) != 0;
  uint8_t value = 0;
  switch (offset) {
    case uart::kRbrThrDll:
      if (dlab) {
        value = dll_;
      } else if (!rx_.empty()) {
        value = std::to_integer<uint8_t>(rx_.Pop());
      }
      break;
    case uart::kIerDlm:
      value = dlab ? dlm_ : ier_;
      break;
    case uart::kIirFcr:
      value = Iir();
      // Reading IIR while it reports THR empty acknowledges that interrupt.
      if ((value & 0x0f) == uart::kIirThrEmpty) thr_interrupt_ = false;
      break;
    case uart::kLcr:
      value = lcr_;
      break;
    case uart::kMcr:
      value = mcr_;
      break;
    case uart::kLsr:
      value = Lsr();
      overrun_ = false;
      break;
    case uart::kMsr:
      value = msr_;
      msr_ &= 0xf0;
      break;
    case uart::kScr:
      value = scr_;
      break;
  }
  UpdateIrq();
  return value;
}

Result<void> Ns16550a::Write(uint64_t offset, size_t size, uint64_t value) {
  if (!IsValidAccess(offset, size)) return Error::kInvalidArgs;
  const bool dlab = (lcr_ & uart::kLcrDlab) != 0;
  const auto v = static_cast<uint8_t>(value);
  switch (offset) {
    case uart::kRbrThrDll:
      if (dlab) {
        dll_ = v;
        break;
      }
      if ((mcr_ & uart::kMcrLoopback) != 0) {
        if (rx_.size() < RxCapacity()) {
          rx_.Push(static_cast<std::byte>(v));
        } else {
          overrun_ = true;
        }
      } else {
        const auto b = static_cast<std::byte>(v);
        output_.Write(std::span<const std::byte>(&b, 1));
      }
      // The byte left THR at once: THR is empty again.
      thr_interrupt_ = true;
      break;
    case uart::kIerDlm:
      if (dlab) {
        dlm_ = v;
        break;
      }
      // Enabling the THR-empty interrupt while THR is empty raises it.
      if ((v & uart::kIerThrEmpty) != 0 && (ier_ & uart::kIerThrEmpty) == 0) thr_interrupt_ = true;
      ier_ = v & 0x0f;
      break;
    case uart::kIirFcr: {
      const bool enable = (v & uart::kFcrEnable) != 0;
      if (enable != fifo_enabled_ || (v & uart::kFcrClearRx) != 0) rx_.Clear();
      fifo_enabled_ = enable;
      rx_trigger_ = enable ? kTriggerLevels[v >> 6] : 1;
      // No transmit FIFO to clear: bytes leave THR at once.
      break;
    }
    case uart::kLcr:
      lcr_ = v;
      break;
    case uart::kMcr:
      WriteMcr(v & 0x1f);
      break;
    case uart::kLsr:
    case uart::kMsr:
      break;
    case uart::kScr:
      scr_ = v;
      break;
  }
  UpdateIrq();
  return Ok();
}

void Ns16550a::WriteMcr(uint8_t value) {
  mcr_ = value;
  uint8_t lines = uart::kMsrCts | uart::kMsrDsr | uart::kMsrDcd;
  if ((value & uart::kMcrLoopback) != 0) {
    lines = 0;
    if ((value & uart::kMcrRts) != 0) lines |= uart::kMsrCts;
    if ((value & uart::kMcrDtr) != 0) lines |= uart::kMsrDsr;
    if ((value & uart::kMcrOut1) != 0) lines |= uart::kMsrRi;
    if ((value & uart::kMcrOut2) != 0) lines |= uart::kMsrDcd;
  }
  const uint8_t old = msr_ & 0xf0;
  const uint8_t changed = old ^ lines;
  uint8_t deltas = msr_ & 0x0f;
  if ((changed & uart::kMsrCts) != 0) deltas |= uart::kMsrDeltaCts;
  if ((changed & uart::kMsrDsr) != 0) deltas |= uart::kMsrDeltaDsr;
  if ((changed & uart::kMsrDcd) != 0) deltas |= uart::kMsrDeltaDcd;
  // RI reports its trailing edge only.
  if ((old & uart::kMsrRi) != 0 && (lines & uart::kMsrRi) == 0) deltas |= uart::kMsrTrailingRi;
  msr_ = lines | deltas;
}

size_t Ns16550a::ReceiveInput(std::span<const std::byte> bytes) {
  // In loopback the receiver is disconnected from the line.
  if ((mcr_ & uart::kMcrLoopback) != 0) return 0;
  size_t taken = 0;
  while (taken < bytes.size() && rx_.size() < RxCapacity()) rx_.Push(bytes[taken++]);
  UpdateIrq();
  return taken;
}

void Ns16550a::UpdateIrq() {
  const bool level = (Iir() & uart::kIirNoInterrupt) == 0;
  if (level == irq_level_) return;
  irq_level_ = level;
  irq_.Set(level);
}

}  // namespace hv::devices
