// One decode of a context off the JS thread (see decode-worker.h).
//
// Owns: the worker's three phases, timing, and the embedding extraction rules (pooled: one vector
// per distinct sequence of the batch in first-appearance order; unpooled: one per output row).
#include "decode-worker.h"

#include <chrono>
#include <exception>
#include <string>

#include "llama.h"

namespace servellm {
namespace {

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

DecodeWorker::DecodeWorker(Napi::Object context, std::shared_ptr<ContextState> state,
                           BatchData batch, std::optional<SamplingSpec> spec)
    : Napi::AsyncWorker(context.Env(), "servellm:decode"),
      deferred_(Napi::Promise::Deferred::New(context.Env())),
      context_(Napi::Persistent(context)),
      state_(std::move(state)),
      batch_(std::move(batch)),
      spec_(std::move(spec)) {}

void DecodeWorker::Execute() {
  ContextState& state = *state_;
  const int32_t vocab = state.model->info.vocabSize;
  const size_t rows = batch_.outputIndices.size();

  const auto decodeStart = std::chrono::steady_clock::now();
  const int32_t code = state.Decode(batch_);
  result_.decodeMs = MillisecondsSince(decodeStart);
  if (code != 0) {
    SetError(DecodeErrorMessage(code));
    return;
  }

  const auto sampleStart = std::chrono::steady_clock::now();
  if (state.config.embeddings) {
    result_.Reset(rows, 0, 0, vocab);
    ExtractEmbeddings();
  } else if (!spec_) {
    result_.Reset(rows, 0, 0, vocab);
  } else {
    result_.Reset(rows, spec_->topCount, spec_->logitRows, vocab);
    // Row pointers first, on this thread (the first call reorders llama.cpp's output buffer);
    // they stay valid until the next decode.
    std::vector<const float*> rowLogits(rows);
    for (size_t r = 0; r < rows; ++r) {
      rowLogits[r] = llama_get_logits_ith(state.context, batch_.outputIndices[r]);
      if (rowLogits[r] == nullptr) {
        SetError("row " + std::to_string(r) + ": llama.cpp has no logits for batch index " +
                 std::to_string(batch_.outputIndices[r]));
        return;
      }
    }
    try {
      SampleRows(state.samplers, state.team.get(), *spec_, rowLogits, result_);
    } catch (const std::exception& error) {
      SetError(error.what());
    }
  }
  result_.sampleMs = MillisecondsSince(sampleStart);
}

void DecodeWorker::ExtractEmbeddings() {
  ContextState& state = *state_;
  const llama_model* model = state.model->model;
  const int32_t width = llama_model_n_embd_out(model);
  if (state.config.poolingType != LLAMA_POOLING_TYPE_NONE) {
    const bool rank = state.config.poolingType == LLAMA_POOLING_TYPE_RANK;
    const int32_t count = rank ? static_cast<int32_t>(llama_model_n_cls_out(model)) : width;
    const size_t dim = static_cast<size_t>(count > 0 ? count : 1);
    std::vector<bool> seen(static_cast<size_t>(state.config.maxSequences), false);
    for (size_t i = 0; i < batch_.Size(); ++i) {
      const int32_t seq = batch_.sequenceIds[i];
      if (seen[static_cast<size_t>(seq)]) continue;
      seen[static_cast<size_t>(seq)] = true;
      const float* vector = llama_get_embeddings_seq(state.context, seq);
      if (vector == nullptr) {
        SetError("llama.cpp returned no pooled embedding for sequence " + std::to_string(seq));
        return;
      }
      result_.embeddings.insert(result_.embeddings.end(), vector, vector + dim);
      result_.embeddingSequenceIds.push_back(seq);
    }
    return;
  }
  for (const int32_t index : batch_.outputIndices) {
    const float* vector = llama_get_embeddings_ith(state.context, index);
    if (vector == nullptr) {
      SetError("llama.cpp returned no embedding for batch index " + std::to_string(index));
      return;
    }
    result_.embeddings.insert(result_.embeddings.end(), vector, vector + width);
    result_.embeddingSequenceIds.push_back(batch_.sequenceIds[static_cast<size_t>(index)]);
  }
}

void DecodeWorker::OnOK() {
  state_->busy = false;
  deferred_.Resolve(result_.ToJs(Env()));
}

void DecodeWorker::OnError(const Napi::Error& error) {
  state_->busy = false;
  deferred_.Reject(error.Value());
}

}  // namespace servellm
