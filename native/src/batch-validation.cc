// NativeBatch checked and copied into C++ (see batch-validation.h).
//
// Owns: the rules listed in the header and the llama_batch view.
#include "batch-validation.h"

#include <string>

#include "js-args.h"
#include "llama.h"

namespace servellm {

llama_batch BatchData::View(bool allOutputs) {
  const size_t n = Size();
  nSeqId.assign(n, 1);
  seqIdPointers.resize(n);
  logitFlags.resize(n);
  for (size_t i = 0; i < n; ++i) {
    seqIdPointers[i] = &sequenceIds[i];
    logitFlags[i] = static_cast<int8_t>(allOutputs || outputs[i] != 0 ? 1 : 0);
  }
  llama_batch batch{};
  batch.n_tokens = static_cast<int32_t>(n);
  batch.token = tokens.data();
  batch.embd = nullptr;
  batch.pos = positions.data();
  batch.n_seq_id = nSeqId.data();
  batch.seq_id = seqIdPointers.data();
  batch.logits = logitFlags.data();
  return batch;
}

BatchData ParseBatch(Napi::Env env, Napi::Value value, const BatchLimits& limits,
                     llama_context* context, const char* name) {
  const std::string base = name;
  Napi::Object object = RequireObject(env, value, base);
  BatchData batch;
  const auto field = [&](const char* key) { return GetProperty(env, object, key); };
  batch.tokens = RequireInt32Array(env, field("tokens"), ArgName(base, "tokens"));
  batch.positions = RequireInt32Array(env, field("positions"), ArgName(base, "positions"));
  batch.sequenceIds = RequireInt32Array(env, field("sequenceIds"), ArgName(base, "sequenceIds"));
  batch.outputs = RequireUint8Array(env, field("outputs"), ArgName(base, "outputs"));

  const size_t n = batch.tokens.size();
  if (n < 1 || n > static_cast<size_t>(limits.maxTokens)) {
    ThrowRangeError(env, base + ".tokens.length must be in [1, " +
                             std::to_string(limits.maxTokens) + "] (" +
                             (limits.singleMicroBatch ? "micro-batch size: this context needs the "
                                                        "whole batch in one micro-batch"
                                                      : "batch size") +
                             "), got " + std::to_string(n));
  }
  const char* why = "one per token";
  RequireLength(env, batch.positions.size(), n, ArgName(base, "positions"), why);
  RequireLength(env, batch.sequenceIds.size(), n, ArgName(base, "sequenceIds"), why);
  RequireLength(env, batch.outputs.size(), n, ArgName(base, "outputs"), why);

  for (size_t i = 0; i < n; ++i) {
    const auto at = [i] { return "[" + std::to_string(i) + "]"; };
    const int32_t token = batch.tokens[i];
    if (token < 0 || token >= limits.vocab) {
      ThrowRangeError(env, base + ".tokens" + at() + " must be in [0, " +
                               std::to_string(limits.vocab) + "), got " + std::to_string(token));
    }
    const int32_t seq = batch.sequenceIds[i];
    if (seq < 0 || seq >= limits.maxSequences) {
      ThrowRangeError(env, base + ".sequenceIds" + at() + " must be in [0, " +
                               std::to_string(limits.maxSequences) + "), got " + std::to_string(seq));
    }
    if (batch.positions[i] < 0) {
      ThrowRangeError(env, base + ".positions" + at() + " must be >= 0, got " +
                               std::to_string(batch.positions[i]));
    }
    if (batch.outputs[i] > 1) {
      ThrowRangeError(env, base + ".outputs" + at() + " must be 0 or 1, got " +
                               std::to_string(batch.outputs[i]));
    }
    if (batch.outputs[i] != 0) batch.outputIndices.push_back(static_cast<int32_t>(i));
  }

  if (limits.checkPositionContinuity) {
    // Per sequence: first position and index seen, and the latest position.
    struct SeqPositions {
      int32_t first = -1;
      int32_t last = -1;
      int32_t firstIndex = -1;
    };
    std::vector<SeqPositions> seen(static_cast<size_t>(limits.maxSequences));
    for (size_t i = 0; i < n; ++i) {
      SeqPositions& s = seen[static_cast<size_t>(batch.sequenceIds[i])];
      const int32_t pos = batch.positions[i];
      if (s.firstIndex < 0) {
        s = {pos, pos, static_cast<int32_t>(i)};
        continue;
      }
      if (pos < s.last) {
        ThrowRangeError(env, base + ".positions[" + std::to_string(i) + "] = " +
                                 std::to_string(pos) + " of sequence " +
                                 std::to_string(batch.sequenceIds[i]) +
                                 " is below the sequence's previous position " +
                                 std::to_string(s.last) + " in this batch (positions must not decrease)");
      }
      if (static_cast<int64_t>(pos) > static_cast<int64_t>(s.last) + 1) {
        ThrowRangeError(env, base + ".positions[" + std::to_string(i) + "] = " +
                                 std::to_string(pos) + " of sequence " +
                                 std::to_string(batch.sequenceIds[i]) + " skips position " +
                                 std::to_string(s.last + 1) + " (positions must be consecutive)");
      }
      s.last = pos;
    }
    llama_memory_t memory = context != nullptr ? llama_get_memory(context) : nullptr;
    if (memory != nullptr) {
      for (int32_t seq = 0; seq < limits.maxSequences; ++seq) {
        const SeqPositions& s = seen[static_cast<size_t>(seq)];
        if (s.firstIndex < 0) continue;
        const llama_pos held = llama_memory_seq_pos_max(memory, seq);
        if (held >= 0 && static_cast<int64_t>(s.first) != static_cast<int64_t>(held) + 1) {
          ThrowRangeError(env, base + ".positions[" + std::to_string(s.firstIndex) + "] = " +
                                   std::to_string(s.first) + " must continue sequence " +
                                   std::to_string(seq) + ", whose last position in the KV memory is " +
                                   std::to_string(held) + " (expected " +
                                   std::to_string(static_cast<int64_t>(held) + 1) +
                                   ")");
        }
      }
    }
  }
  return batch;
}

}  // namespace servellm
