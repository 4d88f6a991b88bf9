// Module entry point of the servellm addon: the NativeAddon functions.
//
// Owns: module initialization (classes, logging, teardown hook) and the top-level functions of
// the contract in src/backend/llama/native-addon.ts: init, setLogger, loadModel, sampleLogits,
// physicalCores. Everything that can take more than a few microseconds returns a promise; every
// invalid argument becomes a JS TypeError / RangeError (rejections for promise-returning calls).
#include <napi.h>

#include <chrono>
#include <climits>
#include <exception>
#include <string>

#include "addon-data.h"
#include "context.h"
#include "cpu-info.h"
#include "decode-result.h"
#include "js-args.h"
#include "load-model-worker.h"
#include "logger.h"
#include "model.h"
#include "runtime.h"
#include "sampler.h"
#include "sampling-spec.h"

namespace servellm {
namespace {

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string dir = RequireString(env, info[0], "init(libraryDir)");
  InitInfo result;
  try {
    result = Runtime::Get().Init(dir);
  } catch (const std::exception& error) {
    ThrowError(env, error.what());
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("llamaVersion", result.llamaVersion);
  out.Set("systemInfo", result.systemInfo);
  Napi::Array devices = Napi::Array::New(env, result.devices.size());
  for (size_t i = 0; i < result.devices.size(); ++i) {
    devices.Set(static_cast<uint32_t>(i), result.devices[i]);
  }
  out.Set("devices", devices);
  out.Set("supportsGpuOffload", result.supportsGpuOffload);
  return out;
}

Napi::Value SetLogger(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int level = static_cast<int>(RequireInteger(env, info[0], "setLogger(level)", 0, 4));
  Napi::Function callback;
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) {
    if (!info[1].IsFunction()) {
      ThrowTypeError(env, "setLogger(callback) must be a function or null, got " + Describe(info[1]));
    }
    callback = info[1].As<Napi::Function>();
  }
  Logger::Get().Configure(env, level, callback);
  return env.Undefined();
}

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  int32_t gpuLayers = 0;
  bool useMmap = true;
  bool vocabOnly = false;
  try {
    if (!Runtime::Get().Initialized()) ThrowError(env, "loadModel: call init(libraryDir) first");
    path = RequireString(env, info[0], "loadModel(path)");
    Napi::Object options = RequireObject(env, info[1], "loadModel(options)");
    gpuLayers = static_cast<int32_t>(RequireInteger(env, options.Get("gpuLayers"),
                                                    "loadModel(options).gpuLayers", -1, INT32_MAX));
    useMmap = RequireBool(env, options.Get("useMmap"), "loadModel(options).useMmap");
    vocabOnly = RequireBool(env, options.Get("vocabOnly"), "loadModel(options).vocabOnly");
  } catch (const Napi::Error& error) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(error.Value());
    return deferred.Promise();
  }
  auto* worker = new LoadModelWorker(env, path, gpuLayers, useMmap, vocabOnly);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value SampleLogits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<float> logits = RequireFloat32Array(env, info[0], "sampleLogits(logits)");
  const int32_t vocab = static_cast<int32_t>(
      RequireInteger(env, info[1], "sampleLogits(vocabSize)", 1, INT32_MAX));
  if (logits.size() % static_cast<size_t>(vocab) != 0) {
    ThrowRangeError(env, "sampleLogits(logits).length must be a multiple of vocabSize (" +
                             std::to_string(vocab) + "), got " + std::to_string(logits.size()));
  }
  const size_t rows = logits.size() / static_cast<size_t>(vocab);
  const SamplingSpec spec = ParseSamplingSpec(env, info[2], rows, vocab, "sampleLogits(sampling)");
  thread_local std::vector<Sampler> samplers(1);
  DecodeResultData result;
  result.Reset(rows, spec.topCount, spec.logitRows, vocab);
  std::vector<const float*> rowLogits(rows);
  for (size_t r = 0; r < rows; ++r) rowLogits[r] = logits.data() + r * static_cast<size_t>(vocab);
  const auto start = std::chrono::steady_clock::now();
  try {
    SampleRows(samplers, nullptr, spec, rowLogits, result);
  } catch (const SamplingError& error) {
    ThrowRangeError(env, std::string("sampleLogits: ") + error.what());
  }
  result.sampleMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result.Pack(env);
}

Napi::Value PhysicalCoresJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), PhysicalCores());
}

void Teardown(void* /*arg*/) { Logger::Get().Shutdown(); }

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->modelConstructor = Napi::Persistent(Model::DefineClass(env));
  data->contextConstructor = Napi::Persistent(Context::DefineClass(env));
  env.SetInstanceData<AddonData>(data);
  Logger::Get().Install();
  napi_add_env_cleanup_hook(env, &Teardown, nullptr);

  exports.Set("init", Napi::Function::New<Init>(env, "init"));
  exports.Set("setLogger", Napi::Function::New<SetLogger>(env, "setLogger"));
  exports.Set("loadModel", Napi::Function::New<LoadModel>(env, "loadModel"));
  exports.Set("sampleLogitsPacked", Napi::Function::New<SampleLogits>(env, "sampleLogits"));
  // The class itself, so the loader can add the JS halves of decode and decodeSync (they
  // turn the packed results of decodePacked / decodeSyncPacked into objects).
  exports.Set("NativeContext", data->contextConstructor.Value());
  exports.Set("physicalCores", Napi::Function::New<PhysicalCoresJs>(env, "physicalCores"));
  return exports;
}

}  // namespace
}  // namespace servellm

static Napi::Object InitServellm(Napi::Env env, Napi::Object exports) {
  return servellm::InitModule(env, exports);
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitServellm)
