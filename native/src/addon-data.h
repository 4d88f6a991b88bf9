// Per-environment data of the addon: the JS classes it instantiates from C++.
//
// Owns: the constructor references of Model and Context (set at module init, read by
// loadModel / createContext to build their results).
#pragma once

#include <napi.h>

namespace servellm {

struct AddonData {
  Napi::FunctionReference modelConstructor;
  Napi::FunctionReference contextConstructor;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace servellm
