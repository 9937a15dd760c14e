// Test memory with real holes: a readable/writable region whose neighbours
// are PROT_NONE pages, so any access past either end faults for real.
#ifndef TESTING_MEMORY_GUARDED_REGION_H_
#define TESTING_MEMORY_GUARDED_REGION_H_

#include <cstddef>
#include <cstdint>

namespace hv::testing {

class GuardedRegion {
 public:
  // `size` usable bytes placed so that data() + size is the first byte of a
  // guard page (the start is at the page offset that makes this true; the
  // page before the first usable page is a guard too).
  explicit GuardedRegion(size_t size);
  ~GuardedRegion();
  GuardedRegion(const GuardedRegion&) = delete;
  GuardedRegion& operator=(const GuardedRegion&) = delete;

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  // One past the usable bytes: the first byte of the trailing guard page.
  std::byte* end() const { return data_ + size_; }

  // Makes the page holding `addr` inaccessible (or accessible again).
  static void Protect(void* addr, bool accessible);
  static size_t PageSize();

 private:
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace hv::testing

#endif  // TESTING_MEMORY_GUARDED_REGION_H_
