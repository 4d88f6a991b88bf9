// Vectorizable kernels over one row of logits, used by the sampler.
//
// Owns: the row-wide passes that dominate sampling time (exp, sums, maxima, counts). Loops are
// compiled three times, for AVX-512, AVX2+FMA and baseline x86-64, and the copy to use is picked
// once at load from the CPU's features (SERVELLM_SIMD=avx2 or =generic in the environment caps
// the choice).
// Sums use eight fixed lanes, so a result never depends on the vector width or the thread. The
// exp is a Cody-Waite reduced degree-13 polynomial within 1 ulp of the correctly rounded result,
// evaluated with fused multiply-adds in the AVX2 and AVX-512 copies (bit-identical to each
// other; the baseline copy may differ from them in the last bit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace servellm {

/** The IEEE-754 bit pattern of a double, and back (bucketing and exp's exponent tricks). */
inline uint64_t DoubleBits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline double FromBits(uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// out[i] = exp((double)in[i] / divisor - shift); returns the sum of out (eight fixed lanes).
// `divisor` is the temperature (1.0 for raw logprobs), `shift` the largest in[i] / divisor.
// Elements whose argument is -inf get exactly 0.
double ExpShiftedSum(const float* in, double divisor, double shift, double* out, size_t n);

// Same, with out[i] = 0 for tokens whose bit is clear in `mask` (bit t%32 of word t/32).
double ExpShiftedSumMasked(const float* in, const uint32_t* mask, double divisor, double shift,
                           double* out, size_t n);

// out[b] = sum of the elements > threshold in block b of `block` elements (the last block may
// be shorter), each with eight fixed lanes.
void BlockSumsGreater(const double* values, double threshold, size_t n, size_t block,
                      double* out);

// Number of elements at least `value` (vLLM's rank of an element equal to `value`).
int64_t CountAtLeast(const float* values, float value, size_t n);

// Number of NaN or +inf elements.
int64_t CountInvalid(const float* values, size_t n);

// Largest element (n >= 1, no NaN).
float MaxOf(const float* values, size_t n);

// Largest element among tokens allowed by `mask`; -inf when none.
float MaxAllowed(const float* values, const uint32_t* mask, size_t n);

}  // namespace servellm
