// A small persistent team of helper threads that splits the output rows of one decode.
//
// Owns: the helpers of one context (threads - 1 of them; the decode worker thread is member 0).
// Sampling runs right after llama_decode, while the context's ggml pool is paused, so the same
// cores are free; rows are handed out one at a time through an atomic counter. Helpers sleep on
// a condition variable between decodes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace servellm {

class ParallelRows {
 public:
  explicit ParallelRows(size_t helpers);
  ~ParallelRows();
  ParallelRows(const ParallelRows&) = delete;
  ParallelRows& operator=(const ParallelRows&) = delete;

  size_t Members() const { return threads_.size() + 1; }
  // Calls work(member, row) for every row in [0, rows), member 0 being the calling thread.
  // Returns when every row is done; rethrows the first exception a row threw.
  void Run(size_t rows, const std::function<void(size_t member, size_t row)>& work);

 private:
  void HelperLoop(size_t member);
  void Drain(size_t member);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t)>* work_ = nullptr;
  size_t rows_ = 0;
  std::atomic<size_t> next_{0};
  size_t running_ = 0;  // helpers inside the current generation
  bool open_ = false;   // helpers may still join the current generation
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

}  // namespace servellm
