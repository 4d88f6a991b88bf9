// The top-k selection of the sampler: Sampler::KthLargest (see sampler.h).
//
// Owns: finding the k-th largest sampling weight, the threshold top-k truncates at (ties with it
// are kept). Small k scan once with a min-heap of the k largest; larger k count the weights per
// level-0 histogram bucket, walk down to the bucket holding the k-th largest and select inside
// that bucket only.
#include <algorithm>
#include <functional>
#include <limits>

#include "sampler-internal.h"
#include "sampler.h"
#include "vector-math.h"

namespace servellm {

double Sampler::KthLargest(int32_t vocab, int32_t k, double lower) {
  // The k-th largest weight among those >= lower, or 0 if there are fewer than k (the
  // reference's sorted list is padded with the zeros of dropped tokens).
  const size_t n = static_cast<size_t>(vocab);
  const double* w = weights_.data();
  const double floor = lower > 0.0 ? lower : std::numeric_limits<double>::denorm_min();
  values_.clear();
  if (k <= kHeapLimit) {
    // Min-heap of the k largest so far; groups of 8 that cannot enter it are skipped without
    // branching on each weight.
    const std::greater<double> minOnTop;
    const auto offer = [&](double v) {
      if (!(v >= floor)) return;
      if (values_.size() < static_cast<size_t>(k)) {
        values_.push_back(v);
        std::push_heap(values_.begin(), values_.end(), minOnTop);
      } else if (v > values_.front()) {
        std::pop_heap(values_.begin(), values_.end(), minOnTop);
        values_.back() = v;
        std::push_heap(values_.begin(), values_.end(), minOnTop);
      }
    };
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const double bar = values_.size() < static_cast<size_t>(k) ? floor : values_.front();
      int any = 0;
      for (size_t j = 0; j < 8; ++j) any |= w[i + j] >= bar ? 1 : 0;
      if (any == 0) continue;
      for (size_t j = i; j < i + 8; ++j) offer(w[j]);
    }
    for (; i < n; ++i) offer(w[i]);
    return values_.size() < static_cast<size_t>(k) ? 0.0 : values_.front();
  }
  // Larger k: count weights per bucket of their top 16 bits, walk down from the top to the
  // bucket holding the k-th largest, and select inside that bucket only.
  const int64_t base = static_cast<int64_t>(DoubleBits(1.0) >> kLevel0Shift) - (kLevel0Buckets - 1);
  histogram_.assign(static_cast<size_t>(kLevel0Buckets), 0.0);
  for (size_t i = 0; i < n; ++i) {
    const double v = w[i] >= floor ? w[i] : 0.0;
    const int64_t b = static_cast<int64_t>(DoubleBits(v) >> kLevel0Shift) - base;
    histogram_[static_cast<size_t>(b < 0 ? 0 : (b >= kLevel0Buckets ? kLevel0Buckets - 1 : b))] +=
        v > 0.0 ? 1.0 : 0.0;
  }
  double above = 0.0;
  int64_t bucket = kLevel0Buckets - 1;
  for (; bucket >= 0; --bucket) {
    if (above + histogram_[static_cast<size_t>(bucket)] >= static_cast<double>(k)) break;
    above += histogram_[static_cast<size_t>(bucket)];
  }
  if (bucket < 0) return 0.0;  // fewer than k weights >= lower
  const double from = bucket == 0 ? floor : FromBits(static_cast<uint64_t>(bucket + base) << kLevel0Shift);
  const double to = bucket == kLevel0Buckets - 1
                        ? kInf
                        : FromBits(static_cast<uint64_t>(bucket + 1 + base) << kLevel0Shift);
  region_.clear();
  CollectInRange(w, std::max(from, floor), to, n, region_);
  const size_t need = static_cast<size_t>(k) - static_cast<size_t>(above);  // 1-based in bucket
  std::nth_element(region_.begin(), region_.begin() + static_cast<std::ptrdiff_t>(need - 1),
                   region_.end(), [](const Candidate& a, const Candidate& b) { return a.w > b.w; });
  return region_[need - 1].w;
}

}  // namespace servellm
