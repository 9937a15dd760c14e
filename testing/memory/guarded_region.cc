#include "testing/memory/guarded_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace hv::testing {

size_t GuardedRegion::PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

GuardedRegion::GuardedRegion(size_t size) : size_(size) {
  const size_t page = PageSize();
  const size_t usable_pages = (size + page - 1) / page;
  mapping_size_ = (usable_pages + 2) * page;
  mapping_ = mmap(nullptr, mapping_size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    perror("GuardedRegion: mmap");
    abort();
  }
  auto* first_usable = static_cast<std::byte*>(mapping_) + page;
  if (usable_pages != 0 &&
      mprotect(first_usable, usable_pages * page, PROT_READ | PROT_WRITE) != 0) {
    perror("GuardedRegion: mprotect");
    abort();
  }
  data_ = first_usable + usable_pages * page - size;
}

GuardedRegion::~GuardedRegion() { munmap(mapping_, mapping_size_); }

void GuardedRegion::Protect(void* addr, bool accessible) {
  const size_t page = PageSize();
  auto* start = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(addr) & ~(page - 1));
  if (mprotect(start, page, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) != 0) {
    perror("GuardedRegion::Protect");
    abort();
  }
}

}  // namespace hv::testing
