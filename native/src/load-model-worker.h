// The asynchronous part of loadModel: reading the GGUF file off the JS thread.
//
// Owns: one model load on a libuv worker thread, resolving to a JS Model or rejecting with
// llama.cpp's reason.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "model-state.h"

namespace servellm {

class LoadModelWorker : public Napi::AsyncWorker {
 public:
  LoadModelWorker(Napi::Env env, std::string path, int32_t gpuLayers, bool useMmap, bool vocabOnly);
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  int32_t gpuLayers_;
  bool useMmap_;
  bool vocabOnly_;
  std::shared_ptr<ModelState> state_;
};

}  // namespace servellm
