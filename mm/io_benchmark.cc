// Copy throughput of the memory-access primitives, in bytes per second, for
// the sizes in kSizes: one benchmark per entry of kCopyRoutines, then
// hv_memcpy_fallible once per ISA this machine supports
// (BM_CopyIsa/hv_memcpy_fallible/<isa>). How to run it, and the results:
// docs/performance.md ("mm: fallible copy").
#include <arch/fallible.h>
#include <arch/x86_64/fallible_isa.h>
#include <benchmark/benchmark.h>
#include <mm/io.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int64_t kSizes[] = {8, 64, 512, 4 << 10, 64 << 10, 1 << 20};

using CopyFn = void (*)(void* dst, const void* src, size_t len);

struct CopyRoutine {
  const char* name;
  CopyFn copy;
};

void GlibcMemcpy(void* dst, const void* src, size_t len) {
  benchmark::DoNotOptimize(memcpy(dst, src, len));
}

void FallibleCopy(void* dst, const void* src, size_t len) {
  benchmark::DoNotOptimize(hv_memcpy_fallible(dst, src, len));
}

// The infallible reader/writer path: what kernel-to-kernel copies cost.
void InfallibleVmReaderRead(void* dst, const void* src, size_t len) {
  auto reader = hv::mm::VmReader<hv::mm::Infallible>::FromKernel(src, len);
  auto writer = hv::mm::VmWriter<hv::mm::Infallible>::FromKernel(dst, len);
  benchmark::DoNotOptimize(reader.Read(writer));
}

// The fallible reader/writer path over a user window (what guest-memory
// copies go through).
void FallibleVmReaderRead(void* dst, const void* src, size_t len) {
  auto reader = hv::mm::VmReader<hv::mm::Fallible>::FromUser(src, len).value();
  auto writer = hv::mm::VmWriter<hv::mm::Infallible>::FromKernel(dst, len);
  benchmark::DoNotOptimize(reader.ReadFallible(writer).value());
}

constexpr CopyRoutine kCopyRoutines[] = {
    {"memcpy", GlibcMemcpy},
    {"hv_memcpy_fallible", FallibleCopy},
    {"VmReader<Infallible>::Read", InfallibleVmReaderRead},
    {"VmReader<Fallible>::ReadFallible", FallibleVmReaderRead},
};

void BM_Copy(benchmark::State& state, CopyFn copy) {
  const auto len = static_cast<size_t>(state.range(0));
  std::vector<unsigned char> src(len, 0x5a);
  std::vector<unsigned char> dst(len);
  for (auto _ : state) {
    copy(dst.data(), src.data(), len);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// hv_memcpy_fallible with its vector ISA forced to `isa` for the run.
void BM_CopyIsa(benchmark::State& state, hv::arch::x86_64::FallibleIsa isa) {
  const hv::arch::x86_64::FallibleIsa selected = hv::arch::x86_64::CurrentFallibleIsa();
  hv::arch::x86_64::SetFallibleIsa(isa);
  BM_Copy(state, FallibleCopy);
  hv::arch::x86_64::SetFallibleIsa(selected);
}

}  // namespace

int main(int argc, char** argv) {
  hv::arch::InstallFaultHandler();
  for (const CopyRoutine& routine : kCopyRoutines) {
    benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
        (std::string("BM_Copy/") + routine.name).c_str(), BM_Copy, routine.copy);
    for (int64_t size : kSizes) b->Arg(size);
  }
  for (hv::arch::x86_64::FallibleIsa isa : hv::arch::x86_64::kAllFallibleIsas) {
    if (!hv::arch::x86_64::FallibleIsaSupported(isa)) continue;
    benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
        (std::string("BM_CopyIsa/hv_memcpy_fallible/") + hv::arch::x86_64::FallibleIsaName(isa))
            .c_str(),
        BM_CopyIsa, isa);
    for (int64_t size : kSizes) b->Arg(size);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
