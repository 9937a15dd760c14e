#include <arch/x86_64/fallible_isa.h>
#include <cpuid.h>

#include <hv/base/check.h>

extern "C" {
// Defined in fallible.S: the ISA its two functions dispatch on.
[[gnu::visibility("hidden")]] extern uint8_t hv_x86_fallible_isa;
}

namespace hv::arch::x86_64 {
namespace {

// XCR0 bits: the state components the OS saves and restores.
constexpr uint64_t kXcr0Sse = 1 << 1;
constexpr uint64_t kXcr0Avx = 1 << 2;
constexpr uint64_t kXcr0Opmask = 1 << 5;
constexpr uint64_t kXcr0ZmmHi256 = 1 << 6;
constexpr uint64_t kXcr0Hi16Zmm = 1 << 7;

struct CpuFeatures {
  bool avx2 = false;
  bool avx512 = false;
  bool avx_vnni = false;
};

CpuFeatures DetectCpuFeatures() {
  CpuFeatures features;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return features;
  // Without OSXSAVE, xgetbv is undefined and the OS saves no AVX state.
  if ((ecx & bit_OSXSAVE) == 0 || (ecx & bit_AVX) == 0) return features;
  uint32_t xcr0_low, xcr0_high;
  // SAFETY: xgetbv with ecx = 0 reads XCR0; CPUID.1:ECX.OSXSAVE says it is
  // enabled. It only writes eax and edx.
  asm("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  const uint64_t xcr0 = (uint64_t{xcr0_high} << 32) | xcr0_low;
  const bool os_avx = (xcr0 & (kXcr0Sse | kXcr0Avx)) == (kXcr0Sse | kXcr0Avx);
  constexpr uint64_t kAvx512State =
      kXcr0Sse | kXcr0Avx | kXcr0Opmask | kXcr0ZmmHi256 | kXcr0Hi16Zmm;
  const bool os_avx512 = (xcr0 & kAvx512State) == kAvx512State;
  if (!os_avx || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return features;
  features.avx2 = (ebx & bit_AVX2) != 0;
  features.avx512 = os_avx512 && (ebx & bit_AVX512F) != 0;
  const unsigned max_subleaf = eax;
  if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
    features.avx_vnni = (eax & bit_AVXVNNI) != 0;
  }
  return features;
}

const CpuFeatures& Features() {
  static const CpuFeatures features = DetectCpuFeatures();
  return features;
}

// Selects once, at startup. Copies made before (by other static
// initializers) use the SSE2 default, which is as correct, if slower.
[[maybe_unused]] const bool g_selected = [] {
  SetFallibleIsa(BestFallibleIsa());
  return true;
}();

}  // namespace

const char* FallibleIsaName(FallibleIsa isa) {
  switch (isa) {
    case FallibleIsa::kGeneralRegs:
      return "general_regs";
    case FallibleIsa::kSse2:
      return "sse2";
    case FallibleIsa::kAvx2:
      return "avx2";
    case FallibleIsa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool FallibleIsaSupported(FallibleIsa isa) {
  switch (isa) {
    case FallibleIsa::kGeneralRegs:
    case FallibleIsa::kSse2:
      return true;
    case FallibleIsa::kAvx2:
      return Features().avx2;
    case FallibleIsa::kAvx512:
      return Features().avx512;
  }
  return false;
}

FallibleIsa BestFallibleIsa() {
  const CpuFeatures& features = Features();
  if (features.avx512 && features.avx_vnni) return FallibleIsa::kAvx512;
  if (features.avx2) return FallibleIsa::kAvx2;
  return FallibleIsa::kSse2;
}

FallibleIsa CurrentFallibleIsa() {
  return static_cast<FallibleIsa>(__atomic_load_n(&hv_x86_fallible_isa, __ATOMIC_RELAXED));
}

void SetFallibleIsa(FallibleIsa isa) {
  HV_CHECK(FallibleIsaSupported(isa), "fallible copy ISA %s is not supported here",
           FallibleIsaName(isa));
  // A plain byte store: fallible.S reads the byte once per call.
  __atomic_store_n(&hv_x86_fallible_isa, static_cast<uint8_t>(isa), __ATOMIC_RELAXED);
}

}  // namespace hv::arch::x86_64
