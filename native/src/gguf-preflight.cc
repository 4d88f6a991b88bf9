// Checks of a GGUF file before llama.cpp loads it (see gguf-preflight.h).
//
// Owns: reading the metadata section (no tensor data) and the checks themselves.
#include "gguf-preflight.h"

#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include "gguf.h"

namespace servellm {
namespace {

// llama_vocab::impl::load maps each token text to its id and asserts that no two share a text.
void CheckDistinctTokens(const gguf_context* ctx) {
  const int64_t key = gguf_find_key(ctx, "tokenizer.ggml.tokens");
  if (key < 0 || gguf_get_kv_type(ctx, key) != GGUF_TYPE_ARRAY ||
      gguf_get_arr_type(ctx, key) != GGUF_TYPE_STRING) {
    return;  // llama.cpp refuses these itself
  }
  const size_t count = gguf_get_arr_n(ctx, key);
  std::unordered_map<std::string, size_t> seen;
  seen.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string text = gguf_get_arr_str(ctx, key, i);
    if (text.empty()) text = "[EMPTY_" + std::to_string(i) + "]";
    const auto [entry, inserted] = seen.emplace(std::move(text), i);
    if (!inserted) {
      std::string shown = entry->first.substr(0, 40);
      throw std::runtime_error("tokenizer.ggml.tokens[" + std::to_string(i) +
                               "] repeats the text of token " + std::to_string(entry->second) +
                               " ('" + shown + "'): the vocabulary is corrupted");
    }
  }
}

// The normalization epsilons (`<arch>.attention.layer_norm_epsilon`, `..._rms_epsilon`) go to the
// norm operators, which assert eps >= 0 while a decode computes, in the thread pool.
void CheckEpsilons(const gguf_context* ctx) {
  const int64_t count = gguf_get_n_kv(ctx);
  for (int64_t i = 0; i < count; ++i) {
    const std::string key = gguf_get_key(ctx, i);
    if (key.find("epsilon") == std::string::npos) continue;
    double value = 0;
    const gguf_type type = gguf_get_kv_type(ctx, i);
    if (type == GGUF_TYPE_FLOAT32) {
      value = gguf_get_val_f32(ctx, i);
    } else if (type == GGUF_TYPE_FLOAT64) {
      value = gguf_get_val_f64(ctx, i);
    } else {
      continue;
    }
    if (!(value >= 0 && std::isfinite(value))) {
      throw std::runtime_error(key + " must be a finite number >= 0, got " +
                               std::to_string(value) + ": the model file is corrupted");
    }
  }
}

}  // namespace

void CheckGgufBeforeLoad(const std::string& path) {
  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;
  gguf_context* ctx = gguf_init_from_file(path.c_str(), params);
  if (ctx == nullptr) return;
  try {
    CheckDistinctTokens(ctx);
    CheckEpsilons(ctx);
  } catch (...) {
    gguf_free(ctx);
    throw;
  }
  gguf_free(ctx);
}

}  // namespace servellm
