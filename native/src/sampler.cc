// Scoring and sampling of one row of logits (see sampler.h).
//
// Owns: the per-row algorithm and its performance shape (a 32k vocabulary costs ~0.1 ms): the
// raw logprobs, ranks and top-N, greedy, and the draw. Truncation works on the unnormalized
// weights w = exp(l / T - max) (so w_max = 1) and ends as a single threshold, which avoids every
// normalization pass and full sort:
//   min-p:  p < minP * p_max  <=>  w < minP;
//   top-k:  w below the k-th largest weight (top-k-select.cc);
//   top-p:  drop the ascending prefix whose running sum stays <= (1 - p) * sum(kept w), found
//           with a histogram of the weights' bit patterns (top-p-cut.cc);
//   draw:   u * sum(kept w) located by per-block sums, then token by token inside one block.
// Sums use fixed lanes (vector-math), so results are identical on every CPU.
#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sampler-internal.h"
#include "vector-math.h"

namespace servellm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Tokens per block of the draw's block sums.
constexpr size_t kDrawBlock = 64;

inline bool Allowed(const uint32_t* mask, int32_t token) {
  return mask == nullptr || ((mask[token >> 5] >> (token & 31)) & 1u) != 0;
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
  const bool greedy =
      static_cast<double>(request.temperature) < kGreedyTemperatureEpsilon;
  if (request.sample && greedy && !request.scoreSample && request.topLogprobs == 0 &&
      request.targetToken < 0) {
    // Nothing to score: the argmax of the (biased, penalized, masked) logits is the whole answer.
    result.token = Greedy(DrawLogits(logits, vocab, request, row), vocab, request.allowedMask,
                          row);
    return;
  }

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
    // Biases and penalties change the draw only: the scores below keep reading the raw logits.
    const float* draw = DrawLogits(logits, vocab, request, row);
    if (greedy) {
      token = Greedy(draw, vocab, mask, row);
    } else {
      const float drawMax = draw == logits ? maxLogit : MaxOf(draw, n);
      double shift = static_cast<double>(drawMax);
      if (request.temperature != 1.0f || mask != nullptr || draw != logits) {
        // Division by a positive number is monotone, so max(l / T) = (max l) / T exactly.
        const double temperature = static_cast<double>(request.temperature);
        const float maxAllowed = mask == nullptr ? drawMax : MaxAllowed(draw, mask, n);
        shift = static_cast<double>(maxAllowed) / temperature;
        if (shift != -kInf) {
          if (mask == nullptr) {
            ExpShiftedSum(draw, temperature, shift, weights_.data(), n);
          } else {
            ExpShiftedSumMasked(draw, mask, temperature, shift, weights_.data(), n);
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
    if (request.scoreSample) {
      result.logprob = static_cast<float>(static_cast<double>(logits[token]) - logZ);
      result.rank = static_cast<int32_t>(CountAtLeast(logits, logits[token], n));
    }
  }
  if (request.targetToken >= 0) {
    const int32_t t = request.targetToken;
    result.targetLogprob = static_cast<float>(static_cast<double>(logits[t]) - logZ);
    result.targetRank = static_cast<int32_t>(CountAtLeast(logits, logits[t], n));
  }
  if (request.topLogprobs > 0) {
    TopLogprobs(logits, vocab, logZ, request.topLogprobs, topTokens, topLogprobs);
  }
}

const float* Sampler::DrawLogits(const float* logits, int32_t vocab, const RowRequest& request,
                                 int32_t row) {
  if (request.biasCount == 0 && request.penaltyCount == 0) return logits;
  processed_.assign(logits, logits + vocab);
  constexpr float kFloatInf = std::numeric_limits<float>::infinity();
  for (int32_t i = 0; i < request.biasCount; ++i) {
    const int32_t t = request.biasTokens[i];
    const float value = processed_[static_cast<size_t>(t)] + request.biasValues[i];
    if (value == kFloatInf) {
      throw SamplingError("row " + std::to_string(row) + ": logits[" + std::to_string(t) +
                          "] plus its logit bias overflows to +Infinity");
    }
    processed_[static_cast<size_t>(t)] = value;
  }
  // vLLM's apply_penalties, every step a float operation rounded to float (no FMA contraction:
  // the build passes -ffp-contract=off), in the reference's order (applyPenalties):
  // repetition (divide a positive logit, multiply the others), then, for tokens of the output
  // (count > 0), minus frequency * count (the product rounded first), then minus presence.
  const float repetition = request.repetition;
  const float frequency = request.frequency;
  const float presence = request.presence;
  for (int32_t i = 0; i < request.penaltyCount; ++i) {
    const int32_t t = request.penaltyTokens[i];
    const float x = processed_[static_cast<size_t>(t)];
    float value = x > 0.0f ? x / repetition : x * repetition;
    const int32_t count = request.penaltyCounts[i];
    if (count > 0) {
      const float scaled = frequency * static_cast<float>(count);
      value = value - scaled;
      value = value - presence;
    }
    if (!(value < kFloatInf)) {
      throw SamplingError("row " + std::to_string(row) + ": logits[" + std::to_string(t) +
                          "] with its penalties is " + (std::isnan(value) ? "NaN" : "+Infinity") +
                          " (logits must stay finite or -Infinity)");
    }
    processed_[static_cast<size_t>(t)] = value;
  }
  return processed_.data();
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
