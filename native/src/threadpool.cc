// The persistent ggml CPU thread pool of one context (see threadpool.h).
//
// Owns: the calls into the CPU backend's thread-pool functions.
#include "threadpool.h"

#include <stdexcept>
#include <string>

#include "runtime.h"

namespace servellm {

ThreadPool::ThreadPool(int threads) : threads_(threads) {
  const CpuThreadPoolApi& api = Runtime::Get().ThreadPools();
  if (api.create == nullptr) throw std::runtime_error("thread pool: addon not initialized");
  ggml_threadpool_params params = ggml_threadpool_params_default(threads);
  pool_ = api.create(&params);
  if (pool_ == nullptr) {
    throw std::runtime_error("thread pool: ggml_threadpool_new failed for " +
                             std::to_string(threads) + " threads");
  }
}

ThreadPool::~ThreadPool() {
  if (pool_ != nullptr) Runtime::Get().ThreadPools().destroy(pool_);
}

void ThreadPool::Pause() {
  const CpuThreadPoolApi& api = Runtime::Get().ThreadPools();
  if (api.pause != nullptr && pool_ != nullptr) api.pause(pool_);
}

}  // namespace servellm
