// Routing of llama.cpp / ggml log lines to JS.
//
// Owns: the process-wide llama_log_set callback. Lines arrive on any thread (model loading and
// decoding run off the JS thread), are assembled from fragments (GGML_LOG_LEVEL_CONT) into whole
// lines, filtered by level, and delivered to the JS callback through an unref'd
// Napi::ThreadSafeFunction, or written to stderr when there is no callback. Levels use the
// contract's scale: 0 none, 1 error, 2 warn, 3 info, 4 debug. The singleton is never destroyed,
// so a log line emitted during process teardown cannot touch freed state.
#pragma once

#include <napi.h>

#include <mutex>
#include <optional>
#include <string>

#include "ggml.h"

namespace servellm {

class Logger {
 public:
  static Logger& Get();

  // Installs the llama.cpp callback (errors to stderr until Configure is called).
  void Install();
  // level 0..4; `callback` empty = stderr. Must run on the JS thread.
  void Configure(Napi::Env env, int level, Napi::Function callback);
  // Environment teardown: drop the JS callback, keep filtering to stderr.
  void Shutdown();

  // The error lines logged on the calling thread since the previous call, joined with "; "
  // (at most ~1000 characters, the latest kept), then cleared.
  static std::string TakeErrors();

 private:
  Logger() = default;
  static void Callback(ggml_log_level ggmlLevel, const char* text, void* userData);
  void Emit(int level, std::string line);

  std::mutex mutex_;
  int level_ = 1;
  std::optional<Napi::ThreadSafeFunction> tsfn_;
};

}  // namespace servellm
