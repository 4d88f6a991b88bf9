// A llama_context with its thread pool, configuration and sampler scratch (see context-state.h).
//
// Owns: llama_init_from_model / llama_free, thread-pool attachment, the decode call.
#include "context-state.h"

#include <algorithm>
#include <stdexcept>

#include "abort-guard.h"
#include "llama.h"
#include "logger.h"

namespace servellm {

ContextState::ContextState(std::shared_ptr<ModelState> model, llama_context* context,
                           std::unique_ptr<ThreadPool> pool, ContextConfig config)
    : model(std::move(model)), context(context), pool(std::move(pool)), config(config) {
  // Rows rarely exceed 16 per step: more helpers than that would only sleep.
  const size_t helpers = static_cast<size_t>(std::min(config.threads, 16) - 1);
  team = std::make_unique<ParallelRows>(helpers);
  samplers.resize(team->Members());
}

ContextState::~ContextState() { Release(); }

void ContextState::Release() {
  if (context == nullptr) return;
  llama_free(context);  // before the pool it uses
  context = nullptr;
  pool.reset();
  team.reset();
  samplers.clear();
  model->liveContexts.fetch_sub(1);
  model.reset();
}

BatchLimits ContextState::Limits() const {
  BatchLimits limits;
  limits.vocab = model->info.vocabSize;
  limits.singleMicroBatch = config.singleMicroBatch;
  limits.maxTokens = config.singleMicroBatch ? config.microBatchSize : config.batchSize;
  limits.maxSequences = config.maxSequences;
  limits.checkPositionContinuity = !model->info.multiPositionRope;
  return limits;
}

int32_t ContextState::Decode(BatchData& batch) {
  // Embedding contexts flag every token: pooling needs all of them, and llama.cpp would
  // otherwise override the flags with a warning. Rows are still taken from `outputs`.
  const llama_batch view = batch.View(config.embeddings);
  Logger::TakeErrors();  // drop stale lines of this thread; a failure reports only its own
  // The pool is not paused here: its workers poll for the next graph (ggml's default, what
  // llama.cpp's own tools do), so a decode that follows within the polling window starts without
  // waking them. The engine pauses it when it runs out of work (Context::PauseThreads).
  return llama_decode(context, view);
}

std::shared_ptr<ContextState> CreateContextState(std::shared_ptr<ModelState> model,
                                                 const ContextRequest& request) {
  llama_context_params params = llama_context_default_params();
  params.n_ctx = static_cast<uint32_t>(request.contextSize);
  params.n_batch = static_cast<uint32_t>(request.batchSize);
  params.n_ubatch = static_cast<uint32_t>(request.microBatchSize);
  params.n_seq_max = static_cast<uint32_t>(request.maxSequences);
  params.n_outputs_max = 0;  // = n_batch: every token may be an output row
  params.n_threads = request.threads;
  params.n_threads_batch = request.threads;
  params.flash_attn_type = static_cast<llama_flash_attn_type>(request.flashAttention);
  params.embeddings = request.embeddings;
  params.kv_unified = request.unifiedKv;
  params.no_perf = true;

  auto pool = std::make_unique<ThreadPool>(request.threads);
  Logger::TakeErrors();
  llama_context* context = nullptr;
  {
    // Parameters llama.cpp checks only by asserting (see abort-guard.h): a creation error here.
    AbortGuard guard;
    context = llama_init_from_model(model->model, params);
  }
  if (context == nullptr) {
    const std::string reason = Logger::TakeErrors();
    throw std::runtime_error("createContext: llama.cpp could not create the context" +
                             (reason.empty() ? std::string() : ": " + reason));
  }
  llama_attach_threadpool(context, pool->Handle(), nullptr);

  ContextConfig config;
  config.contextSize = static_cast<int32_t>(llama_n_ctx(context));
  config.sequenceContextSize = static_cast<int32_t>(llama_n_ctx_seq(context));
  config.batchSize = static_cast<int32_t>(llama_n_batch(context));
  config.microBatchSize = static_cast<int32_t>(llama_n_ubatch(context));
  config.maxSequences = static_cast<int32_t>(llama_n_seq_max(context));
  config.unifiedKv = request.unifiedKv;
  config.threads = request.threads;
  config.embeddings = request.embeddings;
  config.poolingType = static_cast<int>(llama_pooling_type(context));
  config.hasMemory = llama_get_memory(context) != nullptr;
  config.singleMicroBatch = request.embeddings || !config.hasMemory || model->info.nonCausal;
  // The counter is incremented by the caller before creation started (see Model.createContext).
  return std::make_shared<ContextState>(std::move(model), context, std::move(pool), config);
}

std::string DecodeErrorMessage(int32_t code) {
  std::string meaning;
  switch (code) {
    case 1:
      meaning = "no KV slot for the batch (the context is full: remove sequences or decode fewer tokens)";
      break;
    case 2:
      meaning = "aborted (already processed micro-batches remain in the KV memory)";
      break;
    case -1:
      meaning = "invalid input batch";
      break;
    default:
      meaning = code < -1 ? "fatal error (already processed micro-batches remain in the KV memory)"
                          : "warning";
      break;
  }
  const std::string reason = Logger::TakeErrors();
  return "llama_decode returned " + std::to_string(code) + ": " + meaning +
         (reason.empty() ? std::string() : " (" + reason + ")");
}

}  // namespace servellm
