// Process-wide llama.cpp state (see runtime.h).
//
// Owns: the init sequence and the device list.
#include "runtime.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <stdexcept>

#include "ggml-backend.h"
#include "llama.h"

namespace servellm {

Runtime& Runtime::Get() {
  static Runtime* instance = new Runtime();  // never destroyed: used until process exit
  return *instance;
}

bool Runtime::Initialized() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return initialized_;
}

InitInfo Runtime::Init(const std::string& libraryDir) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (initialized_) {
    if (libraryDir != libraryDir_) {
      throw std::runtime_error("init: already initialized from '" + libraryDir_ +
                               "', cannot initialize again from '" + libraryDir + "'");
    }
    return Describe();
  }
  const std::string version = llama_version() != nullptr ? llama_version() : "";
  if (version.rfind(kRequiredVersionPrefix, 0) != 0) {
    throw std::runtime_error("init: the loaded llama library reports version '" + version +
                             "', but this addon was built against " + kRequiredVersionPrefix +
                             " (parameter structs are passed by value; refusing to continue)");
  }
  struct stat info {};
  if (stat(libraryDir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    throw std::runtime_error("init: library directory '" + libraryDir + "' does not exist");
  }
  ggml_backend_load_all_from_path(libraryDir.c_str());
  ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (cpu == nullptr) {
    throw std::runtime_error("init: no CPU backend (libggml-cpu-*.so) could be loaded from '" +
                             libraryDir + "'");
  }
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(cpu);
  CpuThreadPoolApi api;
  api.create = reinterpret_cast<decltype(api.create)>(
      ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
  api.destroy = reinterpret_cast<decltype(api.destroy)>(
      ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
  api.pause = reinterpret_cast<decltype(api.pause)>(
      ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_pause"));
  if (api.pause == nullptr && api.create != nullptr) {
    // Not in the CPU backend's proc-address table: look it up in the same (RTLD_LOCAL) library.
    Dl_info where{};
    if (dladdr(reinterpret_cast<void*>(api.create), &where) != 0 && where.dli_fname != nullptr) {
      void* handle = dlopen(where.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
      if (handle != nullptr) {
        api.pause = reinterpret_cast<decltype(api.pause)>(dlsym(handle, "ggml_threadpool_pause"));
        dlclose(handle);  // drops only the reference RTLD_NOLOAD added
      }
    }
  }
  if (api.create == nullptr || api.destroy == nullptr) {
    throw std::runtime_error("init: the CPU backend does not export ggml_threadpool_new/free");
  }
  llama_backend_init();
  threadPools_ = api;
  libraryDir_ = libraryDir;
  initialized_ = true;
  return Describe();
}

InitInfo Runtime::Describe() const {
  InitInfo info;
  info.llamaVersion = llama_version();
  info.systemInfo = llama_print_system_info();
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    info.devices.emplace_back(ggml_backend_dev_name(ggml_backend_dev_get(i)));
  }
  info.supportsGpuOffload = llama_supports_gpu_offload();
  return info;
}

}  // namespace servellm
