// The JS NativeContext object (see context.h).
//
// Owns: argument checks of the context methods, including the KV rules llama.cpp asserts on:
// with one KV stream per sequence (unifiedKv false) a copy between different sequences must
// cover the whole source sequence (llama_kv_cache::seq_cp aborts otherwise) and replaces the
// destination's contents; a shift needs a memory that can shift (llama.cpp aborts at the next
// decode otherwise) and must keep positions within int32.
#include "context.h"

#include <climits>
#include <optional>
#include <string>

#include "addon-data.h"
#include "decode-worker.h"
#include "fused-decode.h"
#include "js-args.h"
#include "llama.h"

namespace servellm {
namespace {

Napi::Object BuildInfo(Napi::Env env, const ContextConfig& config) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("contextSize", config.contextSize);
  info.Set("sequenceContextSize", config.sequenceContextSize);
  info.Set("batchSize", config.batchSize);
  info.Set("microBatchSize", config.microBatchSize);
  info.Set("maxSequences", config.maxSequences);
  info.Set("unifiedKv", config.unifiedKv);
  info.Set("threads", config.threads);
  info.Set("embeddings", config.embeddings);
  info.Set("poolingType", PoolingTypeName(config.poolingType));
  info.Freeze();
  return info;
}

// decode's and decodeSync's arguments: the batch, and the optional sampling spec (not allowed on
// an embeddings context). `method` names them in errors.
struct DecodeArgs {
  BatchData batch;
  std::optional<SamplingSpec> spec;
};

DecodeArgs ParseDecodeArgs(const Napi::CallbackInfo& info, ContextState& state,
                           const std::string& method) {
  Napi::Env env = info.Env();
  DecodeArgs args;
  args.batch =
      ParseBatch(env, info[0], state.Limits(), state.context, (method + "(batch)").c_str());
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (state.config.embeddings) {
      ThrowTypeError(env, method + "(sampling) must be omitted on an embeddings context");
    }
    args.spec = ParseSamplingSpec(env, info[1], args.batch.outputIndices.size(),
                                  state.model->info.vocabSize, (method + "(sampling)").c_str());
  }
  return args;
}

}  // namespace

Napi::Function Context::DefineClass(Napi::Env env) {
  return ObjectWrap<Context>::DefineClass(
      env, "NativeContext",
      {
          InstanceAccessor<&Context::GetInfo>("info"),
          InstanceMethod<&Context::Decode>("decodePacked"),
          InstanceMethod<&Context::DecodeSync>("decodeSyncPacked"),
          InstanceMethod<&Context::KvRemove>("kvRemove"),
          InstanceMethod<&Context::KvCopy>("kvCopy"),
          InstanceMethod<&Context::KvKeep>("kvKeep"),
          InstanceMethod<&Context::KvShift>("kvShift"),
          InstanceMethod<&Context::KvMinPosition>("kvMinPosition"),
          InstanceMethod<&Context::KvMaxPosition>("kvMaxPosition"),
          InstanceMethod<&Context::KvClear>("kvClear"),
          InstanceMethod<&Context::PauseThreads>("pauseThreads"),
          InstanceMethod<&Context::Dispose>("dispose"),
      });
}

Napi::Object Context::NewInstance(Napi::Env env, std::shared_ptr<ContextState> state) {
  auto* holder = new std::shared_ptr<ContextState>(std::move(state));
  Napi::External<std::shared_ptr<ContextState>> external =
      Napi::External<std::shared_ptr<ContextState>>::New(env, holder);
  Napi::Object object;
  try {
    object = GetAddonData(env).contextConstructor.New({external});
  } catch (...) {
    delete holder;
    throw;
  }
  delete holder;
  return object;
}

Context::Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowTypeError(env, "NativeContext cannot be constructed from JS; use model.createContext()");
  }
  state_ = *info[0].As<Napi::External<std::shared_ptr<ContextState>>>().Data();
  info_ = Napi::Persistent(BuildInfo(env, state_->config));
}

Context::~Context() {
  // A decode in flight holds the state itself; only process teardown can get here while busy.
  if (state_ && !state_->busy) state_->Release();
}

ContextState& Context::Live(Napi::Env env, const char* method) {
  if (!state_ || state_->Released()) {
    ThrowError(env, std::string("context.") + method + ": the context is disposed");
  }
  if (state_->busy) {
    ThrowError(env, std::string("context.") + method +
                        ": context busy (a decode of this context is in flight)");
  }
  return *state_;
}

int32_t Context::Sequence(Napi::Env env, Napi::Value value, const char* name) {
  return static_cast<int32_t>(
      RequireInteger(env, value, name, 0, static_cast<int64_t>(state_->config.maxSequences) - 1));
}

int32_t Context::Position(Napi::Env env, Napi::Value value, const char* name) {
  return static_cast<int32_t>(RequireInteger(env, value, name, -1, INT32_MAX));
}

Napi::Value Context::GetInfo(const Napi::CallbackInfo& /*info*/) { return info_.Value(); }

Napi::Value Context::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto deferred = Napi::Promise::Deferred::New(env);
  DecodeArgs args;
  try {
    args = ParseDecodeArgs(info, Live(env, "decode"), "decode");
  } catch (const Napi::Error& error) {
    deferred.Reject(error.Value());
    return deferred.Promise();
  }
  state_->busy = true;
  auto* worker = new DecodeWorker(Value(), state_, std::move(args.batch), std::move(args.spec));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Context::DecodeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextState& state = Live(env, "decodeSync");
  DecodeArgs args = ParseDecodeArgs(info, state, "decodeSync");
  DecodeResultData result;
  const std::string error = RunFusedDecode(state, args.batch, args.spec, result);
  if (!error.empty()) ThrowError(env, "decodeSync: " + error);
  return result.Pack(env);
}

Napi::Value Context::KvRemove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextState& state = Live(env, "kvRemove");
  const int32_t seq = Sequence(env, info[0], "kvRemove(seq)");
  const int32_t p0 = Position(env, info[1], "kvRemove(p0)");
  const int32_t p1 = Position(env, info[2], "kvRemove(p1)");
  if (p1 >= 0 && p1 < p0) {
    ThrowRangeError(env, "kvRemove(p1) must be -1 (open end) or >= p0 (" + std::to_string(p0) +
                             "), got " + std::to_string(p1));
  }
  return Napi::Boolean::New(env, llama_memory_seq_rm(llama_get_memory(state.context), seq, p0, p1));
}

Napi::Value Context::KvCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextState& state = Live(env, "kvCopy");
  const int32_t src = Sequence(env, info[0], "kvCopy(src)");
  const int32_t dst = Sequence(env, info[1], "kvCopy(dst)");
  int32_t p0 = Position(env, info[2], "kvCopy(p0)");
  int32_t p1 = Position(env, info[3], "kvCopy(p1)");
  if (p1 >= 0 && p1 < p0) {
    ThrowRangeError(env, "kvCopy(p1) must be -1 (open end) or >= p0 (" + std::to_string(p0) +
                             "), got " + std::to_string(p1));
  }
  llama_memory_t memory = llama_get_memory(state.context);
  if (!state.config.unifiedKv && src != dst) {
    // One stream per sequence: llama.cpp copies whole streams and aborts on partial ranges.
    const llama_pos first = llama_memory_seq_pos_min(memory, src);
    const llama_pos last = llama_memory_seq_pos_max(memory, src);
    const bool fromStart = p0 <= 0 || (first >= 0 && p0 <= first);
    const bool toEnd = p1 < 0 || p1 > last;
    if (!fromStart || !toEnd) {
      ThrowRangeError(env, "kvCopy: with unifiedKv false only whole-sequence copies are supported "
                           "(p0 <= " + std::to_string(first < 0 ? 0 : first) + " and p1 = -1 or > " +
                               std::to_string(last) + " for sequence " + std::to_string(src) +
                               "), got [" + std::to_string(p0) + ", " + std::to_string(p1) + ")");
    }
    p0 = -1;
    p1 = -1;
  }
  llama_memory_seq_cp(memory, src, dst, p0, p1);
  return env.Undefined();
}

Napi::Value Context::KvKeep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextState& state = Live(env, "kvKeep");
  const int32_t seq = Sequence(env, info[0], "kvKeep(seq)");
  llama_memory_t memory = llama_get_memory(state.context);
  if (state.config.unifiedKv) {
    llama_memory_seq_keep(memory, seq);
  } else {
    // llama_memory_seq_keep only cleans the stream of `seq`; every other stream is another
    // sequence's, so removing those sequences gives the documented result.
    for (int32_t other = 0; other < state.config.maxSequences; ++other) {
      if (other != seq) llama_memory_seq_rm(memory, other, -1, -1);
    }
  }
  return env.Undefined();
}

Napi::Value Context::KvShift(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextState& state = Live(env, "kvShift");
  const int32_t seq = Sequence(env, info[0], "kvShift(seq)");
  const int32_t p0 = Position(env, info[1], "kvShift(p0)");
  const int32_t p1 = Position(env, info[2], "kvShift(p1)");
  const int32_t delta = static_cast<int32_t>(
      RequireInteger(env, info[3], "kvShift(delta)", INT32_MIN + 1, INT32_MAX));
  if (p1 >= 0 && p1 < p0) {
    ThrowRangeError(env, "kvShift(p1) must be -1 (open end) or >= p0 (" + std::to_string(p0) +
                             "), got " + std::to_string(p1));
  }
  llama_memory_t memory = llama_get_memory(state.context);
  if (memory == nullptr || !llama_memory_can_shift(memory)) {
    ThrowError(env, "kvShift: this model's KV memory cannot shift positions");
  }
  const llama_pos last = llama_memory_seq_pos_max(memory, seq);
  if (delta > 0 && last >= 0 && static_cast<int64_t>(last) + delta > INT32_MAX) {
    ThrowRangeError(env, "kvShift(delta) = " + std::to_string(delta) + " would move position " +
                             std::to_string(last) + " past 2^31 - 1");
  }
  llama_memory_seq_add(memory, seq, p0, p1, delta);
  return env.Undefined();
}

Napi::Value Context::KvMinPosition(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextState& state = Live(env, "kvMinPosition");
  const int32_t seq = Sequence(env, info[0], "kvMinPosition(seq)");
  return Napi::Number::New(env, llama_memory_seq_pos_min(llama_get_memory(state.context), seq));
}

Napi::Value Context::KvMaxPosition(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextState& state = Live(env, "kvMaxPosition");
  const int32_t seq = Sequence(env, info[0], "kvMaxPosition(seq)");
  return Napi::Number::New(env, llama_memory_seq_pos_max(llama_get_memory(state.context), seq));
}

Napi::Value Context::KvClear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextState& state = Live(env, "kvClear");
  llama_memory_clear(llama_get_memory(state.context), false);
  return env.Undefined();
}

Napi::Value Context::PauseThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Live(env, "pauseThreads").pool->Pause();
  return env.Undefined();
}

Napi::Value Context::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_) return env.Undefined();
  if (state_->busy) {
    ThrowError(env, "context.dispose: a decode of this context is in flight; await it first");
  }
  state_->Release();
  state_.reset();
  return env.Undefined();
}

}  // namespace servellm
