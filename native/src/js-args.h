// Reading and checking JS arguments on the JS thread.
//
// Owns: the one place where JS values become C++ values. Every check throws a JS TypeError
// (wrong type) or RangeError (value out of bounds) whose message names the argument, the bound
// and the value, so no bad value ever reaches llama.cpp (whose assertions abort the process).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace servellm {

// An argument's name for error messages, rendered only when a check fails: either a whole name
// or `base.key` (the checks run on every decode, so building the string eagerly would cost an
// allocation per field per step). Holds pointers: use it within the full expression that made it.
class ArgName {
 public:
  ArgName(const std::string& full) : base_(&full) {}  // NOLINT: implicit on purpose
  ArgName(const char* full) : literal_(full) {}      // NOLINT: implicit on purpose
  ArgName(const std::string& base, const char* key) : base_(&base), key_(key) {}
  std::string Str() const {
    if (base_ == nullptr) return literal_;
    return key_ == nullptr ? *base_ : *base_ + "." + key_;
  }

 private:
  const std::string* base_ = nullptr;
  const char* literal_ = nullptr;
  const char* key_ = nullptr;
};

// `object[key]`, with the key's JS string created once per environment (see addon-data.h).
Napi::Value GetProperty(Napi::Env env, Napi::Object object, const char* key);

[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowError(Napi::Env env, const std::string& message);

// A JS value rendered for an error message ("undefined", "1.5", "'abc'", "Float32Array(3)").
std::string Describe(Napi::Value value);

Napi::Object RequireObject(Napi::Env env, Napi::Value value, const std::string& name);
std::string RequireString(Napi::Env env, Napi::Value value, const std::string& name);
bool RequireBool(Napi::Env env, Napi::Value value, const std::string& name);
// An integral number in [min, max].
int64_t RequireInteger(Napi::Env env, Napi::Value value, const std::string& name, int64_t min,
                       int64_t max);

// Copies a typed array of exactly the given kind; `typeName` is used in messages.
template <typename T>
std::vector<T> RequireTypedArray(Napi::Env env, Napi::Value value, napi_typedarray_type type,
                                 const char* typeName, const ArgName& name) {
  napi_typedarray_type actual;
  size_t length = 0;
  void* data = nullptr;
  bool isTypedArray = false;
  if (napi_is_typedarray(env, value, &isTypedArray) != napi_ok || !isTypedArray ||
      napi_get_typedarray_info(env, value, &actual, &length, &data, nullptr, nullptr) != napi_ok ||
      actual != type) {
    ThrowTypeError(env, name.Str() + " must be a " + typeName + ", got " + Describe(value));
  }
  const T* begin = static_cast<const T*>(data);
  return std::vector<T>(begin, begin + length);
}

inline std::vector<int32_t> RequireInt32Array(Napi::Env env, Napi::Value value,
                                              const ArgName& name) {
  return RequireTypedArray<int32_t>(env, value, napi_int32_array, "Int32Array", name);
}
inline std::vector<uint8_t> RequireUint8Array(Napi::Env env, Napi::Value value,
                                              const ArgName& name) {
  return RequireTypedArray<uint8_t>(env, value, napi_uint8_array, "Uint8Array", name);
}
inline std::vector<uint32_t> RequireUint32Array(Napi::Env env, Napi::Value value,
                                                const ArgName& name) {
  return RequireTypedArray<uint32_t>(env, value, napi_uint32_array, "Uint32Array", name);
}
inline std::vector<float> RequireFloat32Array(Napi::Env env, Napi::Value value,
                                              const ArgName& name) {
  return RequireTypedArray<float>(env, value, napi_float32_array, "Float32Array", name);
}
inline std::vector<uint64_t> RequireBigUint64Array(Napi::Env env, Napi::Value value,
                                                   const ArgName& name) {
  return RequireTypedArray<uint64_t>(env, value, napi_biguint64_array, "BigUint64Array", name);
}

// Throws a RangeError unless `actual == expected` ("<name> must have <expected> elements ...").
void RequireLength(Napi::Env env, size_t actual, size_t expected, const ArgName& name,
                   const char* why);

// Typed arrays built on the JS thread from worker-produced vectors (copied).
Napi::Int32Array ToInt32Array(Napi::Env env, const std::vector<int32_t>& values);
Napi::Uint8Array ToUint8Array(Napi::Env env, const std::vector<uint8_t>& values);
Napi::Uint32Array ToUint32Array(Napi::Env env, const std::vector<uint32_t>& values);

}  // namespace servellm
