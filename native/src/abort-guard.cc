// The scoped ggml abort callback (see abort-guard.h).
//
// Owns: the callback and the thread-local depth of the guards.
#include "abort-guard.h"

#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>

#include "ggml.h"

namespace servellm {
namespace {

thread_local int guardDepth = 0;

void OnGgmlAbort(const char* message) {
  if (guardDepth > 0) {
    // Unwinds through ggml_abort (built with unwind tables) into llama.cpp's catch blocks.
    throw std::runtime_error(std::string("llama.cpp assertion failed: ") + message);
  }
  std::fprintf(stderr, "%s\n", message);
}

}  // namespace

AbortGuard::AbortGuard() {
  static std::once_flag installed;
  std::call_once(installed, [] { ggml_set_abort_callback(OnGgmlAbort); });
  ++guardDepth;
}

AbortGuard::~AbortGuard() { --guardDepth; }

}  // namespace servellm
