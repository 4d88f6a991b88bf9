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

namespace {

// Byte size of `values`, rounded up to 8 so every array that follows stays aligned.
template <typename T>
size_t PaddedBytes(const std::vector<T>& values) {
  return (values.size() * sizeof(T) + 7) & ~size_t{7};
}

template <typename T>
void Append(uint8_t* base, size_t& offset, const std::vector<T>& values) {
  if (!values.empty()) std::memcpy(base + offset, values.data(), values.size() * sizeof(T));
  offset += PaddedBytes(values);
}

}  // namespace

Napi::ArrayBuffer DecodeResultData::Pack(Napi::Env env) const {
  // Header, then every array back to back in one buffer (see decode-result.h): one allocation
  // per decode; the object and its views are built in JavaScript (decode-result-view.ts), which
  // costs a fraction of creating them through Node-API.
  const double header[kResultHeaderDoubles] = {
      static_cast<double>(tokens.size()),
      static_cast<double>(topCount),
      static_cast<double>(logits.size()),
      static_cast<double>(embeddings.size()),
      static_cast<double>(embeddingSequenceIds.size()),
      decodeMs,
      sampleMs,
      0.0,
  };
  const size_t bytes = sizeof header + PaddedBytes(tokens) + PaddedBytes(logprobs) +
                       PaddedBytes(ranks) + PaddedBytes(topTokens) + PaddedBytes(topLogprobs) +
                       PaddedBytes(targetLogprobs) + PaddedBytes(targetRanks) +
                       PaddedBytes(logits) + PaddedBytes(embeddings) +
                       PaddedBytes(embeddingSequenceIds);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  auto* base = static_cast<uint8_t*>(buffer.Data());
  std::memcpy(base, header, sizeof header);
  size_t offset = sizeof header;
  Append(base, offset, tokens);
  Append(base, offset, logprobs);
  Append(base, offset, ranks);
  Append(base, offset, topTokens);
  Append(base, offset, topLogprobs);
  Append(base, offset, targetLogprobs);
  Append(base, offset, targetRanks);
  Append(base, offset, logits);
  Append(base, offset, embeddings);
  Append(base, offset, embeddingSequenceIds);
  return buffer;
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
