// Per-environment data of the addon: the JS classes it instantiates from C++, and the property
// keys it reads and writes on every decode.
//
// Owns: the constructor references of Model and Context (set at module init, read by
// loadModel / createContext to build their results), and the property-key cache. A key made
// from a C string on every access costs V8 a string-table lookup each time (a tenth of a decode
// call's host time, measured); a cached key is one reference read.
#pragma once

#include <napi.h>

#include <unordered_map>

namespace servellm {

struct AddonData {
  Napi::FunctionReference modelConstructor;
  Napi::FunctionReference contextConstructor;

  // The JS string for `key`, created on first use. `key` must be a string literal: the cache is
  // keyed by its address. The strings live in one JS array held by reference (Node-API 8 cannot
  // reference a string itself); V8 internalizes each in place on its first use as a key.
  Napi::String Key(Napi::Env env, const char* key) {
    if (keyHolder.IsEmpty()) keyHolder = Napi::Persistent(Napi::Object::New(env));
    Napi::Object holder = keyHolder.Value();
    auto found = keyIndex.find(key);
    if (found == keyIndex.end()) {
      const auto index = static_cast<uint32_t>(keyIndex.size());
      holder.Set(index, Napi::String::New(env, key));
      found = keyIndex.emplace(key, index).first;
    }
    return holder.Get(found->second).As<Napi::String>();
  }

 private:
  Napi::ObjectReference keyHolder;
  std::unordered_map<const char*, uint32_t> keyIndex;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace servellm
