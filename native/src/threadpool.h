// The persistent ggml CPU thread pool of one context.
//
// Owns: creation, attachment-independent lifetime and pausing of a ggml_threadpool. A fresh pool
// per decode (what llama.cpp does when none is attached) costs thread start-up on every step, so
// each context gets one for its whole life. Between decodes its workers poll for the next graph
// (ggml's default polling level, as in llama.cpp's tools), for about 100 ms of CPU before they
// sleep on their own; the owner pauses the pool when no decode follows soon, and the next graph
// launch resumes it.
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
