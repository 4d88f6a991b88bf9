// The JS NativeModel object (see model.h).
//
// Owns: argument checks of the model methods and the JS shapes of info and vocabTable.
#include "model.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "addon-data.h"
#include "create-context-worker.h"
#include "js-args.h"
#include "llama.h"

namespace servellm {
namespace {

Napi::Object BuildInfo(Napi::Env env, const ModelInfoData& data) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("vocabSize", data.vocabSize);
  info.Set("trainContextLength", data.trainContextLength);
  info.Set("embeddingLength", data.embeddingLength);
  info.Set("layerCount", data.layerCount);
  info.Set("headCount", data.headCount);
  info.Set("headCountKv", data.headCountKv);
  info.Set("description", data.description);
  info.Set("sizeBytes", static_cast<double>(data.sizeBytes));
  info.Set("parameterCount", static_cast<double>(data.parameterCount));
  info.Set("bosToken", data.bosToken);
  info.Set("eosToken", data.eosToken);
  info.Set("eotToken", data.eotToken);
  info.Set("fimPreToken", data.fimPreToken);
  info.Set("fimSufToken", data.fimSufToken);
  info.Set("fimMidToken", data.fimMidToken);
  info.Set("padToken", data.padToken);
  info.Set("nlToken", data.nlToken);
  info.Set("addBos", data.addBos);
  info.Set("addEos", data.addEos);
  info.Set("hasEncoder", data.hasEncoder);
  info.Set("hasDecoder", data.hasDecoder);
  info.Set("isRecurrent", data.isRecurrent);
  info.Set("vocabType", data.vocabType);
  info.Set("poolingType", data.poolingType);
  info.Freeze();
  return info;
}

int ParseFlashAttention(Napi::Env env, Napi::Value value, const std::string& name) {
  const std::string text = RequireString(env, value, name);
  if (text == "auto") return LLAMA_FLASH_ATTN_TYPE_AUTO;
  if (text == "on") return LLAMA_FLASH_ATTN_TYPE_ENABLED;
  if (text == "off") return LLAMA_FLASH_ATTN_TYPE_DISABLED;
  ThrowRangeError(env, name + " must be 'auto', 'on' or 'off', got " + Describe(value));
}

}  // namespace

Napi::Function Model::DefineClass(Napi::Env env) {
  return ObjectWrap<Model>::DefineClass(
      env, "NativeModel",
      {
          InstanceAccessor<&Model::GetInfo>("info"),
          InstanceMethod<&Model::Metadata>("metadata"),
          InstanceMethod<&Model::ChatTemplate>("chatTemplate"),
          InstanceMethod<&Model::Tokenize>("tokenize"),
          InstanceMethod<&Model::Detokenize>("detokenize"),
          InstanceMethod<&Model::VocabTable>("vocabTable"),
          InstanceMethod<&Model::TokenText>("tokenText"),
          InstanceMethod<&Model::CreateContext>("createContext"),
          InstanceMethod<&Model::Dispose>("dispose"),
      });
}

Napi::Object Model::NewInstance(Napi::Env env, std::shared_ptr<ModelState> state) {
  auto* holder = new std::shared_ptr<ModelState>(std::move(state));
  Napi::External<std::shared_ptr<ModelState>> external =
      Napi::External<std::shared_ptr<ModelState>>::New(env, holder);
  Napi::Object object;
  try {
    object = GetAddonData(env).modelConstructor.New({external});
  } catch (...) {
    delete holder;
    throw;
  }
  delete holder;
  return object;
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowTypeError(env, "NativeModel cannot be constructed from JS; use loadModel()");
  }
  state_ = *info[0].As<Napi::External<std::shared_ptr<ModelState>>>().Data();
  info_ = Napi::Persistent(BuildInfo(env, state_->info));
}

ModelState& Model::Live(Napi::Env env, const char* method) {
  if (!state_) ThrowError(env, std::string("model.") + method + ": the model is disposed");
  return *state_;
}

Napi::Value Model::GetInfo(const Napi::CallbackInfo& /*info*/) { return info_.Value(); }

Napi::Value Model::Metadata(const Napi::CallbackInfo& info) {
  ModelState& state = Live(info.Env(), "metadata");
  Napi::Object out = Napi::Object::New(info.Env());
  for (const auto& [key, value] : state.metadata) out.Set(key, value);
  return out;
}

Napi::Value Model::ChatTemplate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelState& state = Live(env, "chatTemplate");
  std::string name;
  const bool named = info.Length() > 0 && !info[0].IsUndefined();
  if (named) name = RequireString(env, info[0], "chatTemplate(name)");
  const char* text = llama_model_chat_template(state.model, named ? name.c_str() : nullptr);
  if (text == nullptr) return env.Null();
  return Napi::String::New(env, text);
}

Napi::Value Model::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelState& state = Live(env, "tokenize");
  const std::string text = RequireString(env, info[0], "tokenize(text)");
  const bool addSpecial = RequireBool(env, info[1], "tokenize(addSpecial)");
  const bool parseSpecial = RequireBool(env, info[2], "tokenize(parseSpecial)");
  if (text.size() > static_cast<size_t>(INT32_MAX) / 2) {
    ThrowRangeError(env, "tokenize(text) is too long: " + std::to_string(text.size()) + " bytes");
  }
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t count = llama_tokenize(state.vocab, text.data(), static_cast<int32_t>(text.size()),
                                 tokens.data(), static_cast<int32_t>(tokens.size()), addSpecial,
                                 parseSpecial);
  if (count < 0) {
    if (count == INT32_MIN) ThrowRangeError(env, "tokenize: the result exceeds 2^31 tokens");
    tokens.resize(static_cast<size_t>(-count));
    count = llama_tokenize(state.vocab, text.data(), static_cast<int32_t>(text.size()),
                           tokens.data(), static_cast<int32_t>(tokens.size()), addSpecial,
                           parseSpecial);
    if (count < 0) ThrowError(env, "tokenize: llama_tokenize failed (" + std::to_string(count) + ")");
  }
  tokens.resize(static_cast<size_t>(count));
  return ToInt32Array(env, tokens);
}

Napi::Value Model::Detokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelState& state = Live(env, "detokenize");
  const std::vector<int32_t> tokens = RequireInt32Array(env, info[0], "detokenize(tokens)");
  const bool removeSpecial = RequireBool(env, info[1], "detokenize(removeSpecial)");
  const bool unparseSpecial = RequireBool(env, info[2], "detokenize(unparseSpecial)");
  const int32_t vocab = state.info.vocabSize;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      ThrowRangeError(env, "detokenize(tokens)[" + std::to_string(i) + "] must be in [0, " +
                               std::to_string(vocab) + "), got " + std::to_string(tokens[i]));
    }
  }
  if (tokens.size() > static_cast<size_t>(INT32_MAX) / 64) {
    ThrowRangeError(env, "detokenize(tokens) is too long: " + std::to_string(tokens.size()));
  }
  std::vector<char> text(tokens.size() * 8 + 64);
  int32_t length = llama_detokenize(state.vocab, tokens.data(), static_cast<int32_t>(tokens.size()),
                                    text.data(), static_cast<int32_t>(text.size()), removeSpecial,
                                    unparseSpecial);
  if (length < 0) {
    text.resize(static_cast<size_t>(-length));
    length = llama_detokenize(state.vocab, tokens.data(), static_cast<int32_t>(tokens.size()),
                              text.data(), static_cast<int32_t>(text.size()), removeSpecial,
                              unparseSpecial);
    if (length < 0) ThrowError(env, "detokenize: llama_detokenize failed (" + std::to_string(length) + ")");
  }
  return Napi::String::New(env, text.data(), static_cast<size_t>(length));
}

Napi::Value Model::VocabTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelState& state = Live(env, "vocabTable");
  const int32_t vocab = state.info.vocabSize;
  std::vector<char> bytes;
  std::vector<size_t> offsets(static_cast<size_t>(vocab) + 1, 0);
  std::vector<uint32_t> attributes(static_cast<size_t>(vocab));
  std::vector<uint8_t> endOfGeneration(static_cast<size_t>(vocab));
  std::vector<uint8_t> control(static_cast<size_t>(vocab));
  std::vector<char> piece(256);
  for (int32_t t = 0; t < vocab; ++t) {
    int32_t length = llama_token_to_piece(state.vocab, t, piece.data(),
                                          static_cast<int32_t>(piece.size()), 0, true);
    if (length < 0) {
      piece.resize(static_cast<size_t>(-length));
      length = llama_token_to_piece(state.vocab, t, piece.data(),
                                    static_cast<int32_t>(piece.size()), 0, true);
    }
    if (length > 0) bytes.insert(bytes.end(), piece.data(), piece.data() + length);
    offsets[static_cast<size_t>(t) + 1] = bytes.size();
    attributes[static_cast<size_t>(t)] = static_cast<uint32_t>(llama_vocab_get_attr(state.vocab, t));
    endOfGeneration[static_cast<size_t>(t)] = llama_vocab_is_eog(state.vocab, t) ? 1 : 0;
    control[static_cast<size_t>(t)] = llama_vocab_is_control(state.vocab, t) ? 1 : 0;
  }
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes.size());
  if (!bytes.empty()) std::memcpy(buffer.Data(), bytes.data(), bytes.size());
  Napi::Array pieces = Napi::Array::New(env, static_cast<size_t>(vocab));
  for (int32_t t = 0; t < vocab; ++t) {
    const size_t begin = offsets[static_cast<size_t>(t)];
    const size_t end = offsets[static_cast<size_t>(t) + 1];
    pieces.Set(static_cast<uint32_t>(t), Napi::Uint8Array::New(env, end - begin, buffer, begin));
  }
  Napi::Object table = Napi::Object::New(env);
  table.Set("pieces", pieces);
  table.Set("attributes", ToUint32Array(env, attributes));
  table.Set("endOfGeneration", ToUint8Array(env, endOfGeneration));
  table.Set("control", ToUint8Array(env, control));
  return table;
}

// The token's text as the vocabulary stores it (GGUF tokenizer.ggml.tokens: "\u0120the" for a
// BPE vocabulary, "\u2581the" for SentencePiece), what Hugging Face's convert_ids_to_tokens gives.
Napi::Value Model::TokenText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelState& state = Live(env, "tokenText");
  const auto token = static_cast<llama_token>(
      RequireInteger(env, info[0], "tokenText(token)", 0, state.info.vocabSize - 1));
  const char* text = llama_vocab_get_text(state.vocab, token);
  return Napi::String::New(env, text == nullptr ? "" : text);
}

Napi::Value Model::CreateContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto deferred = Napi::Promise::Deferred::New(env);
  ContextRequest request;
  try {
    ModelState& state = Live(env, "createContext");
    if (state.vocabOnly) {
      ThrowError(env, "createContext: the model was loaded with vocabOnly: true (no weights)");
    }
    if (state.info.hasEncoder) {
      ThrowError(env, "createContext: encoder-decoder models are not supported");
    }
    const std::string name = "createContext(options)";
    Napi::Object options = RequireObject(env, info[0], name);
    const auto field = [&](const char* key) { return name + "." + key; };
    request.contextSize = static_cast<int32_t>(
        RequireInteger(env, options.Get("contextSize"), field("contextSize"), 1, INT32_MAX));
    request.batchSize = static_cast<int32_t>(
        RequireInteger(env, options.Get("batchSize"), field("batchSize"), 1, INT32_MAX));
    request.microBatchSize = static_cast<int32_t>(RequireInteger(
        env, options.Get("microBatchSize"), field("microBatchSize"), 1, request.batchSize));
    request.maxSequences = static_cast<int32_t>(
        RequireInteger(env, options.Get("maxSequences"), field("maxSequences"), 1,
                       static_cast<int64_t>(llama_max_parallel_sequences())));
    request.unifiedKv = RequireBool(env, options.Get("unifiedKv"), field("unifiedKv"));
    request.threads = static_cast<int32_t>(
        RequireInteger(env, options.Get("threads"), field("threads"), 1, GGML_MAX_N_THREADS));
    request.flashAttention =
        ParseFlashAttention(env, options.Get("flashAttention"), field("flashAttention"));
    request.embeddings = RequireBool(env, options.Get("embeddings"), field("embeddings"));
    if (!request.unifiedKv && request.contextSize < request.maxSequences) {
      ThrowRangeError(env, field("contextSize") + " must be >= maxSequences (" +
                               std::to_string(request.maxSequences) +
                               ") when unifiedKv is false (one stream per sequence), got " +
                               std::to_string(request.contextSize));
    }
    // llama.cpp reserves one output row per sequence when it creates the context, and asserts
    // (aborting the process) that they fit its batch: min(contextSize, batchSize) with causal
    // attention (the context size as requested, before its padding).
    const int32_t outputRows = std::min(request.contextSize, request.batchSize);
    if (request.maxSequences > outputRows) {
      ThrowRangeError(env, field("maxSequences") +
                               " must not exceed min(contextSize, batchSize) (" +
                               std::to_string(outputRows) +
                               "): llama.cpp reserves an output row per sequence in a batch, got " +
                               std::to_string(request.maxSequences));
    }
  } catch (const Napi::Error& error) {
    deferred.Reject(error.Value());
    return deferred.Promise();
  }
  state_->liveContexts.fetch_add(1);
  auto* worker = new CreateContextWorker(env, state_, request);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Model::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_) return env.Undefined();
  const int live = state_->liveContexts.load();
  if (live > 0) {
    ThrowError(env, "model.dispose: " + std::to_string(live) +
                        " context(s) of this model are still alive; dispose them first");
  }
  state_.reset();
  return env.Undefined();
}

}  // namespace servellm
