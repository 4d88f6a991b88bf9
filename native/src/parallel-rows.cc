// A small persistent team of helper threads (see parallel-rows.h).
//
// Owns: the hand-off protocol (generation counter, row counter, running count) and the join.
#include "parallel-rows.h"

namespace servellm {

ParallelRows::ParallelRows(size_t helpers) {
  threads_.reserve(helpers);
  for (size_t i = 0; i < helpers; ++i) threads_.emplace_back([this, i] { HelperLoop(i + 1); });
}

ParallelRows::~ParallelRows() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void ParallelRows::Drain(size_t member) {
  for (size_t row = next_.fetch_add(1); row < rows_; row = next_.fetch_add(1)) {
    try {
      (*work_)(member, row);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ParallelRows::Run(size_t rows, const std::function<void(size_t, size_t)>& work) {
  if (rows <= 1 || threads_.empty()) {
    for (size_t row = 0; row < rows; ++row) work(0, row);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    work_ = &work;
    rows_ = rows;
    next_.store(0);
    running_ = 0;
    open_ = true;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  Drain(0);
  std::exception_ptr error;
  {
    // Helpers that have not joined yet (not scheduled in time) skip this generation.
    std::unique_lock<std::mutex> lock(mutex_);
    open_ = false;
    done_.wait(lock, [this] { return running_ == 0; });
    work_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

void ParallelRows::HelperLoop(size_t member) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (!open_) continue;
      ++running_;
    }
    Drain(member);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --running_;
    }
    done_.notify_one();
  }
}

}  // namespace servellm
