#include <devices/ns16550a.h>

namespace hv::devices {

namespace {

// FCR bits 7:6 select the receive FIFO trigger level.
constexpr size_t kTriggerLevels[4] = {1, 4, 8, 14};

}  // namespace

Ns16550a::Ns16550a(CharSink& output, IrqLine irq) : output_(output), irq_(irq) {}

void Ns16550a::Reset() {
  state_ = State{};
  UpdateIrq();
}

uint8_t Ns16550a::Lsr() const {
  uint8_t lsr = uart::kLsrThrEmpty | uart::kLsrTxEmpty;
  if (!state_.rx.empty()) lsr |= uart::kLsrDataReady;
  if (state_.overrun) lsr |= uart::kLsrOverrun;
  return lsr;
}

uint8_t Ns16550a::Iir() const {
  const uint8_t fifo = state_.fifo_enabled ? uart::kIirFifoEnabled : 0;
  if ((state_.ier & uart::kIerLineStatus) != 0 && state_.overrun) {
    return fifo | uart::kIirLineStatus;
  }
  if ((state_.ier & uart::kIerRxData) != 0 && !state_.rx.empty()) {
    // Below the trigger level a real 16550 reports a character timeout after
    // four character times; we report it at once.
    const bool timeout = state_.fifo_enabled && state_.rx.size() < state_.rx_trigger;
    return fifo | (timeout ? uart::kIirCharTimeout : uart::kIirRxData);
  }
  if ((state_.ier & uart::kIerThrEmpty) != 0 && state_.thr_interrupt) {
    return fifo | uart::kIirThrEmpty;
  }
  if ((state_.ier & uart::kIerModemStatus) != 0 && (state_.msr & 0x0f) != 0) {
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
  const bool dlab = (state_.lcr & uart::kLcrDlab) != 0;
  uint8_t value = 0;
  switch (offset) {
    case uart::kRbrThrDll:
      if (dlab) {
        value = state_.dll;
      } else if (!state_.rx.empty()) {
        value = std::to_integer<uint8_t>(state_.rx.Pop());
      }
      break;
    case uart::kIerDlm:
      value = dlab ? state_.dlm : state_.ier;
      break;
    case uart::kIirFcr:
      value = Iir();
      // Reading IIR while it reports THR empty acknowledges that interrupt.
      if ((value & 0x0f) == uart::kIirThrEmpty) state_.thr_interrupt = false;
      break;
    case uart::kLcr:
      value = state_.lcr;
      break;
    case uart::kMcr:
      value = state_.mcr;
      break;
    case uart::kLsr:
      value = Lsr();
      state_.overrun = false;
      break;
    case uart::kMsr:
      value = state_.msr;
      state_.msr &= 0xf0;
      break;
    case uart::kScr:
      value = state_.scr;
      break;
  }
  UpdateIrq();
  return value;
}

Result<void> Ns16550a::Write(uint64_t offset, size_t size, uint64_t value) {
  if (!IsValidAccess(offset, size)) return Error::kInvalidArgs;
  const bool dlab = (state_.lcr & uart::kLcrDlab) != 0;
  const auto v = static_cast<uint8_t>(value);
  switch (offset) {
    case uart::kRbrThrDll:
      if (dlab) {
        state_.dll = v;
        break;
      }
      if ((state_.mcr & uart::kMcrLoopback) != 0) {
        if (state_.rx.size() < RxCapacity()) {
          state_.rx.Push(static_cast<std::byte>(v));
        } else {
          state_.overrun = true;
        }
      } else {
        const auto b = static_cast<std::byte>(v);
        output_.Write(std::span<const std::byte>(&b, 1));
      }
      // The byte left THR at once: THR is empty again.
      state_.thr_interrupt = true;
      break;
    case uart::kIerDlm:
      if (dlab) {
        state_.dlm = v;
        break;
      }
      // Enabling the THR-empty interrupt while THR is empty raises it.
      if ((v & uart::kIerThrEmpty) != 0 && (state_.ier & uart::kIerThrEmpty) == 0)
        state_.thr_interrupt = true;
      state_.ier = v & 0x0f;
      break;
    case uart::kIirFcr: {
      const bool enable = (v & uart::kFcrEnable) != 0;
      if (enable != state_.fifo_enabled || (v & uart::kFcrClearRx) != 0) state_.rx.Clear();
      state_.fifo_enabled = enable;
      state_.rx_trigger = enable ? kTriggerLevels[v >> 6] : 1;
      // No transmit FIFO to clear: bytes leave THR at once.
      break;
    }
    case uart::kLcr:
      state_.lcr = v;
      break;
    case uart::kMcr:
      WriteMcr(v & 0x1f);
      break;
    case uart::kLsr:
    case uart::kMsr:
      break;
    case uart::kScr:
      state_.scr = v;
      break;
  }
  UpdateIrq();
  return Ok();
}

void Ns16550a::WriteMcr(uint8_t value) {
  state_.mcr = value;
  uint8_t lines = uart::kMsrCts | uart::kMsrDsr | uart::kMsrDcd;
  if ((value & uart::kMcrLoopback) != 0) {
    lines = 0;
    if ((value & uart::kMcrRts) != 0) lines |= uart::kMsrCts;
    if ((value & uart::kMcrDtr) != 0) lines |= uart::kMsrDsr;
    if ((value & uart::kMcrOut1) != 0) lines |= uart::kMsrRi;
    if ((value & uart::kMcrOut2) != 0) lines |= uart::kMsrDcd;
  }
  const uint8_t old = state_.msr & 0xf0;
  const uint8_t changed = old ^ lines;
  uint8_t deltas = state_.msr & 0x0f;
  if ((changed & uart::kMsrCts) != 0) deltas |= uart::kMsrDeltaCts;
  if ((changed & uart::kMsrDsr) != 0) deltas |= uart::kMsrDeltaDsr;
  if ((changed & uart::kMsrDcd) != 0) deltas |= uart::kMsrDeltaDcd;
  // RI reports its trailing edge only.
  if ((old & uart::kMsrRi) != 0 && (lines & uart::kMsrRi) == 0) deltas |= uart::kMsrTrailingRi;
  state_.msr = lines | deltas;
}

size_t Ns16550a::ReceiveInput(std::span<const std::byte> bytes) {
  // In loopback the receiver is disconnected from the line.
  if ((state_.mcr & uart::kMcrLoopback) != 0) return 0;
  size_t taken = 0;
  while (taken < bytes.size() && state_.rx.size() < RxCapacity()) state_.rx.Push(bytes[taken++]);
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
