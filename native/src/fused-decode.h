// One fused decode of a context: llama_decode, then sampling and scoring of the output rows (or
// embedding extraction), into plain C++ data. Runs on whichever thread calls it: the decode
// worker (the default) or the JS thread (Context::decodeSync).
//
// Owns: the decode's phases and their timing, and the embedding extraction rules (pooled: one
// vector per distinct sequence of the batch in first-appearance order; unpooled: one per output
// row).
#pragma once

#include <optional>
#include <string>

#include "batch-validation.h"
#include "context-state.h"
#include "decode-result.h"
#include "sampling-spec.h"

namespace servellm {

// Runs the decode into `result`; returns an error message, or "" on success. The caller holds the
// context (busy flag) for the duration.
std::string RunFusedDecode(ContextState& state, BatchData& batch,
                           const std::optional<SamplingSpec>& spec, DecodeResultData& result);

}  // namespace servellm
