// Sets of CPUs, for activation records and TLB shootdowns.
#ifndef MM_CPU_SET_H_
#define MM_CPU_SET_H_

#include <hv/base/check.h>
#include <hv/base/std.h>

namespace hv::mm {

// A CPU's index, dense from 0 (not an APIC or hart id).
using CpuId = uint32_t;
inline constexpr CpuId kMaxCpus = 64;

class CpuSet {
 public:
  constexpr CpuSet() = default;
  static constexpr CpuSet FromBits(uint64_t bits) { return CpuSet(bits); }
  static constexpr CpuSet Single(CpuId cpu) { return CpuSet(Bit(cpu)); }

  constexpr void Add(CpuId cpu) { bits_ |= Bit(cpu); }
  constexpr void Remove(CpuId cpu) { bits_ &= ~Bit(cpu); }
  constexpr bool Contains(CpuId cpu) const { return (bits_ & Bit(cpu)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr int count() const { return std::popcount(bits_); }
  constexpr uint64_t bits() const { return bits_; }

  // Calls `fn(cpu)` for each CPU in the set, lowest first.
  template <typename Fn>
  constexpr void ForEach(Fn&& fn) const {
    for (uint64_t rest = bits_; rest != 0; rest &= rest - 1) {
      fn(static_cast<CpuId>(std::countr_zero(rest)));
    }
  }

  constexpr bool operator==(const CpuSet&) const = default;

 private:
  constexpr explicit CpuSet(uint64_t bits) : bits_(bits) {}
  static constexpr uint64_t Bit(CpuId cpu) {
    HV_CHECK(cpu < kMaxCpus, "CPU %u out of range", cpu);
    return uint64_t{1} << cpu;
  }

  uint64_t bits_ = 0;
};

// A CpuSet updated concurrently by the CPUs it describes.
//
// Shootdowns read it with LoadForShootdown, a read-modify-write: a CPU's Add
// and a shootdown's read are then ordered in the set's modification order.
// Either the read comes later and sees the CPU, or the Add comes later,
// reads from the shootdown's RMW, and so synchronizes with it: the
// page-table changes made before the shootdown are visible to the CPU,
// which invalidates its TLB for the space when it activates it.
class AtomicCpuSet {
 public:
  constexpr AtomicCpuSet() = default;
  AtomicCpuSet(const AtomicCpuSet&) = delete;
  AtomicCpuSet& operator=(const AtomicCpuSet&) = delete;

  void Add(CpuId cpu) { bits_.fetch_or(CpuSet::Single(cpu).bits(), std::memory_order_acq_rel); }
  void Remove(CpuId cpu) {
    bits_.fetch_and(~CpuSet::Single(cpu).bits(), std::memory_order_acq_rel);
  }
  CpuSet Load() const { return CpuSet::FromBits(bits_.load(std::memory_order_seq_cst)); }
  // Load for a TLB shootdown, after the page-table changes it retires.
  CpuSet LoadForShootdown() {
    return CpuSet::FromBits(bits_.fetch_or(0, std::memory_order_acq_rel));
  }

 private:
  std::atomic<uint64_t> bits_{0};
};

}  // namespace hv::mm

#endif  // MM_CPU_SET_H_
