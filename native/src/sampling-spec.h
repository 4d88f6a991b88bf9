// NativeSamplingSpec checked and copied into C++ on the JS thread.
//
// Owns: the validation of every per-row sampling array against the number of output rows and the
// vocabulary (lengths, types, ranges, mask sizes and indices, masks that allow no token, the CSR
// logit-bias and penalty arrays). The
// copy is what the decode worker reads, so JS may reuse its arrays as soon as decode() returns.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "sampler.h"

namespace servellm {

struct SamplingSpec {
  size_t rows = 0;
  int32_t vocab = 0;
  std::vector<uint8_t> sample;
  std::vector<float> temperature;
  std::vector<int32_t> topK;
  std::vector<float> topP;
  std::vector<float> minP;
  std::vector<uint64_t> seeds;
  std::vector<int32_t> topLogprobs;
  std::vector<int32_t> targetTokens;
  std::vector<uint8_t> returnLogits;
  // Per row: report the drawn token's raw logprob and rank (1) or not (0). Empty = all 1.
  std::vector<uint8_t> scoreSampled;
  std::vector<uint32_t> allowedMasks;
  std::vector<int32_t> maskIndex;  // empty = no masks
  size_t maskWords = 0;
  // CSR logit biases: row r's are [biasOffsets[r], biasOffsets[r + 1]). Empty = no biases.
  std::vector<int32_t> biasOffsets;
  std::vector<int32_t> biasTokens;
  std::vector<float> biasValues;
  // CSR penalties: row r's tokens and output counts are [penaltyOffsets[r],
  // penaltyOffsets[r + 1]); its parameters are repetition / frequency / presencePenalties[r].
  // Empty = no penalties.
  std::vector<int32_t> penaltyOffsets;
  std::vector<int32_t> penaltyTokens;
  std::vector<int32_t> penaltyCounts;
  std::vector<float> repetitionPenalties;
  std::vector<float> frequencyPenalties;
  std::vector<float> presencePenalties;
  int32_t topCount = 0;       // max over rows of topLogprobs
  size_t logitRows = 0;       // rows with returnLogits

  RowRequest Request(size_t row) const;
};

// `rows` = number of output rows the spec must describe. Throws TypeError / RangeError.
SamplingSpec ParseSamplingSpec(Napi::Env env, Napi::Value value, size_t rows, int32_t vocab,
                               const char* name);

}  // namespace servellm
