// Scoring and sampling of one row of logits (see sampler.h).
//
// Owns: the per-row algorithm and its performance shape (a 32k vocabulary costs ~0.1 ms).
// Truncation works on the unnormalized weights w = exp(l / T - max) (so w_max = 1) and ends as a
// single threshold, which avoids every normalization pass and full sort:
//   min-p:  p < minP * p_max  <=>  w < minP;
//   top-k:  w below the k-th largest weight (heap scan, or nth_element for large k);
//   top-p:  drop the ascending prefix (weight ascending, ties: higher id first) whose running sum
//           stays <= (1 - p) * sum(kept w). The cut is found with a histogram of the weights'
//           bit patterns (positive doubles order like their bits): buckets surely below the
//           budget are dropped whole, buckets surely above kept whole, and only the candidates
//           of the boundary bucket are sorted;
//   draw:   u * sum(kept w) located by per-block sums, then token by token inside one block.
// Sums use fixed lanes (vector-math), so results are identical on every CPU.
#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "vector-math.h"

namespace servellm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Regions of at most this many candidates are sorted instead of refined further.
constexpr size_t kExactSortLimit = 256;
// Counts up to this use a heap scan; larger ones nth_element.
constexpr int32_t kHeapLimit = 64;
// Tokens per block of the draw's block sums.
constexpr size_t kDrawBlock = 64;
// Top-p histogram: level 0 buckets the top 16 bits of the weight (exponent + 4 mantissa bits)
// relative to the largest weight: 16 buckets per octave over 64 octaves, everything smaller in
// bucket 0 (its total is then below any budget a float32 top-p < 1 can give). Deeper levels take
// the next 11 bits, then the last 4.
constexpr int kLevel0Shift = 48;
constexpr int64_t kLevel0Buckets = 1024;
constexpr int kLevelShifts[] = {48, 37, 26, 15, 4, 0};
constexpr int kLevelBits[] = {0, 11, 11, 11, 11, 4};
constexpr int kLevels = 6;


inline bool Allowed(const uint32_t* mask, int32_t token) {
  return mask == nullptr || ((mask[token >> 5] >> (token & 31)) & 1u) != 0;
}

// Order of the reference's top-p sort: ascending weight, ties by higher id first.
inline bool AscendingForTopP(double aw, int32_t aid, double bw, int32_t bid) {
  return aw < bw || (aw == bw && aid > bid);
}

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

}  // namespace

double UniformFromSeed(uint64_t seed) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z = z ^ (z >> 31);
  return static_cast<double>(z >> 11) / 9007199254740992.0;  // 2^53
}

void Sampler::Run(const float* logits, int32_t vocab, const RowRequest& request, int32_t row,
                  RowResult& result, int32_t* topTokens, float* topLogprobs) {
  result = RowResult{};
  result.logprob = static_cast<float>(kNaN);
  result.targetLogprob = static_cast<float>(kNaN);
  const size_t n = static_cast<size_t>(vocab);

  if (CountInvalid(logits, n) != 0) {
    for (int32_t i = 0; i < vocab; ++i) {
      if (std::isnan(logits[i]) || logits[i] == std::numeric_limits<float>::infinity()) {
        throw SamplingError("row " + std::to_string(row) + ": logits[" + std::to_string(i) +
                            "] is " + (std::isnan(logits[i]) ? "NaN" : "+Infinity") +
                            " (logits must be finite or -Infinity)");
      }
    }
  }
  if (!request.sample && request.topLogprobs == 0 && request.targetToken < 0) return;

  // Raw log-softmax normalizer in float64. The weights double as the sampling weights when the
  // temperature is 1 and there is no mask.
  weights_.resize(n);
  const float maxLogit = MaxOf(logits, n);
  const double rawSum =
      ExpShiftedSum(logits, 1.0, static_cast<double>(maxLogit), weights_.data(), n);
  const double logZ = static_cast<double>(maxLogit) + std::log(rawSum);

  if (request.sample) {
    int32_t token;
    const uint32_t* mask = request.allowedMask;
    if (static_cast<double>(request.temperature) < kGreedyTemperatureEpsilon) {
      token = Greedy(logits, vocab, mask, row);
    } else {
      double shift = static_cast<double>(maxLogit);
      if (request.temperature != 1.0f || mask != nullptr) {
        // Division by a positive number is monotone, so max(l / T) = (max l) / T exactly.
        const double temperature = static_cast<double>(request.temperature);
        const float maxAllowed = mask == nullptr ? maxLogit : MaxAllowed(logits, mask, n);
        shift = static_cast<double>(maxAllowed) / temperature;
        if (shift != -kInf) {
          if (mask == nullptr) {
            ExpShiftedSum(logits, temperature, shift, weights_.data(), n);
          } else {
            ExpShiftedSumMasked(logits, mask, temperature, shift, weights_.data(), n);
          }
        }
      }
      if (shift == -kInf) {
        throw SamplingError("row " + std::to_string(row) +
                            ": no allowed token has a finite logit, nothing can be sampled");
      }
      token = Draw(vocab, Truncate(vocab, request), request.seed);
    }
    result.token = token;
    result.logprob = static_cast<float>(static_cast<double>(logits[token]) - logZ);
    result.rank = static_cast<int32_t>(1 + CountGreater(logits, logits[token], n));
  }
  if (request.targetToken >= 0) {
    const int32_t t = request.targetToken;
    result.targetLogprob = static_cast<float>(static_cast<double>(logits[t]) - logZ);
    result.targetRank = static_cast<int32_t>(1 + CountGreater(logits, logits[t], n));
  }
  if (request.topLogprobs > 0) {
    TopLogprobs(logits, vocab, logZ, request.topLogprobs, topTokens, topLogprobs);
  }
}

int32_t Sampler::Greedy(const float* logits, int32_t vocab, const uint32_t* mask,
                        int32_t row) const {
  // The first allowed token holding the largest allowed logit (a mask whose allowed tokens are
  // all -inf still yields its lowest allowed id, as in the reference).
  const size_t n = static_cast<size_t>(vocab);
  const float best = mask == nullptr ? MaxOf(logits, n) : MaxAllowed(logits, mask, n);
  for (int32_t i = 0; i < vocab; ++i) {
    if (logits[i] == best && Allowed(mask, i)) return i;
  }
  throw SamplingError("row " + std::to_string(row) + ": the allowed-token mask allows no token");
}

Sampler::Kept Sampler::Truncate(int32_t vocab, const RowRequest& request) {
  // Keep w >= lower (and w > 0); the largest weight is exp(0) = 1.
  double lower = 0.0;
  if (request.minP > 0.0f) lower = static_cast<double>(request.minP);
  if (request.topK > 0 && request.topK < vocab) {
    lower = std::max(lower, KthLargest(vocab, request.topK, lower));
  }
  Kept kept;
  kept.threshold = lower > 0.0 ? std::nextafter(lower, 0.0) : 0.0;  // w >= lower <=> w > this
  ties_.clear();
  if (request.topP < 1.0f) {
    Candidate cut{0.0, -1};
    const bool few = request.topK > 0 && request.topK <= static_cast<int32_t>(kExactSortLimit);
    if (TopPCut(vocab, kept.threshold, 1.0 - static_cast<double>(request.topP), few, cut)) {
      kept.threshold = cut.w;
      kept.tieBelow = cut.id;
    }
  }
  return kept;
}

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

int32_t Sampler::Draw(int32_t vocab, const Kept& kept, uint64_t seed) {
  const size_t n = static_cast<size_t>(vocab);
  const double* w = weights_.data();
  const double threshold = kept.threshold;
  const auto isKept = [&](size_t i) {
    return w[i] > threshold ||
           (w[i] == threshold && static_cast<int32_t>(i) < kept.tieBelow && w[i] > 0.0);
  };
  const size_t blocks = (n + kDrawBlock - 1) / kDrawBlock;
  blockSums_.resize(blocks);
  BlockSumsGreater(w, threshold, n, kDrawBlock, blockSums_.data());
  for (const Candidate& tie : ties_) {
    if (tie.id < kept.tieBelow) blockSums_[static_cast<size_t>(tie.id) / kDrawBlock] += tie.w;
  }
  double total = 0.0;
  for (const double sum : blockSums_) total += sum;
  const double target = UniformFromSeed(seed) * total;

  double cumulative = 0.0;
  for (size_t b = 0; b < blocks; ++b) {
    if (!(target < cumulative + blockSums_[b])) {
      cumulative += blockSums_[b];
      continue;
    }
    const size_t end = std::min(n, (b + 1) * kDrawBlock);
    for (size_t i = b * kDrawBlock; i < end; ++i) {
      if (!isKept(i)) continue;
      cumulative += w[i];
      if (target < cumulative) return static_cast<int32_t>(i);
    }
  }
  // Rounding left the target at the very end: the last kept token.
  for (size_t i = n; i-- > 0;) {
    if (isKept(i)) return static_cast<int32_t>(i);
  }
  return -1;
}

void Sampler::TopLogprobs(const float* logits, int32_t vocab, double logZ, int32_t count,
                          int32_t* tokens, float* logprobs) {
  // "a before b": higher logprob, ties by lower id.
  const auto before = [](const std::pair<double, int32_t>& a, const std::pair<double, int32_t>& b) {
    return a.first > b.first ||
           (!(a.first < b.first) && !(a.first > b.first) && a.second < b.second);
  };
  top_.clear();
  if (count <= kHeapLimit) {
    // Heap whose top is the worst kept entry. Ids only grow during the scan, so a later token
    // needs a strictly larger logit to enter: groups of 8 without one are skipped.
    const auto offer = [&](int32_t i) {
      const std::pair<double, int32_t> entry{static_cast<double>(logits[i]) - logZ, i};
      if (top_.size() < static_cast<size_t>(count)) {
        top_.push_back(entry);
        std::push_heap(top_.begin(), top_.end(), before);
      } else if (before(entry, top_.front())) {
        std::pop_heap(top_.begin(), top_.end(), before);
        top_.back() = entry;
        std::push_heap(top_.begin(), top_.end(), before);
      }
    };
    int32_t i = 0;
    for (; i + 8 <= vocab; i += 8) {
      if (top_.size() == static_cast<size_t>(count)) {
        const float bar = logits[top_.front().second];
        int any = 0;
        for (int32_t j = 0; j < 8; ++j) any |= logits[i + j] > bar ? 1 : 0;
        if (any == 0) continue;
      }
      for (int32_t j = i; j < i + 8; ++j) offer(j);
    }
    for (; i < vocab; ++i) offer(i);
    std::sort_heap(top_.begin(), top_.end(), before);
  } else {
    top_.reserve(static_cast<size_t>(vocab));
    for (int32_t i = 0; i < vocab; ++i) top_.push_back({static_cast<double>(logits[i]) - logZ, i});
    if (count < vocab) std::nth_element(top_.begin(), top_.begin() + count, top_.end(), before);
    std::sort(top_.begin(), top_.begin() + count, before);
  }
  for (int32_t j = 0; j < count; ++j) {
    tokens[j] = top_[static_cast<size_t>(j)].second;
    logprobs[j] = static_cast<float>(top_[static_cast<size_t>(j)].first);
  }
}

}  // namespace servellm
