// One decode of a context off the JS thread (see decode-worker.h).
//
// Owns: running the fused decode (fused-decode.h) on a libuv worker and settling the promise.
#include "decode-worker.h"

#include <string>

#include "fused-decode.h"

namespace servellm {

DecodeWorker::DecodeWorker(Napi::Object context, std::shared_ptr<ContextState> state,
                           BatchData batch, std::optional<SamplingSpec> spec)
    : Napi::AsyncWorker(context.Env(), "servellm:decode"),
      deferred_(Napi::Promise::Deferred::New(context.Env())),
      context_(Napi::Persistent(context)),
      state_(std::move(state)),
      batch_(std::move(batch)),
      spec_(std::move(spec)) {}

void DecodeWorker::Execute() {
  const std::string error = RunFusedDecode(*state_, batch_, spec_, result_);
  if (!error.empty()) SetError(error);
}

void DecodeWorker::OnOK() {
  state_->busy = false;
  deferred_.Resolve(result_.Pack(Env()));
}

void DecodeWorker::OnError(const Napi::Error& error) {
  state_->busy = false;
  deferred_.Reject(error.Value());
}

}  // namespace servellm
