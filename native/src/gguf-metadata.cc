// All GGUF key/values of a model file rendered as strings (see gguf-metadata.h).
//
// Owns: the port of llama.cpp's gguf_data_to_str / gguf_kv_to_str (src/llama-impl.cpp).
#include "gguf-metadata.h"

#include <cstdint>
#include <sstream>

#include "gguf.h"

namespace servellm {
namespace {

void ReplaceAll(std::string& text, const std::string& search, const std::string& replacement) {
  if (search.empty()) return;
  std::string out;
  size_t last = 0;
  size_t pos;
  while ((pos = text.find(search, last)) != std::string::npos) {
    out.append(text, last, pos - last);
    out += replacement;
    last = pos + search.size();
  }
  out.append(text, last, std::string::npos);
  text = std::move(out);
}

std::string DataToString(gguf_type type, const void* data, size_t i) {
  switch (type) {
    case GGUF_TYPE_UINT8:
      return std::to_string(static_cast<const uint8_t*>(data)[i]);
    case GGUF_TYPE_INT8:
      return std::to_string(static_cast<const int8_t*>(data)[i]);
    case GGUF_TYPE_UINT16:
      return std::to_string(static_cast<const uint16_t*>(data)[i]);
    case GGUF_TYPE_INT16:
      return std::to_string(static_cast<const int16_t*>(data)[i]);
    case GGUF_TYPE_UINT32:
      return std::to_string(static_cast<const uint32_t*>(data)[i]);
    case GGUF_TYPE_INT32:
      return std::to_string(static_cast<const int32_t*>(data)[i]);
    case GGUF_TYPE_UINT64:
      return std::to_string(static_cast<const uint64_t*>(data)[i]);
    case GGUF_TYPE_INT64:
      return std::to_string(static_cast<const int64_t*>(data)[i]);
    case GGUF_TYPE_FLOAT32:
      return std::to_string(static_cast<const float*>(data)[i]);
    case GGUF_TYPE_FLOAT64:
      return std::to_string(static_cast<const double*>(data)[i]);
    case GGUF_TYPE_BOOL:
      return static_cast<const int8_t*>(data)[i] != 0 ? "true" : "false";
    default:
      return "unknown type " + std::to_string(static_cast<int>(type));
  }
}

std::string ValueToString(const gguf_context* ctx, int64_t i) {
  const gguf_type type = gguf_get_kv_type(ctx, i);
  switch (type) {
    case GGUF_TYPE_STRING:
      return gguf_get_val_str(ctx, i);
    case GGUF_TYPE_ARRAY: {
      const gguf_type arrayType = gguf_get_arr_type(ctx, i);
      const size_t n = gguf_get_arr_n(ctx, i);
      const void* data = arrayType == GGUF_TYPE_STRING ? nullptr : gguf_get_arr_data(ctx, i);
      std::ostringstream out;
      out << "[";
      for (size_t j = 0; j < n; ++j) {
        if (arrayType == GGUF_TYPE_STRING) {
          std::string value = gguf_get_arr_str(ctx, i, j);
          ReplaceAll(value, "\\", "\\\\");
          ReplaceAll(value, "\"", "\\\"");
          out << '"' << value << '"';
        } else if (arrayType == GGUF_TYPE_ARRAY) {
          out << "???";
        } else {
          out << DataToString(arrayType, data, j);
        }
        if (j + 1 < n) out << ", ";
      }
      out << "]";
      return out.str();
    }
    default:
      return DataToString(type, gguf_get_val_data(ctx, i), 0);
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ReadGgufMetadata(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> result;
  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;
  gguf_context* ctx = gguf_init_from_file(path.c_str(), params);
  if (ctx == nullptr) return result;
  const int64_t count = gguf_get_n_kv(ctx);
  result.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    result.emplace_back(gguf_get_key(ctx, i), ValueToString(ctx, i));
  }
  gguf_free(ctx);
  return result;
}

}  // namespace servellm
