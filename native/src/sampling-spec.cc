// NativeSamplingSpec checked and copied into C++ (see sampling-spec.h).
//
// Owns: the rules. Sampling parameters are checked only on rows that sample (sample[r] = 1);
// scoring fields (topLogprobs, targetTokens, returnLogits, scoreSampled), the logit-bias arrays and
// the penalty arrays (per-row parameters included) on every row.
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

// A CSR list of token ids per row (the logit biases, the penalties): offsets rows + 1 long, from
// 0, non-decreasing, ending at tokens.size(); tokens in [0, vocab) and distinct within a row.
// `offsetsKey` and `tokensKey` name the two arrays in messages (built only on failure: this runs
// on every decode).
void CheckCsrTokens(Napi::Env env, const SamplingSpec& spec, const std::vector<int32_t>& offsets,
                    const std::vector<int32_t>& tokens, const std::string& base,
                    const char* offsetsKey, const char* tokensKey) {
  const auto field = [&](const char* key) { return base + "." + key; };
  RequireLength(env, offsets.size(), spec.rows + 1, ArgName(base, offsetsKey), "output rows + 1");
  if (offsets[0] != 0) {
    ThrowRangeError(env, field(offsetsKey) + "[0] must be 0, got " + std::to_string(offsets[0]));
  }
  for (size_t r = 0; r < spec.rows; ++r) {
    if (offsets[r + 1] < offsets[r]) {
      ThrowRangeError(env, field(offsetsKey) + " must be non-decreasing, got " +
                               std::to_string(offsets[r + 1]) + " at [" + std::to_string(r + 1) +
                               "] after " + std::to_string(offsets[r]));
    }
  }
  const size_t count = tokens.size();
  if (static_cast<size_t>(offsets[spec.rows]) != count) {
    ThrowRangeError(env, field(offsetsKey) + "[" + std::to_string(spec.rows) + "] must equal " +
                             field(tokensKey) + ".length (" + std::to_string(count) + "), got " +
                             std::to_string(offsets[spec.rows]));
  }
  if (count == 0) return;
  // Duplicates through one bit per vocabulary token, set while a row is scanned and cleared
  // after it: linear in the entries (a penalty row lists every distinct token of a sequence, so
  // sorting a copy per row would cost more than the rest of the checks).
  std::vector<uint64_t> seen((static_cast<size_t>(spec.vocab) + 63) / 64);
  const auto at = [](int32_t i) { return "[" + std::to_string(i) + "]"; };
  for (size_t r = 0; r < spec.rows; ++r) {
    const int32_t begin = offsets[r];
    const int32_t end = offsets[r + 1];
    for (int32_t i = begin; i < end; ++i) {
      const int32_t token = tokens[static_cast<size_t>(i)];
      if (token < 0 || token >= spec.vocab) {
        ThrowRangeError(env, field(tokensKey) + at(i) + " must be in [0, " +
                                 std::to_string(spec.vocab) + "), got " + std::to_string(token));
      }
      uint64_t& word = seen[static_cast<size_t>(token) >> 6];
      const uint64_t bit = uint64_t{1} << (token & 63);
      if ((word & bit) != 0) {
        ThrowRangeError(env, field(tokensKey) + at(i) + ": token " + std::to_string(token) +
                                 " appears twice in row " + std::to_string(r));
      }
      word |= bit;
    }
    for (int32_t i = begin; i < end; ++i) {
      seen[static_cast<size_t>(tokens[static_cast<size_t>(i)]) >> 6] = 0;
    }
  }
}

// The optional CSR logit biases: all three arrays or none; the CSR rules of CheckCsrTokens; one
// value per token, each finite.
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
  const size_t count = spec.biasTokens.size();
  if (spec.biasValues.size() != count) {
    RequireLength(env, spec.biasValues.size(), count, name("biasValues"),
                  ("one per entry of " + field("biasTokens")).c_str());
  }
  CheckCsrTokens(env, spec, spec.biasOffsets, spec.biasTokens, base, "biasOffsets", "biasTokens");
  for (size_t i = 0; i < count; ++i) {
    const float value = spec.biasValues[i];
    if (!std::isfinite(value)) {
      ThrowRangeError(env, field("biasValues") + "[" + std::to_string(i) +
                               "] must be finite, got " + Num(value));
    }
  }
}

// The optional penalties: all six arrays or none. penaltyOffsets / penaltyTokens follow the CSR
// rules of CheckCsrTokens; penaltyCounts has one count >= 0 per token; the three per-row
// parameter arrays have one entry per output row (every row, as the packing fills neutral values
// for rows without penalties): repetition finite and > 0, frequency and presence finite.
void ParsePenalties(Napi::Env env, Napi::Object object, const std::string& base,
                    SamplingSpec& spec) {
  static constexpr const char* kKeys[] = {"penaltyOffsets",     "penaltyTokens",
                                          "penaltyCounts",      "repetitionPenalties",
                                          "frequencyPenalties", "presencePenalties"};
  constexpr int kCount = static_cast<int>(sizeof kKeys / sizeof kKeys[0]);
  Napi::Value values[kCount];
  int present = 0;
  for (int k = 0; k < kCount; ++k) {
    values[k] = GetProperty(env, object, kKeys[k]);
    if (!values[k].IsUndefined()) ++present;
  }
  if (present == 0) return;
  const auto field = [&](const char* key) { return base + "." + key; };
  if (present != kCount) {
    std::string names;
    for (int k = 0; k < kCount; ++k) {
      names += (k == 0 ? "" : k + 1 == kCount ? " and " : ", ") + field(kKeys[k]);
    }
    ThrowTypeError(env, names + " must be given together (or all omitted)");
  }
  const auto name = [&](const char* key) { return ArgName(base, key); };
  spec.penaltyOffsets = RequireInt32Array(env, values[0], name("penaltyOffsets"));
  spec.penaltyTokens = RequireInt32Array(env, values[1], name("penaltyTokens"));
  spec.penaltyCounts = RequireInt32Array(env, values[2], name("penaltyCounts"));
  spec.repetitionPenalties = RequireFloat32Array(env, values[3], name("repetitionPenalties"));
  spec.frequencyPenalties = RequireFloat32Array(env, values[4], name("frequencyPenalties"));
  spec.presencePenalties = RequireFloat32Array(env, values[5], name("presencePenalties"));
  const size_t count = spec.penaltyTokens.size();
  if (spec.penaltyCounts.size() != count) {
    RequireLength(env, spec.penaltyCounts.size(), count, name("penaltyCounts"),
                  ("one per entry of " + field("penaltyTokens")).c_str());
  }
  const char* why = "one per output row";
  RequireLength(env, spec.repetitionPenalties.size(), spec.rows, name("repetitionPenalties"), why);
  RequireLength(env, spec.frequencyPenalties.size(), spec.rows, name("frequencyPenalties"), why);
  RequireLength(env, spec.presencePenalties.size(), spec.rows, name("presencePenalties"), why);
  CheckCsrTokens(env, spec, spec.penaltyOffsets, spec.penaltyTokens, base, "penaltyOffsets",
                 "penaltyTokens");
  const auto at = [](size_t i) { return "[" + std::to_string(i) + "]"; };
  for (size_t i = 0; i < count; ++i) {
    if (spec.penaltyCounts[i] < 0) {
      ThrowRangeError(env, field("penaltyCounts") + at(i) + " must be >= 0, got " +
                               std::to_string(spec.penaltyCounts[i]));
    }
  }
  for (size_t r = 0; r < spec.rows; ++r) {
    const float repetition = spec.repetitionPenalties[r];
    if (!(repetition > 0.0f && std::isfinite(repetition))) {
      ThrowRangeError(env, field("repetitionPenalties") + at(r) +
                               " must be finite and > 0, got " + Num(repetition));
    }
    if (!std::isfinite(spec.frequencyPenalties[r])) {
      ThrowRangeError(env, field("frequencyPenalties") + at(r) + " must be finite, got " +
                               Num(spec.frequencyPenalties[r]));
    }
    if (!std::isfinite(spec.presencePenalties[r])) {
      ThrowRangeError(env, field("presencePenalties") + at(r) + " must be finite, got " +
                               Num(spec.presencePenalties[r]));
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
  if (!penaltyOffsets.empty()) {
    const size_t begin = static_cast<size_t>(penaltyOffsets[row]);
    request.penaltyCount = penaltyOffsets[row + 1] - penaltyOffsets[row];
    request.penaltyTokens = penaltyTokens.data() + begin;
    request.penaltyCounts = penaltyCounts.data() + begin;
    request.repetition = repetitionPenalties[row];
    request.frequency = frequencyPenalties[row];
    request.presence = presencePenalties[row];
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
  ParsePenalties(env, object, base, spec);

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
