// The asynchronous part of createContext (see create-context-worker.h).
//
// Owns: the worker's three phases and the live-context bookkeeping on failure.
#include "create-context-worker.h"

#include <exception>

#include "context.h"

namespace servellm {

CreateContextWorker::CreateContextWorker(Napi::Env env, std::shared_ptr<ModelState> model,
                                         ContextRequest request)
    : Napi::AsyncWorker(env, "servellm:createContext"),
      deferred_(Napi::Promise::Deferred::New(env)),
      model_(std::move(model)),
      request_(request) {}

void CreateContextWorker::Execute() {
  try {
    state_ = CreateContextState(model_, request_);
  } catch (const std::exception& error) {
    SetError(error.what());
  }
}

void CreateContextWorker::OnOK() {
  deferred_.Resolve(Context::NewInstance(Env(), std::move(state_)));
}

void CreateContextWorker::OnError(const Napi::Error& error) {
  model_->liveContexts.fetch_sub(1);
  deferred_.Reject(error.Value());
}

}  // namespace servellm
