// The JS NativeModel object.
//
// Owns: the model's JS surface (info, metadata, chat template, tokenize / detokenize, vocabulary
// table, createContext, dispose). It holds a shared ModelState; dispose() drops it and refuses
// while contexts of the model are alive; the finalizer drops it too if JS forgot to dispose.
// Tokenization runs synchronously and is not blocked by an in-flight decode: llama.cpp documents
// its tokenizer API as thread-safe (the vocabulary is immutable after load).
#pragma once

#include <napi.h>

#include <memory>

#include "model-state.h"

namespace servellm {

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ModelState> state);

  explicit Model(const Napi::CallbackInfo& info);

 private:
  ModelState& Live(Napi::Env env, const char* method);

  Napi::Value GetInfo(const Napi::CallbackInfo& info);
  Napi::Value Metadata(const Napi::CallbackInfo& info);
  Napi::Value ChatTemplate(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value Detokenize(const Napi::CallbackInfo& info);
  Napi::Value VocabTable(const Napi::CallbackInfo& info);
  Napi::Value TokenText(const Napi::CallbackInfo& info);
  Napi::Value CreateContext(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelState> state_;
  Napi::ObjectReference info_;
};

}  // namespace servellm
