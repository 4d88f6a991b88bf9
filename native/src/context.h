// The JS NativeContext object.
//
// Owns: the context's JS surface: decode (queued on a DecodeWorker), decodeSync, the KV sequence
// operations and dispose. Everything synchronous here runs on the JS thread and throws
// "context busy" while a decode of this context is in flight (llama.cpp contexts are not
// thread-safe). The finalizer releases the native context if JS forgot to dispose it, unless a
// decode still runs (process teardown), in which case it is left to the process exit.
#pragma once

#include <napi.h>

#include <memory>

#include "context-state.h"

namespace servellm {

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ContextState> state);

  explicit Context(const Napi::CallbackInfo& info);
  ~Context() override;

 private:
  // The state, checked not disposed and (unless allowBusy) not busy.
  ContextState& Live(Napi::Env env, const char* method);
  int32_t Sequence(Napi::Env env, Napi::Value value, const char* name);
  int32_t Position(Napi::Env env, Napi::Value value, const char* name);

  Napi::Value GetInfo(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value DecodeSync(const Napi::CallbackInfo& info);
  Napi::Value KvRemove(const Napi::CallbackInfo& info);
  Napi::Value KvCopy(const Napi::CallbackInfo& info);
  Napi::Value KvKeep(const Napi::CallbackInfo& info);
  Napi::Value KvShift(const Napi::CallbackInfo& info);
  Napi::Value KvMinPosition(const Napi::CallbackInfo& info);
  Napi::Value KvMaxPosition(const Napi::CallbackInfo& info);
  Napi::Value KvClear(const Napi::CallbackInfo& info);
  Napi::Value PauseThreads(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<ContextState> state_;
  Napi::ObjectReference info_;
};

}  // namespace servellm
