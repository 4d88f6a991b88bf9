// NativeDecodeResult as plain C++ data (see decode-result.h).
//
// Owns: defaults and the JS object shape.
#include "decode-result.h"

#include <cstring>
#include <functional>
#include <limits>

#include "addon-data.h"
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

namespace {

// Byte size of `values`, rounded up to 8 so every array that follows stays aligned.
template <typename T>
size_t PaddedBytes(const std::vector<T>& values) {
  return (values.size() * sizeof(T) + 7) & ~size_t{7};
}

// A view of `values.size()` elements at `offset` of `buffer`, after copying `values` there.
template <typename T>
Napi::TypedArrayOf<T> ViewOf(Napi::Env env, Napi::ArrayBuffer buffer, size_t& offset,
                             const std::vector<T>& values) {
  if (!values.empty()) {
    std::memcpy(static_cast<uint8_t*>(buffer.Data()) + offset, values.data(),
                values.size() * sizeof(T));
  }
  Napi::TypedArrayOf<T> view = Napi::TypedArrayOf<T>::New(env, values.size(), buffer, offset);
  offset += PaddedBytes(values);
  return view;
}

}  // namespace

Napi::Object DecodeResultData::ToJs(Napi::Env env) const {
  // One backing store for every array (views of it): one allocation per decode instead of
  // eleven, and cached property keys (addon-data.h).
  const size_t bytes = PaddedBytes(tokens) + PaddedBytes(logprobs) + PaddedBytes(ranks) +
                       PaddedBytes(topTokens) + PaddedBytes(topLogprobs) +
                       PaddedBytes(targetLogprobs) + PaddedBytes(targetRanks) +
                       PaddedBytes(logits) + PaddedBytes(embeddings) +
                       PaddedBytes(embeddingSequenceIds);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  size_t offset = 0;
  AddonData& data = GetAddonData(env);
  Napi::Object out = Napi::Object::New(env);
  out.Set(data.Key(env, "tokens"), ViewOf(env, buffer, offset, tokens));
  out.Set(data.Key(env, "logprobs"), ViewOf(env, buffer, offset, logprobs));
  out.Set(data.Key(env, "ranks"), ViewOf(env, buffer, offset, ranks));
  out.Set(data.Key(env, "topCount"), Napi::Number::New(env, topCount));
  out.Set(data.Key(env, "topTokens"), ViewOf(env, buffer, offset, topTokens));
  out.Set(data.Key(env, "topLogprobs"), ViewOf(env, buffer, offset, topLogprobs));
  out.Set(data.Key(env, "targetLogprobs"), ViewOf(env, buffer, offset, targetLogprobs));
  out.Set(data.Key(env, "targetRanks"), ViewOf(env, buffer, offset, targetRanks));
  out.Set(data.Key(env, "logits"), ViewOf(env, buffer, offset, logits));
  out.Set(data.Key(env, "embeddings"), ViewOf(env, buffer, offset, embeddings));
  out.Set(data.Key(env, "embeddingSequenceIds"), ViewOf(env, buffer, offset, embeddingSequenceIds));
  out.Set(data.Key(env, "decodeMs"), Napi::Number::New(env, decodeMs));
  out.Set(data.Key(env, "sampleMs"), Napi::Number::New(env, sampleMs));
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
