/**
 * The sampler's definition in plain TypeScript: the reference the native sampler is tested
 * against, and the sampler of the fake backend.
 *
 * Owns: raw logprobs (float64 log-softmax of unprocessed logits), ranks, top-N, and the draw in
 * vLLM v1's order: logit bias -> penalties (repetition, frequency, presence) -> allowed-token
 * mask -> temperature (or greedy) -> min-p -> top-k -> top-p -> draw. Logit biases and penalties
 * are computed in float32, every operation rounded (as llama.cpp and the addon do in float), and
 * change the draw only: logprobs, ranks, top-N and targets stay those of the raw logits. The
 * exact float32 steps per token are those of `applyLogitBias` and `applyPenalties`; the addon
 * performs the same operations in the same order, so both draw from bit-identical logits. The draw
 * uses one uniform number from splitmix64(seed) and the inverse CDF over the kept tokens in
 * ascending id order, so a row's token depends on its logits, parameters and seed only.
 */
import {
  GREEDY_TEMPERATURE_EPSILON,
  type LogitBias,
  type Penalties,
  type RowResult,
  type RowSampling,
  type TokenLogprob,
} from './model-backend.ts';

const MASK64 = (1n << 64n) - 1n;

/** splitmix64's first output for state `seed`, as a uniform double in [0, 1) with 53 bits. */
export function uniformFromSeed(seed: bigint): number {
  let z = (seed + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  z = z ^ (z >> 31n);
  return Number(z >> 11n) / 2 ** 53;
}

/** Float64 log-softmax of `logits`. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - logZ;
  return out;
}

/** vLLM's rank: the number of tokens whose logit is at least token's (1 = most likely). */
export function rankOf(logits: ArrayLike<number>, token: number): number {
  const value = logits[token]!;
  let atLeast = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i]! >= value) atLeast++;
  return atLeast;
}

/** The `count` most likely tokens, descending logprob, ties by lower id. */
export function topLogprobs(logprobs: Float64Array, count: number): TokenLogprob[] {
  const ids = Array.from({ length: logprobs.length }, (_, i) => i);
  ids.sort((a, b) => logprobs[b]! - logprobs[a]! || a - b);
  return ids.slice(0, count).map((token) => ({ token, logprob: logprobs[token]! }));
}

function isAllowed(mask: Uint32Array | null, token: number): boolean {
  return mask === null || ((mask[token >>> 5]! >>> (token & 31)) & 1) === 1;
}

function argmaxAllowed(logits: ArrayLike<number>, mask: Uint32Array | null): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++) {
    if (!isAllowed(mask, i)) continue;
    if (best < 0 || logits[i]! > logits[best]!) best = i;
  }
  if (best < 0) throw new RangeError('allowed-token mask allows no token');
  return best;
}

/**
 * `logits` plus `bias`, each sum rounded to float32; `logits` itself when there is no bias.
 * Throws a RangeError when a sum overflows to +Infinity (the raw logits are finite or -Infinity).
 */
export function applyLogitBias(
  logits: ArrayLike<number>,
  bias: LogitBias | null,
): ArrayLike<number> {
  if (bias === null || bias.tokens.length === 0) return logits;
  const biased = Float32Array.from(logits);
  bias.tokens.forEach((token, i) => {
    const value = Math.fround(biased[token]! + bias.values[i]!);
    if (value === Infinity) {
      throw new RangeError(`logits[${token}] plus its logit bias overflows to +Infinity`);
    }
    biased[token] = value;
  });
  return biased;
}

/**
 * `logits` with vLLM's penalties applied to the listed tokens; `logits` itself when there are
 * none (null, or no tokens). The parameters are used as float32 (as the addon receives them), and
 * each listed token's logit x (float32) becomes, each step rounded to float32:
 *
 *   1. x = x > 0 ? x / repetition : x * repetition
 *   2. only if its output count c > 0: x = x - (frequency * c), the product rounded first
 *   3. only if c > 0: x = x - presence
 *
 * (vLLM subtracts frequency * 0 and presence * 0 for prompt-only tokens; skipping them differs at
 * most in the sign of a zero.) Throws a RangeError when a result is +Infinity or NaN (a tiny
 * repetition or a huge frequency can overflow); -Infinity is a ban, as for the raw logits.
 */
export function applyPenalties(
  logits: ArrayLike<number>,
  penalties: Penalties | null | undefined,
): ArrayLike<number> {
  if (penalties === null || penalties === undefined || penalties.tokens.length === 0) return logits;
  const penalized = Float32Array.from(logits);
  const repetition = Math.fround(penalties.repetition);
  const frequency = Math.fround(penalties.frequency);
  const presence = Math.fround(penalties.presence);
  penalties.tokens.forEach((token, i) => {
    const x = penalized[token]!;
    let value = Math.fround(x > 0 ? x / repetition : x * repetition);
    const count = penalties.outputCounts[i]!;
    if (count > 0) {
      value = Math.fround(value - Math.fround(frequency * Math.fround(count)));
      value = Math.fround(value - presence);
    }
    if (!(value < Infinity)) {
      throw new RangeError(
        `logits[${token}] with its penalties is ${value} (repetition ${repetition}, ` +
          `frequency ${frequency}, presence ${presence}, output count ${count})`,
      );
    }
    penalized[token] = value;
  });
  return penalized;
}

/**
 * The logits the draw sees: the raw logits plus the row's logit bias, then its penalties (vLLM
 * v1's order). The raw logits themselves when the row has neither.
 */
export function drawLogits(
  rawLogits: ArrayLike<number>,
  sampling: Pick<RowSampling, 'logitBias' | 'penalties'>,
): ArrayLike<number> {
  return applyPenalties(applyLogitBias(rawLogits, sampling.logitBias), sampling.penalties);
}

/**
 * The probabilities the draw uses (zero for removed tokens, summing to 1), after logit bias,
 * penalties, mask, temperature, min-p, top-k and top-p. Greedy settings give a one-hot vector.
 *
 * The filters work on the unnormalized weights w = exp(l / T - max l / T) (so w_max = 1) and
 * normalize once at the end: min-p drops w < minP (p < minP * p_max), and top-p's cumulative sum
 * is compared with (1 - p) * sum(w), so exact boundaries are not lost to a rounded normalization.
 */
export function samplingDistribution(
  rawLogits: ArrayLike<number>,
  sampling: Omit<RowSampling, 'seed'>,
): Float64Array {
  const logits = drawLogits(rawLogits, sampling);
  const n = logits.length;
  const weights = new Float64Array(n);
  if (sampling.temperature < GREEDY_TEMPERATURE_EPSILON) {
    weights[argmaxAllowed(logits, sampling.allowedTokens)] = 1;
    return weights;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (isAllowed(sampling.allowedTokens, i))
      max = Math.max(max, logits[i]! / sampling.temperature);
  }
  if (max === -Infinity) throw new RangeError('allowed-token mask allows no token');
  for (let i = 0; i < n; i++) {
    if (isAllowed(sampling.allowedTokens, i)) {
      weights[i] = Math.exp(logits[i]! / sampling.temperature - max);
    }
  }
  if (sampling.minP > 0) {
    for (let i = 0; i < n; i++) if (weights[i]! < sampling.minP) weights[i] = 0;
  }
  if (sampling.topK > 0 && sampling.topK < n) keepTopK(weights, sampling.topK);
  if (sampling.topP < 1) keepTopP(weights, sampling.topP);
  return normalize(weights);
}

function keepTopK(weights: Float64Array, k: number): void {
  const sorted = Array.from(weights).sort((a, b) => b - a);
  const kth = sorted[k - 1]!;
  for (let i = 0; i < weights.length; i++) if (weights[i]! < kth) weights[i] = 0;
}

/**
 * vLLM: sort ascending, drop tokens whose cumulative probability is <= 1 - p, keep the largest.
 * On weights: drop while the cumulative weight is <= (1 - p) * total.
 */
function keepTopP(weights: Float64Array, p: number): void {
  let total = 0;
  for (const w of weights) total += w;
  const budget = (1 - p) * total;
  const ids = Array.from({ length: weights.length }, (_, i) => i).filter((i) => weights[i]! > 0);
  ids.sort((a, b) => weights[a]! - weights[b]! || b - a);
  let cumulative = 0;
  for (let j = 0; j < ids.length - 1; j++) {
    cumulative += weights[ids[j]!]!;
    if (cumulative <= budget) weights[ids[j]!] = 0;
  }
}

function normalize(weights: Float64Array): Float64Array {
  let total = 0;
  for (const w of weights) total += w;
  for (let i = 0; i < weights.length; i++) weights[i]! /= total;
  return weights;
}

/** Inverse CDF in ascending id order. */
export function drawFromDistribution(probs: Float64Array, seed: bigint): number {
  const u = uniformFromSeed(seed);
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    cumulative += probs[i]!;
    last = i;
    if (u < cumulative) return i;
  }
  return last;
}

/** What the reference computes for one output row. */
export interface ReferenceRowRequest {
  readonly sampling: RowSampling | null;
  readonly topLogprobs: number;
  readonly targetToken: number | null;
  readonly returnLogits: boolean;
  /** Score the drawn token (default true); false leaves logprob NaN and rank 0. */
  readonly scoreSample?: boolean;
}

/**
 * Score and (optionally) sample one row of logits: the reference for a backend's RowResult. The
 * draw sees the row's logit bias and penalties; every score is of the raw `logits`.
 */
export function sampleRow(logits: Float32Array, request: ReferenceRowRequest): RowResult {
  const logprobs = logSoftmax(logits);
  const token =
    request.sampling === null
      ? null
      : drawFromDistribution(samplingDistribution(logits, request.sampling), request.sampling.seed);
  const scored = token !== null && request.scoreSample !== false;
  return {
    token,
    logprob: scored ? logprobs[token]! : NaN,
    rank: scored ? rankOf(logits, token) : 0,
    top: topLogprobs(logprobs, request.topLogprobs),
    target:
      request.targetToken === null
        ? null
        : { logprob: logprobs[request.targetToken]!, rank: rankOf(logits, request.targetToken) },
    logits: request.returnLogits ? logits.slice() : null,
  };
}
