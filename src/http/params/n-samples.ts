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
import type { SamplingParams } from '../../engine/engine-types.ts';
import { BadRequestError } from '../errors.ts';

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
 * The `n` engine requests of one prompt, whose first sample is choice `firstChoice`. Throws
 * vLLM's 400 for n > 1 with greedy sampling.
 */
export function samplesOf(
  promptTokens: readonly number[],
  params: SamplingParams,
  n: number,
  firstChoice: number,
): PlannedRequest[] {
  if (n > 1 && params.temperature < GREEDY_TEMPERATURE_EPSILON) {
    throw new BadRequestError(`n must be 1 when using greedy sampling, got ${n}.`, 'n');
  }
  return Array.from({ length: n }, (_, j) => ({
    promptTokens,
    params: j === 0 || params.seed === null ? params : { ...params, seed: params.seed + BigInt(j) },
    sharesPromptWith: j === 0 ? null : firstChoice,
  }));
}
