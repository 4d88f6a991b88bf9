// The asynchronous part of loadModel (see load-model-worker.h).
//
// Owns: the worker's three phases.
#include "load-model-worker.h"

#include <exception>

#include "model.h"

namespace servellm {

LoadModelWorker::LoadModelWorker(Napi::Env env, std::string path, int32_t gpuLayers, bool useMmap,
                                 bool vocabOnly)
    : Napi::AsyncWorker(env, "servellm:loadModel"),
      deferred_(Napi::Promise::Deferred::New(env)),
      path_(std::move(path)),
      gpuLayers_(gpuLayers),
      useMmap_(useMmap),
      vocabOnly_(vocabOnly) {}

void LoadModelWorker::Execute() {
  try {
    state_ = LoadModelState(path_, gpuLayers_, useMmap_, vocabOnly_);
  } catch (const std::exception& error) {
    SetError(error.what());
  }
}

void LoadModelWorker::OnOK() { deferred_.Resolve(Model::NewInstance(Env(), std::move(state_))); }

void LoadModelWorker::OnError(const Napi::Error& error) { deferred_.Reject(error.Value()); }

}  // namespace servellm
