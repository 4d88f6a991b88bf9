// NativeSamplingSpec checked and copied into C++ (see sampling-spec.h).
//
// Owns: the rules. Sampling parameters are checked only on rows that sample (sample[r] = 1);
// scoring fields (topLogprobs, targetTokens, returnLogits, scoreSampled) and the logit-bias arrays
// on every row.
#include "sampling-spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "js-args.h"

namespace servellm {
namespace {

std::string Num(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

// The optional CSR logit biases: all three arrays or none; offsets rows + 1 long, from 0,
// non-decreasing, ending at the (equal) token and value counts; tokens in [0, vocab) and distinct
// within a row; values finite.
void ParseLogitBias(Napi::Env env, Napi::Object object, const std::string& base,
                    SamplingSpec& spec) {
  const auto field = [&](const char* key) { return base + "." + key; };
  const auto name = [&](const char* key) { return ArgName(base, key); };
  const Napi::Value offsets = GetProperty(env, object, "biasOffsets");
  const Napi::Value tokens = GetProperty(env, object, "biasTokens");
  const Napi::Value values = GetProperty(env, object, "biasValues");
  const int present = (offsets.IsUndefined() ? 0 : 1) + (tokens.IsUndefined() ? 0 : 1) +
                      (values.IsUndefined() ? 0 : 1);
  if (present == 0) return;
  if (present != 3) {
    ThrowTypeError(env, field("biasOffsets") + ", " + field("biasTokens") + " and " +
                            field("biasValues") + " must be given together (or all omitted)");
  }
  spec.biasOffsets = RequireInt32Array(env, offsets, name("biasOffsets"));
  spec.biasTokens = RequireInt32Array(env, tokens, name("biasTokens"));
  spec.biasValues = RequireFloat32Array(env, values, name("biasValues"));
  RequireLength(env, spec.biasOffsets.size(), spec.rows + 1, name("biasOffsets"),
                "output rows + 1");
  const size_t count = spec.biasTokens.size();
  if (spec.biasValues.size() != count) {
    RequireLength(env, spec.biasValues.size(), count, name("biasValues"),
                  ("one per entry of " + field("biasTokens")).c_str());
  }
  if (spec.biasOffsets[0] != 0) {
    ThrowRangeError(env, field("biasOffsets") + "[0] must be 0, got " +
                             std::to_string(spec.biasOffsets[0]));
  }
  for (size_t r = 0; r < spec.rows; ++r) {
    if (spec.biasOffsets[r + 1] < spec.biasOffsets[r]) {
      ThrowRangeError(env, field("biasOffsets") + " must be non-decreasing, got " +
                               std::to_string(spec.biasOffsets[r + 1]) + " at [" +
                               std::to_string(r + 1) + "] after " +
                               std::to_string(spec.biasOffsets[r]));
    }
  }
  if (static_cast<size_t>(spec.biasOffsets[spec.rows]) != count) {
    ThrowRangeError(env, field("biasOffsets") + "[" + std::to_string(spec.rows) +
                             "] must equal " + field("biasTokens") + ".length (" +
                             std::to_string(count) + "), got " +
                             std::to_string(spec.biasOffsets[spec.rows]));
  }
  // Per entry: the range and finiteness checks (messages are built only on failure: this runs
  // on every decode). Per row: duplicates, found by sorting a copy of the row's tokens (rows are
  // short; a vocabulary-sized table would cost more than the checks).
  const auto at = [](int32_t i) { return "[" + std::to_string(i) + "]"; };
  std::vector<int32_t> sorted;
  for (size_t r = 0; r < spec.rows; ++r) {
    const int32_t begin = spec.biasOffsets[r];
    const int32_t end = spec.biasOffsets[r + 1];
    for (int32_t i = begin; i < end; ++i) {
      const int32_t token = spec.biasTokens[static_cast<size_t>(i)];
      if (token < 0 || token >= spec.vocab) {
        ThrowRangeError(env, field("biasTokens") + at(i) + " must be in [0, " +
                                 std::to_string(spec.vocab) + "), got " + std::to_string(token));
      }
      const float value = spec.biasValues[static_cast<size_t>(i)];
      if (!std::isfinite(value)) {
        ThrowRangeError(env, field("biasValues") + at(i) + " must be finite, got " + Num(value));
      }
    }
    sorted.assign(spec.biasTokens.begin() + begin, spec.biasTokens.begin() + end);
    std::sort(sorted.begin(), sorted.end());
    const auto duplicate = std::adjacent_find(sorted.begin(), sorted.end());
    if (duplicate != sorted.end()) {
      // The second occurrence, for the message.
      int32_t second = end - 1;
      bool seen = false;
      for (int32_t i = begin; i < end; ++i) {
        if (spec.biasTokens[static_cast<size_t>(i)] != *duplicate) continue;
        if (seen) {
          second = i;
          break;
        }
        seen = true;
      }
      ThrowRangeError(env, field("biasTokens") + at(second) + ": token " +
                               std::to_string(*duplicate) + " appears twice in row " +
                               std::to_string(r));
    }
  }
}

}  // namespace

RowRequest SamplingSpec::Request(size_t row) const {
  RowRequest request;
  request.sample = sample[row] != 0;
  request.temperature = temperature[row];
  request.topK = topK[row];
  request.topP = topP[row];
  request.minP = minP[row];
  request.seed = seeds[row];
  request.topLogprobs = topLogprobs[row];
  request.targetToken = targetTokens[row];
  request.scoreSample = scoreSampled.empty() || scoreSampled[row] != 0;
  if (!maskIndex.empty() && maskIndex[row] >= 0) {
    request.allowedMask = allowedMasks.data() + static_cast<size_t>(maskIndex[row]) * maskWords;
  }
  if (!biasOffsets.empty()) {
    const size_t begin = static_cast<size_t>(biasOffsets[row]);
    request.biasCount = biasOffsets[row + 1] - biasOffsets[row];
    request.biasTokens = biasTokens.data() + begin;
    request.biasValues = biasValues.data() + begin;
  }
  return request;
}

SamplingSpec ParseSamplingSpec(Napi::Env env, Napi::Value value, size_t rows, int32_t vocab,
                               const char* name) {
  const std::string base = name;
  Napi::Object object = RequireObject(env, value, base);
  SamplingSpec spec;
  spec.rows = rows;
  spec.vocab = vocab;
  const char* why = "one per output row";
  const auto field = [&](const char* key) { return base + "." + key; };

  // Each per-row field: the right typed array, one entry per output row.
  const auto perRow = [&](auto require, const char* key) {
    auto values = require(env, GetProperty(env, object, key), ArgName(base, key));
    RequireLength(env, values.size(), rows, ArgName(base, key), why);
    return values;
  };
  spec.sample = perRow(RequireUint8Array, "sample");
  spec.temperature = perRow(RequireFloat32Array, "temperature");
  spec.topK = perRow(RequireInt32Array, "topK");
  spec.topP = perRow(RequireFloat32Array, "topP");
  spec.minP = perRow(RequireFloat32Array, "minP");
  spec.seeds = perRow(RequireBigUint64Array, "seeds");
  spec.topLogprobs = perRow(RequireInt32Array, "topLogprobs");
  spec.targetTokens = perRow(RequireInt32Array, "targetTokens");
  spec.returnLogits = perRow(RequireUint8Array, "returnLogits");
  if (const Napi::Value scored = GetProperty(env, object, "scoreSampled"); !scored.IsUndefined()) {
    spec.scoreSampled = perRow(RequireUint8Array, "scoreSampled");
  }

  const Napi::Value masks = GetProperty(env, object, "allowedMasks");
  const Napi::Value index = GetProperty(env, object, "maskIndex");
  const bool haveMasks = !masks.IsUndefined();
  const bool haveIndex = !index.IsUndefined();
  if (haveMasks != haveIndex) {
    ThrowTypeError(env, base + ".allowedMasks and " + base +
                            ".maskIndex must be given together (or both omitted)");
  }
  spec.maskWords = (static_cast<size_t>(vocab) + 31) / 32;
  size_t maskCount = 0;
  if (haveMasks) {
    spec.allowedMasks = RequireUint32Array(env, masks, ArgName(base, "allowedMasks"));
    spec.maskIndex = RequireInt32Array(env, index, ArgName(base, "maskIndex"));
    RequireLength(env, spec.maskIndex.size(), rows, ArgName(base, "maskIndex"), why);
    if (spec.allowedMasks.size() % spec.maskWords != 0) {
      ThrowRangeError(env, field("allowedMasks") + " length must be a multiple of " +
                               std::to_string(spec.maskWords) + " (ceil(vocabSize / 32) words per mask), got " +
                               std::to_string(spec.allowedMasks.size()));
    }
    maskCount = spec.allowedMasks.size() / spec.maskWords;
  }
  ParseLogitBias(env, object, base, spec);

  for (size_t r = 0; r < rows; ++r) {
    const auto at = [r] { return "[" + std::to_string(r) + "]"; };
    const int32_t top = spec.topLogprobs[r];
    if (top < 0 || top > vocab) {
      ThrowRangeError(env, field("topLogprobs") + at() + " must be in [0, " + std::to_string(vocab) +
                               "], got " + std::to_string(top));
    }
    if (top > spec.topCount) spec.topCount = top;
    const int32_t target = spec.targetTokens[r];
    if (target < -1 || target >= vocab) {
      ThrowRangeError(env, field("targetTokens") + at() + " must be -1 or in [0, " +
                               std::to_string(vocab) + "), got " + std::to_string(target));
    }
    if (spec.returnLogits[r] != 0) ++spec.logitRows;
    if (haveMasks) {
      const int32_t mask = spec.maskIndex[r];
      if (mask < -1 || mask >= static_cast<int64_t>(maskCount)) {
        ThrowRangeError(env, field("maskIndex") + at() + " must be -1 or in [0, " +
                                 std::to_string(maskCount) + ") (masks in allowedMasks), got " +
                                 std::to_string(mask));
      }
    }
    if (spec.sample[r] == 0) continue;
    const float temperature = spec.temperature[r];
    if (std::isnan(temperature)) {
      ThrowRangeError(env, field("temperature") + at() + " must be a number (<= 1e-5 = greedy), got NaN");
    }
    const float topP = spec.topP[r];
    if (!(topP > 0.0f && topP <= 1.0f)) {
      ThrowRangeError(env, field("topP") + at() + " must be in (0, 1], got " + Num(topP));
    }
    const float minP = spec.minP[r];
    if (!(minP >= 0.0f && minP <= 1.0f)) {
      ThrowRangeError(env, field("minP") + at() + " must be in [0, 1], got " + Num(minP));
    }
    if (haveMasks && spec.maskIndex[r] >= 0) {
      const uint32_t* words =
          spec.allowedMasks.data() + static_cast<size_t>(spec.maskIndex[r]) * spec.maskWords;
      bool any = false;
      for (size_t w = 0; w < spec.maskWords && !any; ++w) {
        uint32_t bits = words[w];
        const size_t firstToken = w * 32;
        if (firstToken + 32 > static_cast<size_t>(vocab)) {
          bits &= (uint32_t{1} << (static_cast<size_t>(vocab) - firstToken)) - 1u;
        }
        any = bits != 0;
      }
      if (!any) {
        ThrowRangeError(env, field("allowedMasks") + " mask " + std::to_string(spec.maskIndex[r]) +
                                 " (used by row " + std::to_string(r) + ") allows no token");
      }
    }
  }
  return spec;
}

}  // namespace servellm
