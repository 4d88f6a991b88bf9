// Checks of a GGUF file before llama.cpp loads it, for defects llama.cpp 0.4.0 asserts on
// (GGML_ASSERT aborts the process) instead of reporting them as load errors.
//
// Owns: the list of such defects and their messages. A file that gguf cannot read at all passes
// (llama.cpp reports that itself, as an error).
#pragma once

#include <string>

namespace servellm {

// Throws std::runtime_error naming the defect: two entries of tokenizer.ggml.tokens with the
// same text (an empty text counts as llama.cpp renames it, "[EMPTY_<index>]"); a normalization
// epsilon (a float key naming "epsilon") that is negative or not finite.
void CheckGgufBeforeLoad(const std::string& path);

}  // namespace servellm
