// A llama_context with its thread pool, configuration and sampler scratch.
//
// Owns: the llama_context's lifetime and the decode call itself. Shared (std::shared_ptr) by the
// JS Context object and an in-flight decode worker; it holds its ModelState, so a context always
// keeps its model alive. `busy` is read and written on the JS thread only: set when a decode is
// queued, cleared when its result (or error) is delivered.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch-validation.h"
#include "model-state.h"
#include "parallel-rows.h"
#include "sampler.h"
#include "threadpool.h"

struct llama_context;

namespace servellm {

struct ContextRequest {
  int32_t contextSize = 0;
  int32_t batchSize = 0;
  int32_t microBatchSize = 0;
  int32_t maxSequences = 0;
  bool unifiedKv = true;
  int32_t threads = 1;
  int flashAttention = -1;  // llama_flash_attn_type
  bool embeddings = false;
};

struct ContextConfig {
  int32_t contextSize = 0;
  int32_t sequenceContextSize = 0;
  int32_t batchSize = 0;
  int32_t microBatchSize = 0;
  int32_t maxSequences = 0;
  bool unifiedKv = true;
  int32_t threads = 1;
  bool embeddings = false;
  int poolingType = 0;  // llama_pooling_type in effect
  bool hasMemory = true;
  bool singleMicroBatch = false;  // a batch must fit one micro-batch (see batch-validation.h)
};

struct ContextState {
  ContextState(std::shared_ptr<ModelState> model, llama_context* context,
               std::unique_ptr<ThreadPool> pool, ContextConfig config);
  ~ContextState();
  ContextState(const ContextState&) = delete;
  ContextState& operator=(const ContextState&) = delete;

  // Frees the llama_context and the pool and releases the model (JS thread, not busy).
  void Release();
  bool Released() const { return context == nullptr; }
  BatchLimits Limits() const;

  // llama_decode on the calling thread; the pool keeps polling afterwards. Returns its code.
  int32_t Decode(BatchData& batch);

  std::shared_ptr<ModelState> model;
  llama_context* context;
  std::unique_ptr<ThreadPool> pool;
  const ContextConfig config;
  std::vector<Sampler> samplers;         // one per member of `team` (used by the in-flight decode)
  std::unique_ptr<ParallelRows> team;    // threads - 1 helpers that split the output rows
  bool busy = false;
};

// Creates the context and its pool (any thread). Throws std::runtime_error.
std::shared_ptr<ContextState> CreateContextState(std::shared_ptr<ModelState> model,
                                                 const ContextRequest& request);

// "llama_decode returned 1: no KV slot ..." for a non-zero code.
std::string DecodeErrorMessage(int32_t code);

}  // namespace servellm
