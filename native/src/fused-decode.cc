// One fused decode of a context (see fused-decode.h).
#include "fused-decode.h"

#include <chrono>
#include <exception>
#include <vector>

#include "llama.h"

namespace servellm {
namespace {

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::string ExtractEmbeddings(ContextState& state, const BatchData& batch,
                              DecodeResultData& result) {
  const llama_model* model = state.model->model;
  const int32_t width = llama_model_n_embd_out(model);
  if (state.config.poolingType != LLAMA_POOLING_TYPE_NONE) {
    const bool rank = state.config.poolingType == LLAMA_POOLING_TYPE_RANK;
    const int32_t count = rank ? static_cast<int32_t>(llama_model_n_cls_out(model)) : width;
    const size_t dim = static_cast<size_t>(count > 0 ? count : 1);
    std::vector<bool> seen(static_cast<size_t>(state.config.maxSequences), false);
    for (size_t i = 0; i < batch.Size(); ++i) {
      const int32_t seq = batch.sequenceIds[i];
      if (seen[static_cast<size_t>(seq)]) continue;
      seen[static_cast<size_t>(seq)] = true;
      const float* vector = llama_get_embeddings_seq(state.context, seq);
      if (vector == nullptr) {
        return "llama.cpp returned no pooled embedding for sequence " + std::to_string(seq);
      }
      result.embeddings.insert(result.embeddings.end(), vector, vector + dim);
      result.embeddingSequenceIds.push_back(seq);
    }
    return "";
  }
  for (const int32_t index : batch.outputIndices) {
    const float* vector = llama_get_embeddings_ith(state.context, index);
    if (vector == nullptr) {
      return "llama.cpp returned no embedding for batch index " + std::to_string(index);
    }
    result.embeddings.insert(result.embeddings.end(), vector, vector + width);
    result.embeddingSequenceIds.push_back(batch.sequenceIds[static_cast<size_t>(index)]);
  }
  return "";
}

}  // namespace

std::string RunFusedDecode(ContextState& state, BatchData& batch,
                           const std::optional<SamplingSpec>& spec, DecodeResultData& result) {
  const int32_t vocab = state.model->info.vocabSize;
  const size_t rows = batch.outputIndices.size();

  const auto decodeStart = std::chrono::steady_clock::now();
  const int32_t code = state.Decode(batch);
  result.decodeMs = MillisecondsSince(decodeStart);
  if (code != 0) return DecodeErrorMessage(code);

  const auto sampleStart = std::chrono::steady_clock::now();
  std::string error;
  if (state.config.embeddings) {
    result.Reset(rows, 0, 0, vocab);
    error = ExtractEmbeddings(state, batch, result);
  } else if (!spec) {
    result.Reset(rows, 0, 0, vocab);
  } else {
    result.Reset(rows, spec->topCount, spec->logitRows, vocab);
    // Row pointers first, on this thread (the first call reorders llama.cpp's output buffer);
    // they stay valid until the next decode.
    std::vector<const float*> rowLogits(rows);
    for (size_t r = 0; r < rows; ++r) {
      rowLogits[r] = llama_get_logits_ith(state.context, batch.outputIndices[r]);
      if (rowLogits[r] == nullptr) {
        return "row " + std::to_string(r) + ": llama.cpp has no logits for batch index " +
               std::to_string(batch.outputIndices[r]);
      }
    }
    try {
      SampleRows(state.samplers, state.team.get(), *spec, rowLogits, result);
    } catch (const std::exception& exception) {
      error = exception.what();
    }
  }
  result.sampleMs = MillisecondsSince(sampleStart);
  return error;
}

}  // namespace servellm
