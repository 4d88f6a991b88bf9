// Internal to the sampler's implementation (sampler.cc, top-k-select.cc, top-p-cut.cc); no other
// file includes it.
//
// Owns: what the sampler's files share: the size limits that pick between a heap scan, a sort
// and a histogram, the layout of the weight histogram's first level, and CollectInRange, the
// scan that gathers the weights of one histogram bucket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace servellm {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Regions of at most this many candidates are sorted instead of refined further.
constexpr size_t kExactSortLimit = 256;
// Counts up to this use a heap scan; larger ones nth_element.
constexpr int32_t kHeapLimit = 64;
// Weight histogram, level 0 (top-k and top-p): the top 16 bits of the weight (exponent + 4
// mantissa bits) relative to the largest weight: 16 buckets per octave over 64 octaves,
// everything smaller in bucket 0 (its total is then below any budget a float32 top-p < 1 can
// give). Positive doubles order like their bits, so buckets are weight ranges.
constexpr int kLevel0Shift = 48;
constexpr int64_t kLevel0Buckets = 1024;

// Appends {w, i} for every w[i] in [from, to), checking 8 weights at a time without branches
// (the range is narrow, so most groups have no match).
template <typename Candidate>
void CollectInRange(const double* w, double from, double to, size_t n,
                    std::vector<Candidate>& out) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    int any = 0;
    for (size_t j = 0; j < 8; ++j) any |= (w[i + j] >= from) & (w[i + j] < to);
    if (any == 0) continue;
    for (size_t j = i; j < i + 8; ++j) {
      if (w[j] >= from && w[j] < to) out.push_back({w[j], static_cast<int32_t>(j)});
    }
  }
  for (; i < n; ++i) {
    if (w[i] >= from && w[i] < to) out.push_back({w[i], static_cast<int32_t>(i)});
  }
}

}  // namespace servellm
