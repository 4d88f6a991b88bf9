// One decode of a context off the JS thread: the fused decode (fused-decode.h: llama_decode, then
// sampling and scoring of the output rows, or embedding extraction) in one worker call.
//
// Owns: the asynchronous form. Everything the JS side receives is produced on the worker into
// std::vectors (logits are read through llama_get_logits_ith while still valid and copied) and
// packed into one ArrayBuffer on the JS thread in OnOK (decode-result.h). The worker holds the ContextState, so the
// context (and its model) outlive the call even if JS drops them.
#pragma once

#include <napi.h>

#include <memory>
#include <optional>

#include "batch-validation.h"
#include "context-state.h"
#include "decode-result.h"
#include "sampling-spec.h"

namespace servellm {

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Object context, std::shared_ptr<ContextState> state, BatchData batch,
               std::optional<SamplingSpec> spec);
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference context_;  // keeps the JS context alive while the decode runs
  std::shared_ptr<ContextState> state_;
  BatchData batch_;
  std::optional<SamplingSpec> spec_;
  DecodeResultData result_;
};

}  // namespace servellm
