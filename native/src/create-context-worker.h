// The asynchronous part of createContext: allocating the KV memory and compute buffers off the
// JS thread.
//
// Owns: one context creation on a libuv worker thread, resolving to a JS Context. The model's
// live-context count was incremented before queueing (so Model.dispose() refuses meanwhile);
// on failure this worker gives it back.
#pragma once

#include <napi.h>

#include <memory>

#include "context-state.h"

namespace servellm {

class CreateContextWorker : public Napi::AsyncWorker {
 public:
  CreateContextWorker(Napi::Env env, std::shared_ptr<ModelState> model, ContextRequest request);
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ModelState> model_;
  ContextRequest request_;
  std::shared_ptr<ContextState> state_;
};

}  // namespace servellm
