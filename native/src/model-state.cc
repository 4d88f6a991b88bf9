// A loaded llama_model and the facts read from it once (see model-state.h).
//
// Owns: llama_model_load_from_file / llama_model_free and the info gathering.
#include "model-state.h"

#include <sys/stat.h>

#include <cstdlib>
#include <stdexcept>

#include "abort-guard.h"
#include "gguf-metadata.h"
#include "gguf-preflight.h"
#include "llama.h"
#include "logger.h"

namespace servellm {
namespace {

std::string MetaString(const llama_model* model, const std::string& key) {
  const int32_t length = llama_model_meta_val_str(model, key.c_str(), nullptr, 0);
  if (length < 0) return std::string();
  std::string value(static_cast<size_t>(length) + 1, '\0');
  llama_model_meta_val_str(model, key.c_str(), value.data(), value.size());
  value.resize(static_cast<size_t>(length));
  return value;
}

bool HasMeta(const llama_model* model, const std::string& key) {
  return llama_model_meta_val_str(model, key.c_str(), nullptr, 0) >= 0;
}

std::string VocabTypeName(enum llama_vocab_type type) {
  switch (type) {
    case LLAMA_VOCAB_TYPE_SPM:
      return "spm";
    case LLAMA_VOCAB_TYPE_BPE:
      return "bpe";
    case LLAMA_VOCAB_TYPE_WPM:
      return "wpm";
    case LLAMA_VOCAB_TYPE_UGM:
      return "ugm";
    case LLAMA_VOCAB_TYPE_RWKV:
      return "rwkv";
    case LLAMA_VOCAB_TYPE_PLAMO2:
      return "plamo2";
    case LLAMA_VOCAB_TYPE_NONE:
    default:
      return "none";
  }
}

}  // namespace

std::string PoolingTypeName(int poolingType) {
  switch (poolingType) {
    case LLAMA_POOLING_TYPE_NONE:
      return "none";
    case LLAMA_POOLING_TYPE_MEAN:
      return "mean";
    case LLAMA_POOLING_TYPE_CLS:
      return "cls";
    case LLAMA_POOLING_TYPE_LAST:
      return "last";
    case LLAMA_POOLING_TYPE_RANK:
      return "rank";
    default:
      return "unspecified";
  }
}

ModelState::ModelState(llama_model* model, bool vocabOnly, std::string path)
    : model(model), vocab(llama_model_get_vocab(model)), vocabOnly(vocabOnly), path(std::move(path)) {}

ModelState::~ModelState() { llama_model_free(model); }

std::shared_ptr<ModelState> LoadModelState(const std::string& path, int32_t gpuLayers,
                                           bool useMmap, bool vocabOnly) {
  struct stat fileInfo {};
  if (stat(path.c_str(), &fileInfo) != 0 || !S_ISREG(fileInfo.st_mode)) {
    throw std::runtime_error("loadModel: no such model file '" + path + "'");
  }
  try {
    CheckGgufBeforeLoad(path);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error("loadModel: llama.cpp could not load '" + path + "': " + error.what());
  }
  llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = gpuLayers;
  params.load_mode = useMmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
  params.vocab_only = vocabOnly;
  Logger::TakeErrors();
  llama_model* model = nullptr;
  {
    // Hyperparameters of a corrupted file trip llama.cpp's assertions: a load error here.
    AbortGuard guard;
    model = llama_model_load_from_file(path.c_str(), params);
  }
  if (model == nullptr) {
    const std::string reason = Logger::TakeErrors();
    throw std::runtime_error("loadModel: llama.cpp could not load '" + path + "'" +
                             (reason.empty() ? std::string() : ": " + reason));
  }
  auto state = std::make_shared<ModelState>(model, vocabOnly, path);
  ModelInfoData& info = state->info;
  const llama_vocab* vocab = state->vocab;
  info.vocabSize = llama_vocab_n_tokens(vocab);
  info.architecture = MetaString(model, "general.architecture");
  if (vocabOnly) {
    // llama.cpp does not load the hyperparameters of a vocab-only model (its getters would
    // abort), so the sizes come from the GGUF scalars, 0 where absent.
    const auto metaInt = [&](const char* suffix) {
      const std::string text = MetaString(model, info.architecture + suffix);
      char* end = nullptr;
      const long value = std::strtol(text.c_str(), &end, 10);
      return end != text.c_str() && *end == '\0' ? static_cast<int32_t>(value) : 0;
    };
    info.trainContextLength = metaInt(".context_length");
    info.embeddingLength = metaInt(".embedding_length");
    info.embeddingOutputLength = info.embeddingLength;
    info.layerCount = metaInt(".block_count");
    info.headCount = metaInt(".attention.head_count");
    info.headCountKv = metaInt(".attention.head_count_kv");
  } else {
    info.trainContextLength = llama_model_n_ctx_train(model);
    info.embeddingLength = llama_model_n_embd(model);
    info.embeddingOutputLength = llama_model_n_embd_out(model);
    info.layerCount = llama_model_n_layer(model);
    info.headCount = llama_model_n_head(model);
    info.headCountKv = llama_model_n_head_kv(model);
  }
  char description[256] = {0};
  llama_model_desc(model, description, sizeof description);
  info.description = description;
  info.sizeBytes = llama_model_size(model);
  info.parameterCount = llama_model_n_params(model);
  info.bosToken = llama_vocab_bos(vocab);
  info.eosToken = llama_vocab_eos(vocab);
  info.eotToken = llama_vocab_eot(vocab);
  info.fimPreToken = llama_vocab_fim_pre(vocab);
  info.fimSufToken = llama_vocab_fim_suf(vocab);
  info.fimMidToken = llama_vocab_fim_mid(vocab);
  info.padToken = llama_vocab_pad(vocab);
  info.nlToken = llama_vocab_nl(vocab);
  info.addBos = llama_vocab_get_add_bos(vocab);
  info.addEos = llama_vocab_get_add_eos(vocab);
  info.hasEncoder = llama_model_has_encoder(model);
  info.hasDecoder = llama_model_has_decoder(model);
  info.isRecurrent = llama_model_is_recurrent(model) || llama_model_is_hybrid(model);
  const enum llama_rope_type rope = llama_model_rope_type(model);
  info.multiPositionRope = rope == LLAMA_ROPE_TYPE_MROPE || rope == LLAMA_ROPE_TYPE_IMROPE ||
                           rope == LLAMA_ROPE_TYPE_VISION;
  info.vocabType = VocabTypeName(llama_vocab_type(vocab));
  const std::string poolingKey = info.architecture + ".pooling_type";
  info.poolingType = "unspecified";
  if (HasMeta(model, poolingKey)) {
    const std::string text = MetaString(model, poolingKey);
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (end != text.c_str() && *end == '\0') info.poolingType = PoolingTypeName(static_cast<int>(value));
  }
  info.nonCausal = MetaString(model, info.architecture + ".attention.causal") == "false" ||
                   llama_model_is_diffusion(model);
  state->metadata = ReadGgufMetadata(path);
  if (state->metadata.empty()) {
    // Not readable as one GGUF file (unexpected): fall back to llama.cpp's scalar view.
    const int32_t count = llama_model_meta_count(model);
    for (int32_t i = 0; i < count; ++i) {
      char key[512] = {0};
      llama_model_meta_key_by_index(model, i, key, sizeof key);
      const int32_t length = llama_model_meta_val_str_by_index(model, i, nullptr, 0);
      std::string value(static_cast<size_t>(length < 0 ? 0 : length) + 1, '\0');
      llama_model_meta_val_str_by_index(model, i, value.data(), value.size());
      value.resize(static_cast<size_t>(length < 0 ? 0 : length));
      state->metadata.emplace_back(key, value);
    }
  }
  return state;
}

}  // namespace servellm
