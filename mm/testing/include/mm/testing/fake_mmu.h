// A fake Mmu for host tests: it programs nothing and records everything it
// is asked to do, so tests can assert activations and TLB flushes.
//
// The "current CPU" is per host thread (SetCurrentCpu), so a test can play
// several CPUs with several threads. An optional hook runs at each flush,
// while the flusher still holds what the flush retires, to check that
// nothing was released too early.
#ifndef MM_TESTING_FAKE_MMU_H_
#define MM_TESTING_FAKE_MMU_H_

#include <functional>
#include <mutex>
#include <vector>

#include <mm/tlb.h>

namespace hv::mm::testing {

class FakeMmu final : public Mmu {
 public:
  struct Activation {
    CpuId cpu;
    HostPhysAddr root;  // HostPhysAddr() for ClearRoot
    uint16_t asid;
    bool operator==(const Activation&) const = default;
  };
  struct FlushRecord {
    CpuSet cpus;
    std::vector<TlbFlushOp> ops;
    uint16_t asid;
    // True if the page containing `addr` was flushed.
    bool Covers(uint64_t addr) const;
  };

  FakeMmu() = default;

  // The CPU the calling thread plays (0 unless set).
  static void SetCurrentCpu(CpuId cpu);

  CpuId CurrentCpu() const override;
  void SetRoot(HostPhysAddr root, uint16_t asid) override;
  void ClearRoot() override;
  void Flush(CpuSet cpus, std::span<const TlbFlushOp> ops, uint16_t asid) override;

  // Runs inside each Flush, before it returns.
  void set_on_flush(std::function<void(const FlushRecord&)> hook);

  std::vector<Activation> activations() const;
  std::vector<FlushRecord> flushes() const;
  size_t num_flushes() const;
  // True if some flush since record `since` covered the page of `addr` on
  // `cpu`.
  bool Flushed(uint64_t addr, CpuId cpu, size_t since = 0) const;
  void ClearRecords();

 private:
  mutable std::mutex mutex_;
  std::vector<Activation> activations_;
  std::vector<FlushRecord> flushes_;
  std::function<void(const FlushRecord&)> on_flush_;
};

}  // namespace hv::mm::testing

#endif  // MM_TESTING_FAKE_MMU_H_
