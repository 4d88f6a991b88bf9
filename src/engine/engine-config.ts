/**
 * The engine's own settings (vLLM's scheduler config, the subset issue 3 needs) and their checks
 * against the backend's KV layout.
 *
 * Owns: what each limit means, its range and default, and the rule that a configuration the KV
 * memory cannot honour is refused at start-up rather than discovered mid-request.
 */
import type { KvLayout } from '../backend/model-backend.ts';
import { DEFAULT_MAX_WAITING_REQUESTS } from './admission.ts';

/** Limits of one engine. All three are positive integers. */
export interface EngineConfig {
  /**
   * The longest prompt + output one request may have (vLLM's `--max-model-len`). A request whose
   * prompt plus `maxTokens` exceeds it is refused; nothing is truncated or context-shifted.
   * Range: [1, kvLayout.cellsPerSequence] for per-sequence KV, [1, kvLayout.totalCells] for
   * unified KV. Default ({@link defaultEngineConfig}): the model's training context length, capped
   * by that bound.
   */
  readonly maxModelLen: number;
  /**
   * Most requests running (holding a KV sequence) at once (vLLM's `--max-num-seqs`); the rest wait
   * in a FIFO queue. Range: [1, min(kvLayout.maxSequences, maxNumBatchedTokens)]. Default: 256,
   * capped by that bound.
   */
  readonly maxNumSeqs: number;
  /**
   * Most tokens in one step's decode, decode tokens and prefill chunks together (vLLM's
   * `--max-num-batched-tokens`); longer prompts are prefilled in chunks over several steps.
   * Range: [maxNumSeqs, kvLayout.maxBatchTokens] (at least one decode token per running request
   * must fit). Default: 2048, capped by kvLayout.maxBatchTokens.
   */
  readonly maxNumBatchedTokens: number;
  /**
   * vLLM's `--seed`: seeds the sequence of seeds given to requests that bring none, so a restarted
   * engine replays the same randomness (requests with a `seed` are unaffected). Any 64-bit value;
   * null or absent: OS randomness.
   */
  readonly seed?: bigint | null;
  /**
   * vLLM's `--scheduling-policy`: `fcfs` admits waiting requests in arrival order; `priority`
   * admits the lowest `priority` value first (arrival order among equals) and lets requests set
   * one. Absent: fcfs.
   */
  readonly schedulingPolicy?: SchedulingPolicy;
  /**
   * vLLM's `--block-size`: tokens per KV block, the unit of prefix caching (only full blocks are
   * looked up) and of unified-KV accounting. One of 1, 8, 16, 32, 64, 128. Absent: 16.
   */
  readonly blockSize?: number;
  /**
   * vLLM's `--enable-prefix-caching`: keep the KV of requests that left and start new requests
   * from the longest cached prefix of their tokens. Absent: true.
   */
  readonly enablePrefixCaching?: boolean;
  /**
   * While requests decode, a step that also takes prompt tokens is cut to take about this many
   * times a decode-only step (`PrefillLimiter`), so long prompts do not stall running streams.
   * 0 turns the bound off (vLLM's behaviour: only maxNumBatchedTokens bounds a step); otherwise
   * above 1. Absent: DEFAULT_STEP_LATENCY_FACTOR.
   */
  readonly stepLatencyFactor?: number;
  /**
   * servellm's `--max-waiting-requests`: once `maxNumSeqs` requests run, at most this many wait;
   * a request beyond it is refused at once (`EngineOverloadedError`, see admission.ts). A
   * positive integer. Absent: DEFAULT_MAX_WAITING_REQUESTS (1,024).
   */
  readonly maxWaitingRequests?: number;
}

/** Steps with prompt tokens take at most about twice a decode-only step while requests decode. */
export const DEFAULT_STEP_LATENCY_FACTOR = 2;

/** vLLM's block sizes, and its default. */
export const BLOCK_SIZES: readonly number[] = [1, 8, 16, 32, 64, 128];
export const DEFAULT_BLOCK_SIZE = 16;

/** The order of the waiting queue. */
export type SchedulingPolicy = 'fcfs' | 'priority';

/** vLLM's online-serving defaults, before capping by the KV layout. */
const DEFAULT_MAX_NUM_SEQS = 256;
const DEFAULT_MAX_NUM_BATCHED_TOKENS = 2048;

/** The longest request the KV layout can hold in one sequence. */
export function kvModelLenBound(layout: KvLayout): number {
  return layout.unified ? layout.totalCells : layout.cellsPerSequence;
}

/**
 * The defaults of every field for a backend, with `overrides` applied on top. The result is not
 * validated; pass it to {@link validateEngineConfig} (the engine's constructor does).
 */
export function defaultEngineConfig(
  layout: KvLayout,
  trainContextLength: number,
  overrides: Partial<EngineConfig> = {},
): EngineConfig {
  const maxNumBatchedTokens =
    overrides.maxNumBatchedTokens ??
    Math.min(DEFAULT_MAX_NUM_BATCHED_TOKENS, layout.maxBatchTokens);
  return {
    maxModelLen: overrides.maxModelLen ?? Math.min(trainContextLength, kvModelLenBound(layout)),
    maxNumSeqs:
      overrides.maxNumSeqs ??
      Math.min(DEFAULT_MAX_NUM_SEQS, layout.maxSequences, maxNumBatchedTokens),
    maxNumBatchedTokens,
  };
}

function checkRange(name: string, value: number, min: number, max: number, why: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}] (${why}), got ${value}`);
  }
}

/** Throws a RangeError naming the field, its bound and the given value. */
export function validateEngineConfig(config: EngineConfig, layout: KvLayout): void {
  checkRange(
    'maxModelLen',
    config.maxModelLen,
    1,
    kvModelLenBound(layout),
    layout.unified ? 'the unified KV cache size' : "one KV sequence's cells",
  );
  checkRange(
    'maxNumBatchedTokens',
    config.maxNumBatchedTokens,
    1,
    layout.maxBatchTokens,
    "the backend's batch size",
  );
  const maxWaiting = config.maxWaitingRequests ?? DEFAULT_MAX_WAITING_REQUESTS;
  if (!Number.isSafeInteger(maxWaiting) || maxWaiting < 1) {
    throw new RangeError(`maxWaitingRequests must be a positive integer, got ${maxWaiting}`);
  }
  const factor = config.stepLatencyFactor ?? DEFAULT_STEP_LATENCY_FACTOR;
  if (!Number.isFinite(factor) || !(factor === 0 || factor > 1)) {
    throw new RangeError(`stepLatencyFactor must be 0 (off) or above 1, got ${factor}`);
  }
  const blockSize = config.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!BLOCK_SIZES.includes(blockSize)) {
    throw new RangeError(`blockSize must be one of ${BLOCK_SIZES.join(', ')}, got ${blockSize}`);
  }
  if (
    layout.unified &&
    Math.ceil(config.maxModelLen / blockSize) > Math.floor(layout.totalCells / blockSize)
  ) {
    throw new RangeError(
      `maxModelLen (${config.maxModelLen}) needs more blocks of ${blockSize} than the unified KV cache holds (${Math.floor(layout.totalCells / blockSize)})`,
    );
  }
  checkRange(
    'maxNumSeqs',
    config.maxNumSeqs,
    1,
    Math.min(layout.maxSequences, config.maxNumBatchedTokens),
    layout.maxSequences <= config.maxNumBatchedTokens
      ? "the backend's KV sequences"
      : 'maxNumBatchedTokens: every running request decodes one token per step',
  );
}
