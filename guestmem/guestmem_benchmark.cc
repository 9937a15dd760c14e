// Guest-memory access costs on the hosted backend with two regions:
// read_obj/write_obj of a u64 (ns per op) and 4 KiB / 64 KiB buffers copied
// across the region boundary (bytes per second), against plain memcpy of the
// same two halves between the same buffers, in the same direction, as the
// ceiling. The VMM-side buffer is one page-aligned allocation used at an
// offset given as the second argument: 16 (where malloc puts a buffer,
// source and destination not co-aligned) or 0 (co-aligned). Results and the
// targets: docs/performance.md ("guestmem").
//
//   ./bazelw run -c opt //guestmem:guestmem_benchmark
#include <benchmark/benchmark.h>
#include <guestmem/hosted_memory.h>

#include <hv/base/check.h>
#include <cstdlib>
#include <cstring>

namespace hv::guestmem {
namespace {

constexpr uint64_t kRegionSize = 1 << 20;
constexpr uint64_t kBoundary = 0x100000 + kRegionSize;  // between the two regions

HostedGuestMemory& Memory() {
  static HostedGuestMemory memory = [] {
    const HostedGuestMemory::RegionSpec specs[] = {
        {GuestPhysAddr(0x100000), kRegionSize},
        {GuestPhysAddr(kBoundary), kRegionSize},
    };
    HostedGuestMemory m = HostedGuestMemory::Create(specs).value();
    // A guest's RAM is written before it is read: populate every page, so
    // reads do not all hit the kernel's shared zero page.
    for (const auto& region : m.regions()) std::memset(region.host, 0x5a, region.size);
    return m;
  }();
  return memory;
}

void BM_ReadObjU64(benchmark::State& state) {
  const GuestMemoryAccessor& memory = Memory();
  uint64_t gpa = 0x100000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(memory.ReadObj<uint64_t>(GuestPhysAddr(gpa)).value());
    gpa = gpa + 64 < kBoundary ? gpa + 64 : 0x100000;
  }
}
BENCHMARK(BM_ReadObjU64);

void BM_WriteObjU64(benchmark::State& state) {
  const GuestMemoryAccessor& memory = Memory();
  uint64_t gpa = 0x100000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(memory.WriteObj<uint64_t>(GuestPhysAddr(gpa), gpa).ok());
    gpa = gpa + 64 < kBoundary ? gpa + 64 : 0x100000;
  }
}
BENCHMARK(BM_WriteObjU64);

// Plain loads of a u64 from the same host memory: the floor for read_obj.
void BM_PlainLoadU64(benchmark::State& state) {
  std::byte* host = Memory().regions()[0].host;
  uint64_t offset = 0;
  for (auto _ : state) {
    uint64_t v;
    std::memcpy(&v, host + offset, 8);
    benchmark::DoNotOptimize(v);
    offset = (offset + 64) % kRegionSize;
  }
}
BENCHMARK(BM_PlainLoadU64);

// The VMM's buffer of `len` bytes at `offset` from a page boundary, the same
// for every benchmark.
std::span<std::byte> VmmBuffer(size_t len, size_t offset) {
  static std::byte* const buffer = [] {
    void* p = std::aligned_alloc(4096, 2 * kRegionSize);
    HV_CHECK(p != nullptr, "aligned_alloc failed");
    std::memset(p, 1, 2 * kRegionSize);
    return static_cast<std::byte*>(p);
  }();
  return {buffer + offset, len};
}

void SetUp(benchmark::internal::Benchmark* b) {
  for (int64_t len : {4096, 65536}) {
    for (int64_t offset : {16, 0}) b->Args({len, offset});
  }
  b->ArgNames({"len", "offset"});
}

void BM_ReadBufferAcrossBoundary(benchmark::State& state) {
  const size_t len = static_cast<size_t>(state.range(0));
  const std::span<std::byte> out = VmmBuffer(len, static_cast<size_t>(state.range(1)));
  const GuestMemoryAccessor& memory = Memory();
  for (auto _ : state) {
    benchmark::DoNotOptimize(memory.ReadBuffer(GuestPhysAddr(kBoundary - len / 2), out).ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_ReadBufferAcrossBoundary)->Apply(SetUp);

void BM_WriteBufferAcrossBoundary(benchmark::State& state) {
  const size_t len = static_cast<size_t>(state.range(0));
  const std::span<const std::byte> in = VmmBuffer(len, static_cast<size_t>(state.range(1)));
  const GuestMemoryAccessor& memory = Memory();
  for (auto _ : state) {
    benchmark::DoNotOptimize(memory.WriteBuffer(GuestPhysAddr(kBoundary - len / 2), in).ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_WriteBufferAcrossBoundary)->Apply(SetUp);

// The ceilings: memcpy of the same two halves between the same host buffers,
// out of guest memory (for reads) and into it (for writes).
void BM_MemcpyAcrossBoundary(benchmark::State& state) {
  const size_t len = static_cast<size_t>(state.range(0));
  const std::span<std::byte> out = VmmBuffer(len, static_cast<size_t>(state.range(1)));
  std::byte* first = Memory().regions()[0].host + kRegionSize - len / 2;
  std::byte* second = Memory().regions()[1].host;
  for (auto _ : state) {
    std::memcpy(out.data(), first, len / 2);
    std::memcpy(out.data() + len / 2, second, len - len / 2);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_MemcpyAcrossBoundary)->Apply(SetUp);

void BM_MemcpyToGuestAcrossBoundary(benchmark::State& state) {
  const size_t len = static_cast<size_t>(state.range(0));
  const std::span<const std::byte> in = VmmBuffer(len, static_cast<size_t>(state.range(1)));
  std::byte* first = Memory().regions()[0].host + kRegionSize - len / 2;
  std::byte* second = Memory().regions()[1].host;
  for (auto _ : state) {
    std::memcpy(first, in.data(), len / 2);
    std::memcpy(second, in.data() + len / 2, len - len / 2);
    benchmark::DoNotOptimize(first);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_MemcpyToGuestAcrossBoundary)->Apply(SetUp);

}  // namespace
}  // namespace hv::guestmem

BENCHMARK_MAIN();
