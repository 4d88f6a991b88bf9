// NativeDecodeResult as plain C++ data (see decode-result.h).
//
// Owns: defaults and the JS object shape.
#include "decode-result.h"

#include <cstring>
#include <functional>
#include <limits>

#include "js-args.h"

namespace servellm {

void DecodeResultData::Reset(size_t rows, int32_t top, size_t logitRows, int32_t vocab) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  topCount = top;
  tokens.assign(rows, -1);
  logprobs.assign(rows, nan);
  ranks.assign(rows, 0);
  topTokens.assign(rows * static_cast<size_t>(top), -1);
  topLogprobs.assign(rows * static_cast<size_t>(top), nan);
  targetLogprobs.assign(rows, nan);
  targetRanks.assign(rows, 0);
  logits.assign(logitRows * static_cast<size_t>(vocab), 0.0f);
  embeddings.clear();
  embeddingSequenceIds.clear();
}

void DecodeResultData::Store(size_t row, const RowResult& result) {
  tokens[row] = result.token;
  logprobs[row] = result.logprob;
  ranks[row] = result.rank;
  targetLogprobs[row] = result.targetLogprob;
  targetRanks[row] = result.targetRank;
}

Napi::Object DecodeResultData::ToJs(Napi::Env env) const {
  Napi::Object out = Napi::Object::New(env);
  out.Set("tokens", ToInt32Array(env, tokens));
  out.Set("logprobs", ToFloat32Array(env, logprobs));
  out.Set("ranks", ToInt32Array(env, ranks));
  out.Set("topCount", Napi::Number::New(env, topCount));
  out.Set("topTokens", ToInt32Array(env, topTokens));
  out.Set("topLogprobs", ToFloat32Array(env, topLogprobs));
  out.Set("targetLogprobs", ToFloat32Array(env, targetLogprobs));
  out.Set("targetRanks", ToInt32Array(env, targetRanks));
  out.Set("logits", ToFloat32Array(env, logits));
  out.Set("embeddings", ToFloat32Array(env, embeddings));
  out.Set("embeddingSequenceIds", ToInt32Array(env, embeddingSequenceIds));
  out.Set("decodeMs", Napi::Number::New(env, decodeMs));
  out.Set("sampleMs", Napi::Number::New(env, sampleMs));
  return out;
}

void SampleRows(std::vector<Sampler>& samplers, ParallelRows* team, const SamplingSpec& spec,
                const std::vector<const float*>& rowLogits, DecodeResultData& result) {
  const size_t vocab = static_cast<size_t>(spec.vocab);
  std::vector<size_t> logitSlot(spec.rows, 0);
  for (size_t r = 0, slot = 0; r < spec.rows; ++r) {
    if (spec.returnLogits[r] != 0) logitSlot[r] = slot++;
  }
  const std::function<void(size_t, size_t)> work = [&](size_t member, size_t r) {
    const float* logits = rowLogits[r];
    if (spec.returnLogits[r] != 0) {
      std::memcpy(result.logits.data() + logitSlot[r] * vocab, logits, vocab * sizeof(float));
    }
    RowResult row;
    const size_t topOffset = r * static_cast<size_t>(result.topCount);
    samplers[member].Run(logits, spec.vocab, spec.Request(r), static_cast<int32_t>(r), row,
                         result.topTokens.data() + topOffset, result.topLogprobs.data() + topOffset);
    result.Store(r, row);
  };
  if (team != nullptr) {
    team->Run(spec.rows, work);
  } else {
    for (size_t r = 0; r < spec.rows; ++r) work(0, r);
  }
}

}  // namespace servellm
