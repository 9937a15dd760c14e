// A test-and-test-and-set spinlock for mm's short critical sections (frame
// allocator free lists, page-table pages, a VmSpace's I/O memory list).
//
// It does not disable interrupts or preemption: the kernel has neither a
// scheduler nor interrupt handlers that touch mm yet. Code that takes these
// locks from an interrupt handler must first make them interrupt-safe.
#ifndef MM_SPIN_LOCK_H_
#define MM_SPIN_LOCK_H_

#include <hv/base/std.h>

namespace hv::mm {

class SpinLock {
 public:
  constexpr SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void Lock() {
    while (locked_.exchange(1, std::memory_order_acquire) != 0) {
      while (locked_.load(std::memory_order_relaxed) != 0) {
        Pause();
      }
    }
  }

  // Takes the lock if it is free; never waits.
  [[nodiscard]] bool TryLock() {
    return locked_.load(std::memory_order_relaxed) == 0 &&
           locked_.exchange(1, std::memory_order_acquire) == 0;
  }

  // REQUIRES: the caller holds the lock.
  void Unlock() { locked_.store(0, std::memory_order_release); }

  bool is_locked() const { return locked_.load(std::memory_order_relaxed) != 0; }

  // Sets the state of a lock that nobody else can see yet (an object being
  // created, possibly in memory that held a lock before).
  void Reset(bool locked) { locked_.store(locked ? 1 : 0, std::memory_order_relaxed); }

 private:
  static void Pause() {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__riscv)
    // SAFETY: `pause` (Zihintpause) is a HINT encoding; cores without the
    // extension execute it as a no-op. No memory operands.
    asm volatile(".insn i 0x0f, 0, x0, x0, 0x010");
#endif
  }

  // A word, not a bool: riscv64 has no sub-word atomic swap, and the kernel
  // has no libatomic to emulate one.
  std::atomic<uint32_t> locked_{0};
};

// Holds a SpinLock for its scope.
class SpinLockGuard {
 public:
  explicit SpinLockGuard(SpinLock& lock) : lock_(lock) { lock_.Lock(); }
  ~SpinLockGuard() { lock_.Unlock(); }
  SpinLockGuard(const SpinLockGuard&) = delete;
  SpinLockGuard& operator=(const SpinLockGuard&) = delete;

 private:
  SpinLock& lock_;
};

}  // namespace hv::mm

#endif  // MM_SPIN_LOCK_H_
