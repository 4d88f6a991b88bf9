// Turns llama.cpp's assertions (GGML_ASSERT, GGML_ABORT) into C++ exceptions while a thread
// loads a model or creates a context, so a malformed model file, or parameters llama.cpp checks
// only by asserting, end as a load error instead of aborting the process.
//
// Owns: the process-wide ggml abort callback (installed once) and the per-thread scope in which
// it throws. Outside a scope the callback prints the message and returns, and ggml_abort then
// aborts as it always did: an assertion during a decode is a bug, not an input error.
#pragma once

namespace servellm {

// While an AbortGuard lives on a thread, a ggml abort on that thread throws
// std::runtime_error("llama.cpp assertion failed: <message>"). llama.cpp's loaders catch
// std::exception and report the load as failed. Nests.
class AbortGuard {
 public:
  AbortGuard();
  ~AbortGuard();
  AbortGuard(const AbortGuard&) = delete;
  AbortGuard& operator=(const AbortGuard&) = delete;
};

}  // namespace servellm
