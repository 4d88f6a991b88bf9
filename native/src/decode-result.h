// NativeDecodeResult as plain C++ data, filled off the JS thread and converted on it.
//
// Owns: the result layout (per-row arrays, top-N matrix with -1 / NaN padding, copied logits and
// embeddings) and its conversion to JS typed arrays. Nothing in here points into llama.cpp's
// buffers: the logits buffer is overwritten by the next decode, so everything is copied.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "parallel-rows.h"
#include "sampler.h"
#include "sampling-spec.h"

namespace servellm {

struct DecodeResultData {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::vector<int32_t> ranks;
  int32_t topCount = 0;
  std::vector<int32_t> topTokens;
  std::vector<float> topLogprobs;
  std::vector<float> targetLogprobs;
  std::vector<int32_t> targetRanks;
  std::vector<float> logits;
  std::vector<float> embeddings;
  std::vector<int32_t> embeddingSequenceIds;
  double decodeMs = 0.0;
  double sampleMs = 0.0;

  // Sizes every per-row array for `rows` rows with "nothing computed" values.
  void Reset(size_t rows, int32_t topCount, size_t logitRows, int32_t vocab);
  void Store(size_t row, const RowResult& result);

  Napi::Object ToJs(Napi::Env env) const;
};

// Scores / samples every row of `spec`; rowLogits[r] points at row r's vocab logits. Rows are
// spread over `team` (nullptr: the calling thread only), member m using samplers[m]. Throws
// SamplingError. `result` must be Reset for the spec first.
void SampleRows(std::vector<Sampler>& samplers, ParallelRows* team, const SamplingSpec& spec,
                const std::vector<const float*>& rowLogits, DecodeResultData& result);

}  // namespace servellm
