// NativeDecodeResult as plain C++ data, filled off the JS thread and converted on it.
//
// Owns: the result layout (per-row arrays, top-N matrix with -1 / NaN padding, copied logits and
// embeddings) and its packing for JS. Nothing in here points into llama.cpp's buffers: the logits
// buffer is overwritten by the next decode, so everything is copied.
//
// Packed form (one ArrayBuffer; src/backend/llama/decode-result-view.ts turns it into the
// NativeDecodeResult object): a header of
// kResultHeaderDoubles float64 [rows, topCount, logits length, embeddings length, embedding
// vector count, decodeMs, sampleMs, 0], then tokens (int32 x rows), logprobs (float32 x rows),
// ranks (int32 x rows), topTokens (int32 x rows*topCount), topLogprobs (float32 x rows*topCount),
// targetLogprobs (float32 x rows), targetRanks (int32 x rows), logits (float32), embeddings
// (float32), embeddingSequenceIds (int32), each starting at a multiple of 8 bytes.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "parallel-rows.h"
#include "sampler.h"
#include "sampling-spec.h"

namespace servellm {

constexpr size_t kResultHeaderDoubles = 8;

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

  // The packed form described above.
  Napi::ArrayBuffer Pack(Napi::Env env) const;
};

// Scores / samples every row of `spec`; rowLogits[r] points at row r's vocab logits. Rows are
// spread over `team` (nullptr: the calling thread only), member m using samplers[m]. Throws
// SamplingError. `result` must be Reset for the spec first.
void SampleRows(std::vector<Sampler>& samplers, ParallelRows* team, const SamplingSpec& spec,
                const std::vector<const float*>& rowLogits, DecodeResultData& result);

}  // namespace servellm
