// Routing of llama.cpp / ggml log lines to JS (see logger.h).
//
// Owns: line assembly per thread, the level filter, the TSFN and its release.
#include "logger.h"

#include <cstdio>
#include <memory>
#include <utility>

#include "llama.h"

namespace servellm {
namespace {

struct PendingLine {
  std::string text;
  int level = 3;
};

thread_local PendingLine tPending;
thread_local std::string tErrors;

// ggml_log_level -> contract level (0 none, 1 error, 2 warn, 3 info, 4 debug); -1 = continuation.
int ToContractLevel(int ggmlLevel) {
  switch (ggmlLevel) {
    case GGML_LOG_LEVEL_ERROR:
      return 1;
    case GGML_LOG_LEVEL_WARN:
      return 2;
    case GGML_LOG_LEVEL_INFO:
    case GGML_LOG_LEVEL_NONE:
      return 3;
    case GGML_LOG_LEVEL_DEBUG:
      return 4;
    case GGML_LOG_LEVEL_CONT:
    default:
      return -1;
  }
}

struct LogLine {
  int level;
  std::string text;
};

}  // namespace

Logger& Logger::Get() {
  static Logger* instance = new Logger();  // never destroyed (see header)
  return *instance;
}

void Logger::Install() { llama_log_set(&Logger::Callback, nullptr); }

void Logger::Configure(Napi::Env env, int level, Napi::Function callback) {
  std::optional<Napi::ThreadSafeFunction> old;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    level_ = level;
    old = std::move(tsfn_);
    tsfn_.reset();
    if (!callback.IsEmpty()) {
      Napi::ThreadSafeFunction tsfn =
          Napi::ThreadSafeFunction::New(env, callback, "servellm-log", 0, 1);
      tsfn.Unref(env);  // logging never keeps the process alive
      tsfn_ = std::move(tsfn);
    }
  }
  if (old) old->Release();
}

void Logger::Shutdown() {
  std::optional<Napi::ThreadSafeFunction> old;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    old = std::move(tsfn_);
    tsfn_.reset();
  }
  if (old) old->Release();
}

std::string Logger::TakeErrors() {
  std::string errors = std::move(tErrors);
  tErrors.clear();
  return errors;
}

void Logger::Callback(ggml_log_level ggmlLevel, const char* text, void* /*userData*/) {
  if (text == nullptr) return;
  const int level = ToContractLevel(ggmlLevel);
  PendingLine& pending = tPending;
  if (pending.text.empty() && level >= 0) pending.level = level;
  pending.text += text;
  size_t newline;
  while ((newline = pending.text.find('\n')) != std::string::npos) {
    std::string line = pending.text.substr(0, newline);
    pending.text.erase(0, newline + 1);
    if (pending.level == 1 && !line.empty()) {
      if (!tErrors.empty()) tErrors += "; ";
      tErrors += line;
      if (tErrors.size() > 1000) tErrors.erase(0, tErrors.size() - 1000);
    }
    Get().Emit(pending.level, std::move(line));
  }
}

void Logger::Emit(int level, std::string line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (level > level_) return;
  if (tsfn_) {
    auto* payload = new LogLine{level, std::move(line)};
    const napi_status status = tsfn_->NonBlockingCall(
        payload, [](Napi::Env env, Napi::Function callback, LogLine* data) {
          std::unique_ptr<LogLine> owned(data);
          // env is null when the function is being torn down: just free the line.
          if (static_cast<napi_env>(env) != nullptr && !callback.IsEmpty()) {
            callback.Call({Napi::Number::New(env, owned->level),
                           Napi::String::New(env, owned->text)});
          }
        });
    if (status != napi_ok) delete payload;
    return;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace servellm
