// The persistent ggml CPU thread pool of one context.
//
// Owns: creation, attachment-independent lifetime and pausing of a ggml_threadpool. A fresh pool
// per decode (what llama.cpp does when none is attached) costs thread start-up on every step, so
// each context gets one for its whole life. After each decode the pool is paused: its workers
// would otherwise spin-poll for tens of milliseconds, competing with the JS thread and with other
// contexts; the next graph launch resumes it.
#pragma once

#include "ggml.h"

namespace servellm {

class ThreadPool {
 public:
  // Throws std::runtime_error when the pool cannot be created. Requires Runtime initialized.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  ggml_threadpool_t Handle() const { return pool_; }
  int Threads() const { return threads_; }
  // Stop the workers' spinning until the next graph launch (no-op if unsupported).
  void Pause();

 private:
  ggml_threadpool_t pool_ = nullptr;
  int threads_ = 0;
};

}  // namespace servellm
