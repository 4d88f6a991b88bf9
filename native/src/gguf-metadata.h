// All GGUF key/values of a model file rendered as strings.
//
// Owns: reading the metadata section with gguf_init_from_file (no tensor data) and rendering
// every value exactly as llama.cpp's gguf_kv_to_str does, arrays included ("[1, 2]",
// ["a", "b"] with quotes and backslashes escaped). llama_model_meta_* skips arrays, hence this.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace servellm {

// Key/value pairs in file order; empty when the file cannot be read as GGUF.
std::vector<std::pair<std::string, std::string>> ReadGgufMetadata(const std::string& path);

}  // namespace servellm
