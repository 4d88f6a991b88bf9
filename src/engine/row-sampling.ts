/**
 * Per-token sampling settings of a request: what each decode row asks the backend's sampler.
 *
 * Owns: the seed schedule. A request has one 64-bit seed (its own, or one drawn at random when it
 * gave none); the seed of the row that draws output token `i` is a splitmix64-style mix of that
 * seed and `i`. The backend's draw depends only on a row's logits, settings and seed, so a request
 * with a given seed produces the same tokens whatever else is in the batch and whatever step its
 * tokens land in.
 */
import { randomBytes } from 'node:crypto';
import {
  GREEDY_TEMPERATURE_EPSILON,
  type LogitBias,
  type Penalties,
  type RowSampling,
} from '../backend/model-backend.ts';
import type { SamplingParams } from './engine-types.ts';

const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** A request seed as the unsigned 64-bit value the mix uses (a negative int64 wraps around). */
export function toSeed64(seed: bigint): bigint {
  return BigInt.asUintN(64, seed);
}

/** A uniformly random 64-bit seed from the OS. */
export function randomSeed(): bigint {
  return randomBytes(8).readBigUInt64LE(0);
}

/**
 * The seeds given to requests without their own (vLLM's `--seed`): with an engine seed, the
 * deterministic sequence deriveRowSeed(engineSeed, 0), (engineSeed, 1), ... so a restarted server
 * replays the same randomness; without one, OS randomness.
 */
export class RequestSeedSource {
  readonly #engineSeed: bigint | null;
  #drawn = 0;

  constructor(engineSeed: bigint | null) {
    this.#engineSeed = engineSeed;
  }

  next(): bigint {
    return this.#engineSeed === null
      ? randomSeed()
      : deriveRowSeed(this.#engineSeed, this.#drawn++);
  }
}

/**
 * The seed of the row that draws output token `tokenIndex` (0 for the first generated token):
 * splitmix64's output number `tokenIndex + 1` for state `requestSeed`.
 */
export function deriveRowSeed(requestSeed: bigint, tokenIndex: number): bigint {
  if (!Number.isSafeInteger(tokenIndex) || tokenIndex < 0) {
    throw new RangeError(`tokenIndex must be a non-negative integer, got ${tokenIndex}`);
  }
  let z = BigInt.asUintN(64, toSeed64(requestSeed) + BigInt(tokenIndex + 1) * GOLDEN_GAMMA);
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}

/** A request's logit_bias in the backend's form (computed once per request), or null. */
export function toLogitBias(bias: ReadonlyMap<number, number> | null): LogitBias | null {
  if (bias === null || bias.size === 0) return null;
  return {
    tokens: Int32Array.from(bias.keys()),
    values: Float32Array.from(bias.values()),
  };
}

/**
 * The sampling settings of the row that draws output token `tokenIndex`. A greedy row's draw uses
 * no randomness, so its seed is 0 (the 64-bit mix costs a few microseconds of BigInt work per
 * row and step, which matters at one running request).
 */
export function rowSamplingFor(
  params: SamplingParams,
  requestSeed: bigint,
  tokenIndex: number,
  logitBias: LogitBias | null = null,
  constraints: RowConstraints = NO_CONSTRAINTS,
): RowSampling {
  return {
    temperature: params.temperature,
    topK: params.topK,
    topP: params.topP,
    minP: params.minP,
    seed:
      params.temperature < GREEDY_TEMPERATURE_EPSILON ? 0n : deriveRowSeed(requestSeed, tokenIndex),
    allowedTokens: constraints.allowedTokens,
    logitBias,
    penalties: constraints.penalties,
  };
}

/** The history-dependent parts of a row (see sampling-constraints.ts). */
export interface RowConstraints {
  readonly allowedTokens: Uint32Array | null;
  readonly penalties: Penalties | null;
}

const NO_CONSTRAINTS: RowConstraints = { allowedTokens: null, penalties: null };
