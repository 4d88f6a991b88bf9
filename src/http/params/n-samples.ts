/**
 * `n`: how many choices each prompt gets (vLLM's parallel sampling), and the engine requests
 * they become.
 *
 * Owns: vLLM's bounds (n >= 1, n <= VLLM_MAX_N_SEQUENCES, default 16384; n > 1 only when
 * sampling, not greedy), the order of choices (prompt-major: prompt i's sample j is choice
 * i * n + j), each sample's seed (the request's seed + j, as vLLM's ParentRequest gives its
 * children; none when the request has none) and which request a sample shares its prompt with
 * (the prompt's first sample, so the engine computes the prompt once).
 */
import { GREEDY_TEMPERATURE_EPSILON } from '../../backend/model-backend.ts';
import type { BeamSearchSettings, SamplingParams } from '../../engine/engine-types.ts';
import { BadRequestError } from '../errors.ts';
import type { CommonRequest } from '../schemas/common-fields.ts';
import { notSupportedYet } from './request-checks.ts';

/** vLLM's default VLLM_MAX_N_SEQUENCES. */
export const DEFAULT_MAX_N_SEQUENCES = 16384;

/** One engine request to make: its prompt and its fully resolved parameters. */
export interface PlannedRequest {
  readonly promptTokens: readonly number[];
  readonly params: SamplingParams;
  /** The choice index of the request whose prompt KV this one copies, or null. */
  readonly sharesPromptWith: number | null;
}

/** The request's `n`, checked against vLLM's bounds (greediness is checked per prompt). */
export function resolveN(n: number | null | undefined, maxN: number): number {
  const count = n ?? 1;
  if (count < 1) throw new BadRequestError(`n must be at least 1, got ${count}.`, 'n');
  if (count > maxN) {
    throw new BadRequestError(
      `n must be at most ${maxN}, got ${count}. To increase this limit, set the ` +
        'VLLM_MAX_N_SEQUENCES environment variable.',
      'n',
    );
  }
  return count;
}

/**
 * The legacy `best_of` (vLLM before it removed it): how many samples to draw per prompt, of
 * which the n most likely are answered. Absent: n. Not with streaming when above n (the best
 * are known only at the end).
 */
export function resolveBestOf(
  bestOf: number | null | undefined,
  n: number,
  stream: boolean,
  maxN: number,
): number {
  if (bestOf === null || bestOf === undefined) return n;
  if (bestOf < n) {
    throw new BadRequestError(
      `best_of must be greater than or equal to n, got n=${n} and best_of=${bestOf}.`,
      'best_of',
    );
  }
  if (bestOf > maxN) {
    throw new BadRequestError(`best_of must be at most ${maxN}, got ${bestOf}.`, 'best_of');
  }
  if (bestOf > n && stream) {
    throw new BadRequestError(
      `best_of > n cannot be streamed (the best ${n} of ${bestOf} are known only at the end); ` +
        'send stream=false, or best_of equal to n.',
      'best_of',
    );
  }
  return bestOf;
}

/**
 * The `count` engine requests of one prompt (n, or best_of), whose first sample is choice
 * `firstChoice`. Throws vLLM's 400 for more than one sample with greedy sampling.
 */
export function samplesOf(
  promptTokens: readonly number[],
  params: SamplingParams,
  count: number,
  firstChoice: number,
  countParam: 'n' | 'best_of' = 'n',
): PlannedRequest[] {
  if (count > 1 && params.temperature < GREEDY_TEMPERATURE_EPSILON) {
    throw new BadRequestError(
      countParam === 'n'
        ? `n must be 1 when using greedy sampling, got ${count}.`
        : `best_of must be 1 when using greedy sampling.Got ${count}.`,
      countParam,
    );
  }
  return Array.from({ length: count }, (_, j) => ({
    promptTokens,
    params: j === 0 || params.seed === null ? params : { ...params, seed: params.seed + BigInt(j) },
    sharesPromptWith: j === 0 ? null : firstChoice,
  }));
}

/** A beam search's settings: `n` beams, the length penalty, early stopping. */
export type BeamSearchPlan = BeamSearchSettings;

/**
 * `use_beam_search` (beam width = n, vLLM's semantics): null when not asked. Not with streaming
 * (vLLM's message), nor with prompt_logprobs or echo (not built for beams yet).
 */
export function resolveBeamSearch(
  request: CommonRequest,
  n: number,
  stream: boolean,
): BeamSearchPlan | null {
  if (request.use_beam_search !== true) return null;
  if (stream) {
    throw new BadRequestError(
      'Streaming is not currently supported with beam search',
      'use_beam_search',
    );
  }
  if (request.prompt_logprobs !== null && request.prompt_logprobs !== undefined) {
    throw notSupportedYet('prompt_logprobs', 'together with use_beam_search');
  }
  if (request.echo === true) throw notSupportedYet('echo', 'together with use_beam_search');
  return {
    width: n,
    lengthPenalty: request.length_penalty ?? 1,
    // "never" (the seed-era's canonical stop) runs to the end, as false does.
    earlyStopping: request.early_stopping === true,
  };
}
