// Process-wide llama.cpp state: backend loading, version check, CPU thread-pool entry points.
//
// Owns: `init(libraryDir)` semantics. The prebuilt libraries link no backend, so init loads
// them from the directory (ggml_backend_load_all_from_path picks the best libggml-cpu-*.so for
// this CPU, plus any GPU backend present), then calls llama_backend_init. Parameter structs
// cross the library boundary by value, so a llama_version() other than 0.4.x is refused before
// anything else is called. The ggml-cpu thread-pool functions live in the dynamically loaded CPU
// backend and are resolved through ggml_backend_reg_get_proc_address.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "ggml-cpu.h"

namespace servellm {

struct InitInfo {
  std::string llamaVersion;
  std::string systemInfo;
  std::vector<std::string> devices;
  bool supportsGpuOffload = false;
};

struct CpuThreadPoolApi {
  decltype(&ggml_threadpool_new) create = nullptr;
  decltype(&ggml_threadpool_free) destroy = nullptr;
  decltype(&ggml_threadpool_pause) pause = nullptr;
};

class Runtime {
 public:
  static constexpr const char* kRequiredVersionPrefix = "0.4.0";

  static Runtime& Get();

  // Idempotent for the same directory; throws std::runtime_error otherwise or on failure.
  InitInfo Init(const std::string& libraryDir);
  bool Initialized() const;
  const CpuThreadPoolApi& ThreadPools() const { return threadPools_; }

 private:
  Runtime() = default;
  InitInfo Describe() const;

  mutable std::mutex mutex_;
  bool initialized_ = false;
  std::string libraryDir_;
  CpuThreadPoolApi threadPools_;
};

}  // namespace servellm
