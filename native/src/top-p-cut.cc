// The top-p cut of the sampler: Sampler::TopPCut and Sampler::ScanRegion (see sampler.h).
//
// Owns: vLLM's top-p rule on the unnormalized weights: drop the ascending prefix (weight
// ascending, ties: higher id first) whose running sum stays <= (1 - p) * sum(kept w), never the
// largest weight. The cut is found with a histogram of the weights' bit patterns (positive
// doubles order like their bits): buckets surely below the budget are dropped whole, buckets
// surely above kept whole, and only the candidates of the boundary bucket are refined on the
// next bits of the weight, then sorted.
#include <algorithm>
#include <cmath>
#include <utility>

#include "sampler-internal.h"
#include "sampler.h"
#include "vector-math.h"

namespace servellm {
namespace {

// Histogram levels: entry 0 is level 0 (see sampler-internal.h); the deeper levels refine one
// level-0 bucket on the next 11 bits of the weight, four times, then on the last 4.
constexpr int kLevelShifts[] = {48, 37, 26, 15, 4, 0};
constexpr int kLevelBits[] = {0, 11, 11, 11, 11, 4};
constexpr int kLevels = 6;

// Order of the reference's top-p sort: ascending weight, ties by higher id first.
inline bool AscendingForTopP(double aw, int32_t aid, double bw, int32_t bid) {
  return aw < bw || (aw == bw && aid > bid);
}

}  // namespace

bool Sampler::TopPCut(int32_t vocab, double threshold, double dropFraction, bool few,
                      Candidate& cut) {
  // Candidates are the tokens with w > threshold; the budget is dropFraction times their total.
  // Returns the last dropped candidate (in the ascending order), if any is dropped.
  const size_t n = static_cast<size_t>(vocab);
  const double* w = weights_.data();
  if (few) {
    // After a small top-k only a handful remain (unless many tie): sort them all.
    region_.clear();
    CollectInRange(w, std::nextafter(threshold, kInf), kInf, n, region_);
    if (region_.size() <= kExactSortLimit) {
      double total = 0.0;
      int32_t protectedId = -1;
      for (const Candidate& c : region_) {
        total += c.w;
        if (c.w == 1.0 && protectedId < 0) protectedId = c.id;
      }
      if (!ScanRegion(region_, 0.0, dropFraction * total, protectedId, cut)) return false;
      for (const Candidate& c : region_) {
        if (c.w == cut.w && c.id < cut.id) ties_.push_back(c);
      }
      return true;
    }
  }
  // The largest weight is exp(0) = 1 exactly; the first token holding it is never dropped (it is
  // the last in the ascending order).
  // (found below among the collected candidates: all weights equal to 1 share one bucket)
  int32_t protectedId = -1;

  // Level 0: histogram of the candidates' weights. Buckets are monotone in the weight, so a
  // bucket range is a weight range: [BucketStart(b), BucketStart(b + 1)).
  const int64_t base = static_cast<int64_t>(DoubleBits(1.0) >> kLevel0Shift) - (kLevel0Buckets - 1);
  const auto level0Bucket = [&](double value) {
    const int64_t b = static_cast<int64_t>(DoubleBits(value) >> kLevel0Shift) - base;
    return static_cast<size_t>(b < 0 ? 0 : (b >= kLevel0Buckets ? kLevel0Buckets - 1 : b));
  };
  const auto bucketStart = [&](size_t b) {
    if (b == 0) return 0.0;
    if (b >= static_cast<size_t>(kLevel0Buckets)) return kInf;
    return FromBits(static_cast<uint64_t>(static_cast<int64_t>(b) + base) << kLevel0Shift);
  };
  const size_t buckets0 = static_cast<size_t>(kLevel0Buckets);
  // Four interleaved histograms break the load-add-store chain of equal consecutive buckets.
  histogram_.assign(4 * buckets0, 0.0);
  {
    double* mass = histogram_.data();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      for (size_t j = 0; j < 4; ++j) {
        const double v = w[i + j] > threshold ? w[i + j] : 0.0;
        mass[j * buckets0 + level0Bucket(v)] += v;
      }
    }
    for (; i < n; ++i) {
      const double v = w[i] > threshold ? w[i] : 0.0;
      mass[level0Bucket(v)] += v;
    }
    for (size_t b = 0; b < buckets0; ++b) {
      mass[b] = (mass[b] + mass[buckets0 + b]) + (mass[2 * buckets0 + b] + mass[3 * buckets0 + b]);
    }
  }
  double total = 0.0;
  for (size_t b = 0; b < buckets0; ++b) total += histogram_[b];
  const double budget = dropFraction * total;
  // The margin covers the rounding difference between bucket sums and a running sum.
  const double margin = budget * 1e-9;

  // low: first bucket not surely dropped; high: first bucket surely kept; previous: the last
  // non-empty bucket before low.
  const auto findRange = [&](const double* mass, size_t buckets, double before, size_t& low,
                             size_t& high, size_t& previous, double& beforeLow) {
    low = buckets;
    high = buckets;
    previous = buckets;
    beforeLow = before;
    double cumulative = before;
    for (size_t b = 0; b < buckets; ++b) {
      const double m = mass[b];
      if (m == 0.0) continue;
      if (low == buckets) {
        if (cumulative + m > budget - margin) {
          low = b;
          beforeLow = cumulative;
        } else {
          previous = b;
        }
      }
      if (cumulative > budget + margin) {
        high = b;
        break;
      }
      cumulative += m;
    }
  };
  size_t low;
  size_t high;
  size_t previous;
  double before;
  findRange(histogram_.data(), buckets0, 0.0, low, high, previous, before);

  // One branch-free pass collects the candidates of [previous, high): those below `low` are all
  // dropped (the last dropped is the largest of them, lowest id among equals; buckets before
  // `previous` hold smaller weights), those in [low, high) form the region to resolve.
  const double lowStart = bucketStart(low);
  const double highStart = bucketStart(high);
  const double collectStart = previous < buckets0 ? bucketStart(previous) : lowStart;
  nextRegion_.clear();
  const double collectFloor = std::max(collectStart, std::nextafter(threshold, kInf));
  CollectInRange(w, collectFloor, highStart, n, nextRegion_);
  const size_t collected = nextRegion_.size();
  bool dropped = false;
  Candidate lastDropped{0.0, -1};
  const auto noteDropped = [&](const Candidate& c) {
    if (c.id == protectedId) return;
    if (!dropped || c.w > lastDropped.w || (c.w == lastDropped.w && c.id < lastDropped.id)) {
      lastDropped = c;
      dropped = true;
    }
  };
  for (size_t k = 0; k < collected; ++k) {
    const Candidate& c = nextRegion_[k];
    if (c.w == 1.0 && (protectedId < 0 || c.id < protectedId)) protectedId = c.id;
  }
  region_.clear();
  for (size_t k = 0; k < collected; ++k) {
    const Candidate& c = nextRegion_[k];
    if (c.w < lowStart) {
      noteDropped(c);
    } else {
      region_.push_back(c);
    }
  }

  // Deeper levels refine a region of one level-0 bucket (not the clamped bucket 0) on the next
  // bits of the weight, until it is small enough to sort.
  bool single = low + 1 == high || (high == buckets0 && low == buckets0 - 1);
  if (single && low == 0) single = false;
  for (int level = 1; level < kLevels && single && region_.size() > kExactSortLimit; ++level) {
    const int shift = kLevelShifts[level];
    const uint64_t levelMask = (uint64_t{1} << kLevelBits[level]) - 1;
    const size_t buckets = static_cast<size_t>(levelMask + 1);
    const auto bucketOf = [&](double value) {
      return static_cast<size_t>((DoubleBits(value) >> shift) & levelMask);
    };
    histogram_.assign(buckets, 0.0);
    for (const Candidate& c : region_) histogram_[bucketOf(c.w)] += c.w;
    size_t subLow;
    size_t subHigh;
    size_t subPrevious;
    double subBefore;
    findRange(histogram_.data(), buckets, before, subLow, subHigh, subPrevious, subBefore);
    nextRegion_.clear();
    size_t firstBucket = buckets;
    for (const Candidate& c : region_) {
      const size_t b = bucketOf(c.w);
      if (b < subLow) {
        noteDropped(c);
      } else if (b < subHigh) {
        nextRegion_.push_back(c);
        if (firstBucket == buckets) firstBucket = b;
        if (b != firstBucket) single = false;
      }
    }
    std::swap(region_, nextRegion_);
    before = subBefore;
  }

  Candidate regionCut{0.0, -1};
  if (!region_.empty() && ScanRegion(region_, before, budget, protectedId, regionCut)) {
    lastDropped = regionCut;
    dropped = true;
    for (const Candidate& c : region_) {
      if (c.w == regionCut.w && c.id < regionCut.id) ties_.push_back(c);
    }
  }
  if (dropped) cut = lastDropped;
  return dropped;
}

bool Sampler::ScanRegion(std::vector<Candidate>& region, double cumulative, double budget,
                         int32_t protectedId, Candidate& cut) {
  // Regions are collected in ascending id order; equal weights only need reversing.
  const bool allEqual = std::all_of(region.begin(), region.end(),
                                    [&](const Candidate& c) { return c.w == region.front().w; });
  if (allEqual) {
    std::reverse(region.begin(), region.end());
  } else {
    std::sort(region.begin(), region.end(), [](const Candidate& a, const Candidate& b) {
      return AscendingForTopP(a.w, a.id, b.w, b.id);
    });
  }
  bool dropped = false;
  for (const Candidate& c : region) {
    if (c.id == protectedId) break;
    cumulative += c.w;
    if (!(cumulative <= budget)) break;
    cut = c;
    dropped = true;
  }
  return dropped;
}

}  // namespace servellm
