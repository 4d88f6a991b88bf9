// NativeBatch checked and copied into C++ on the JS thread.
//
// Owns: every rule that keeps a batch from reaching one of llama.cpp's assertions, with a JS
// error naming the field, the bound and the value instead: array types and equal lengths,
// 1 <= n <= batch size (<= micro-batch size where llama.cpp needs the batch in one micro-batch:
// embeddings, non-causal or memory-less models), token ids in [0, vocab), sequence ids in
// [0, maxSequences), positions >= 0, and per sequence the positions llama_batch_allocr::init
// demands: non-decreasing in batch order, without gaps, continuing the sequence's last position in
// the KV memory (skipped for multi-position RoPE models, which llama.cpp checks itself).
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

struct llama_context;
struct llama_batch;

namespace servellm {

struct BatchLimits {
  int32_t vocab = 0;
  int32_t maxTokens = 0;  // llama_n_batch, or llama_n_ubatch when singleMicroBatch
  bool singleMicroBatch = false;
  int32_t maxSequences = 0;
  bool checkPositionContinuity = true;
};

struct BatchData {
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;
  std::vector<int32_t> sequenceIds;
  std::vector<uint8_t> outputs;
  std::vector<int32_t> outputIndices;  // batch index of each output row, in batch order

  // Storage for the llama_batch view (rebuilt by View()).
  std::vector<int32_t> nSeqId;
  std::vector<int32_t*> seqIdPointers;
  std::vector<int8_t> logitFlags;

  size_t Size() const { return tokens.size(); }
  // A llama_batch pointing into this object; `allOutputs` flags every token for output.
  llama_batch View(bool allOutputs);
};

// Throws TypeError / RangeError. Reads the KV memory of `context` (JS thread, context idle).
BatchData ParseBatch(Napi::Env env, Napi::Value value, const BatchLimits& limits,
                     llama_context* context, const char* name);

}  // namespace servellm
