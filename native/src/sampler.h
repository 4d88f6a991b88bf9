// Scoring and sampling of one row of logits, shared by the fused decode and sampleLogits.
//
// Owns: the sampler's definition in C++, which implements the TypeScript reference
// (src/backend/reference-sampler.ts): raw logprobs are the float64 log-softmax of the
// unprocessed logits; a rank counts the logits at least as high (vLLM's); top-N is by descending logprob, ties
// by lower id; the draw follows vLLM v1's order (logit bias -> penalties -> allowed-token mask ->
// temperature -> min-p -> top-k -> top-p) and takes u = splitmix64(seed) as a 53-bit uniform
// double, then the inverse CDF over the kept tokens in ascending id order. Biases and penalties
// are float operations in the reference's order (see DrawLogits), so the draw's logits are
// bit-identical to the reference's. The result depends on nothing but the row's logits,
// parameters and seed (not on the batch or the thread; see vector-math.h for the last-bit
// difference between instruction sets). It agrees with the reference up to float64 rounding:
// only a cumulative sum landing within ~1e-15 of a top-p cut or of u can differ. Nothing here
// touches N-API or llama.cpp; a Sampler holds only scratch memory, so one per thread is reused
// across rows and calls. The members are defined in sampler.cc, except the top-k selection
// (top-k-select.cc) and the top-p cut (top-p-cut.cc).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace servellm {

// Greedy below this temperature (vLLM's _SAMPLING_EPS).
constexpr double kGreedyTemperatureEpsilon = 1e-5;

// A row cannot be scored or sampled (NaN or +inf logits, or a mask that allows nothing).
class SamplingError : public std::runtime_error {
 public:
  explicit SamplingError(const std::string& message) : std::runtime_error(message) {}
};

// What to compute for one row. All values are assumed validated (see sampling-spec.h).
struct RowRequest {
  bool sample = false;
  float temperature = 0.0f;
  int32_t topK = 0;
  float topP = 1.0f;
  float minP = 0.0f;
  uint64_t seed = 0;
  int32_t topLogprobs = 0;
  int32_t targetToken = -1;
  // Report the drawn token's raw logprob and rank. Without it (and with no top-N or target), a
  // greedy row is one pass over the logits: no log-softmax normalizer.
  bool scoreSample = true;
  // ceil(vocab / 32) words; bit t%32 of word t/32 set = token t allowed. nullptr = no mask.
  const uint32_t* allowedMask = nullptr;
  // Additive logit biases (distinct tokens, finite values), added in float32 to a scratch copy
  // of the logits that only the draw sees. biasCount = 0: none (the draw reads the raw logits).
  int32_t biasCount = 0;
  const int32_t* biasTokens = nullptr;
  const float* biasValues = nullptr;
  // vLLM's penalties over penaltyCount distinct tokens (each with its output count >= 0),
  // applied after the biases in the same scratch copy (see DrawLogits). penaltyCount = 0: none.
  int32_t penaltyCount = 0;
  const int32_t* penaltyTokens = nullptr;
  const int32_t* penaltyCounts = nullptr;
  float repetition = 1.0f;  // > 0
  float frequency = 0.0f;
  float presence = 0.0f;
};

struct RowResult {
  int32_t token = -1;
  float logprob = 0.0f;  // NaN when not sampled (set by Run)
  int32_t rank = 0;
  float targetLogprob = 0.0f;  // NaN when no target (set by Run)
  int32_t targetRank = 0;
};

// splitmix64's first output for state `seed`, as a uniform double in [0, 1) with 53 bits.
double UniformFromSeed(uint64_t seed);

class Sampler {
 public:
  // Scores and (if request.sample) samples one row of `vocab` logits. Writes
  // request.topLogprobs entries to topTokens / topLogprobs (the caller pads the rest).
  // Throws SamplingError when the row cannot be processed; `row` names it in the message.
  void Run(const float* logits, int32_t vocab, const RowRequest& request, int32_t row,
           RowResult& result, int32_t* topTokens, float* topLogprobs);

 private:
  struct Candidate {
    double w;
    int32_t id;
  };
  // The kept set after truncation: token i is kept iff w[i] > threshold, or w[i] == threshold
  // and i < tieBelow (ties of the top-p cut are ordered by id, higher ids dropped first).
  struct Kept {
    double threshold = 0.0;
    int32_t tieBelow = -1;
  };

  // The draw's logits: `logits` itself when the request has no biases and no penalties, else
  // processed_ holding the logits with the request's biases, then its penalties, applied.
  const float* DrawLogits(const float* logits, int32_t vocab, const RowRequest& request,
                          int32_t row);
  int32_t Greedy(const float* logits, int32_t vocab, const uint32_t* mask, int32_t row) const;
  Kept Truncate(int32_t vocab, const RowRequest& request);
  int32_t Draw(int32_t vocab, const Kept& kept, uint64_t seed);
  void TopLogprobs(const float* logits, int32_t vocab, double logZ, int32_t count,
                   int32_t* tokens, float* logprobs);
  // In top-k-select.cc.
  double KthLargest(int32_t vocab, int32_t k, double lower);
  // In top-p-cut.cc.
  bool TopPCut(int32_t vocab, double threshold, double dropFraction, bool few, Candidate& cut);
  bool ScanRegion(std::vector<Candidate>& region, double cumulative, double budget,
                  int32_t protectedId, Candidate& cut);

  std::vector<float> processed_;  // biased / penalized logits (rows with either only)
  std::vector<double> weights_;   // exp(l / T - max): unnormalized probabilities
  std::vector<double> values_;
  std::vector<double> histogram_;
  std::vector<double> blockSums_;
  std::vector<Candidate> region_;
  std::vector<Candidate> nextRegion_;
  std::vector<Candidate> ties_;
  std::vector<std::pair<double, int32_t>> top_;
};

}  // namespace servellm
