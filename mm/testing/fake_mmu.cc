#include <mm/testing/fake_mmu.h>

namespace hv::mm::testing {
namespace {

thread_local CpuId current_cpu = 0;

}  // namespace

bool FakeMmu::FlushRecord::Covers(uint64_t addr) const {
  for (const TlbFlushOp& op : ops) {
    if (op.Covers(addr)) return true;
  }
  return false;
}

void FakeMmu::SetCurrentCpu(CpuId cpu) { current_cpu = cpu; }

CpuId FakeMmu::CurrentCpu() const { return current_cpu; }

void FakeMmu::SetRoot(HostPhysAddr root, uint16_t asid) {
  std::lock_guard lock(mutex_);
  activations_.push_back({current_cpu, root, asid});
}

void FakeMmu::ClearRoot() {
  std::lock_guard lock(mutex_);
  activations_.push_back({current_cpu, HostPhysAddr(), 0});
}

void FakeMmu::Flush(CpuSet cpus, std::span<const TlbFlushOp> ops, uint16_t asid) {
  FlushRecord record{cpus, std::vector<TlbFlushOp>(ops.begin(), ops.end()), asid};
  std::function<void(const FlushRecord&)> hook;
  {
    std::lock_guard lock(mutex_);
    flushes_.push_back(record);
    hook = on_flush_;
  }
  if (hook) hook(record);
}

void FakeMmu::set_on_flush(std::function<void(const FlushRecord&)> hook) {
  std::lock_guard lock(mutex_);
  on_flush_ = std::move(hook);
}

std::vector<FakeMmu::Activation> FakeMmu::activations() const {
  std::lock_guard lock(mutex_);
  return activations_;
}

std::vector<FakeMmu::FlushRecord> FakeMmu::flushes() const {
  std::lock_guard lock(mutex_);
  return flushes_;
}

size_t FakeMmu::num_flushes() const {
  std::lock_guard lock(mutex_);
  return flushes_.size();
}

bool FakeMmu::Flushed(uint64_t addr, CpuId cpu, size_t since) const {
  std::lock_guard lock(mutex_);
  for (size_t i = since; i < flushes_.size(); ++i) {
    if (flushes_[i].cpus.Contains(cpu) && flushes_[i].Covers(addr)) return true;
  }
  return false;
}

void FakeMmu::ClearRecords() {
  std::lock_guard lock(mutex_);
  activations_.clear();
  flushes_.clear();
}

}  // namespace hv::mm::testing
