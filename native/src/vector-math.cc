// Vectorizable kernels over one row of logits (see vector-math.h).
//
// Owns: the three compiled copies of vector-math-kernels.inc (baseline, AVX2+FMA, AVX-512) and
// the choice between them. -fno-trapping-math (set for the whole addon in binding.gyp) is what
// lets the compiler if-convert the clamps and selects and so vectorize these loops.
#include "vector-math.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace servellm {
namespace {


#define SERVELLM_MADD(a, b, c) ((a) * (b) + (c))
namespace generic {
#include "vector-math-kernels.inc"
}  // namespace generic
#undef SERVELLM_MADD

#if defined(__x86_64__) && defined(__GNUC__)
#define SERVELLM_HAVE_AVX2_COPY 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SERVELLM_MADD(a, b, c) __builtin_fma((a), (b), (c))
namespace avx2 {
#include "vector-math-kernels.inc"
}  // namespace avx2
#undef SERVELLM_MADD
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
#define SERVELLM_MADD(a, b, c) __builtin_fma((a), (b), (c))
namespace avx512 {
#include "vector-math-kernels.inc"
}  // namespace avx512
#undef SERVELLM_MADD
#pragma GCC pop_options
#endif

enum class Isa { kGeneric, kAvx2, kAvx512 };

// The best copy this CPU runs, capped by SERVELLM_SIMD=generic|avx2 (for tests and for CPUs
// that slow down under AVX-512).
Isa DetectIsa() {
#ifdef SERVELLM_HAVE_AVX2_COPY
  const char* cap = std::getenv("SERVELLM_SIMD");
  const std::string limit = cap != nullptr ? cap : "";
  __builtin_cpu_init();
  if (limit == "generic" || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    return Isa::kGeneric;
  }
  if (limit != "avx2" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    return Isa::kAvx512;
  }
  return Isa::kAvx2;
#else
  return Isa::kGeneric;
#endif
}

const Isa kIsa = DetectIsa();

}  // namespace

#ifdef SERVELLM_HAVE_AVX2_COPY
#define SERVELLM_DISPATCH(call)                                              \
  (kIsa == Isa::kAvx512 ? avx512::call : kIsa == Isa::kAvx2 ? avx2::call : generic::call)
#else
#define SERVELLM_DISPATCH(call) (generic::call)
#endif

double ExpShiftedSum(const float* in, double divisor, double shift, double* out, size_t n) {
  SERVELLM_DISPATCH(ExpShifted(in, divisor, shift, out, n));
  return SERVELLM_DISPATCH(SumAll(out, n));
}

double ExpShiftedSumMasked(const float* in, const uint32_t* mask, double divisor, double shift,
                           double* out, size_t n) {
  SERVELLM_DISPATCH(ExpShiftedMasked(in, mask, divisor, shift, out, n));
  return SERVELLM_DISPATCH(SumAll(out, n));
}

void BlockSumsGreater(const double* values, double threshold, size_t n, size_t block,
                      double* out) {
  SERVELLM_DISPATCH(BlockSumsGreater(values, threshold, n, block, out));
}

int64_t CountAtLeast(const float* values, float value, size_t n) {
  return SERVELLM_DISPATCH(CountAtLeast(values, value, n));
}

int64_t CountInvalid(const float* values, size_t n) {
  return SERVELLM_DISPATCH(CountInvalid(values, n));
}

float MaxOf(const float* values, size_t n) { return SERVELLM_DISPATCH(MaxOf(values, n)); }

float MaxAllowed(const float* values, const uint32_t* mask, size_t n) {
  return SERVELLM_DISPATCH(MaxAllowed(values, mask, n));
}

}  // namespace servellm
