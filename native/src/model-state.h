// A loaded llama_model and the facts read from it once, shared by the JS Model and its contexts.
//
// Owns: the llama_model's lifetime. Held through std::shared_ptr by the JS Model object and by
// every context created from it, so whatever order finalizers run in (process teardown runs them
// in no particular order), the model is freed after its last context. `liveContexts` counts
// contexts not yet disposed or finalized: Model.dispose() refuses while it is non-zero.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct llama_model;
struct llama_vocab;

namespace servellm {

struct ModelInfoData {
  int32_t vocabSize = 0;
  int32_t trainContextLength = 0;
  int32_t embeddingLength = 0;
  int32_t embeddingOutputLength = 0;
  int32_t layerCount = 0;
  int32_t headCount = 0;
  int32_t headCountKv = 0;
  std::string description;
  uint64_t sizeBytes = 0;
  uint64_t parameterCount = 0;
  int32_t bosToken = -1;
  int32_t eosToken = -1;
  int32_t eotToken = -1;
  // Fill-in-the-middle tokens (-1 where the model has none).
  int32_t fimPreToken = -1;
  int32_t fimSufToken = -1;
  int32_t fimMidToken = -1;
  int32_t padToken = -1;
  int32_t nlToken = -1;
  bool addBos = false;
  bool addEos = false;
  bool hasEncoder = false;
  bool hasDecoder = false;
  bool isRecurrent = false;
  // M-RoPE and similar: several positions per token (position continuity is llama.cpp's to check).
  bool multiPositionRope = false;
  // <arch>.attention.causal = false or a diffusion model: a batch must fit one micro-batch.
  bool nonCausal = false;
  std::string vocabType;
  std::string poolingType;
  std::string architecture;
};

struct ModelState {
  ModelState(llama_model* model, bool vocabOnly, std::string path);
  ~ModelState();
  ModelState(const ModelState&) = delete;
  ModelState& operator=(const ModelState&) = delete;

  llama_model* const model;
  const llama_vocab* const vocab;
  const bool vocabOnly;
  const std::string path;
  ModelInfoData info;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::atomic<int> liveContexts{0};
};

// Loads a model (any thread). Throws std::runtime_error with llama.cpp's last error line.
std::shared_ptr<ModelState> LoadModelState(const std::string& path, int32_t gpuLayers,
                                           bool useMmap, bool vocabOnly);

// "none" | "mean" | "cls" | "last" | "rank" | "unspecified" for a llama_pooling_type value.
std::string PoolingTypeName(int poolingType);

}  // namespace servellm
