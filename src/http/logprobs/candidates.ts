/**
 * The candidates vLLM reports at one position, and the floor it puts under logprobs.
 *
 * Owns vLLM's order (its logprobs dict): the position's own token first (the sampled token, or
 * the prompt token) with its rank, then the top-k tokens with ranks 1..k. A token listed twice
 * keeps its first place and takes the later entry's rank, as a Python dict updated in order.
 */
import type { PositionLogprobs } from '../../engine/engine-types.ts';

/** OpenAI's floor for logprobs: -inf is reported as -9999.0. */
export const LOGPROB_FLOOR = -9999;

/** A logprob as the API reports it (-inf becomes -9999). */
export function reportedLogprob(logprob: number): number {
  return Math.max(logprob, LOGPROB_FLOOR);
}

export interface Candidate {
  readonly token: number;
  readonly logprob: number;
  readonly rank: number;
}

/** The position's candidates in vLLM's order (see the module comment). */
export function candidatesAt(position: PositionLogprobs): Candidate[] {
  const byToken = new Map<number, Candidate>();
  byToken.set(position.token, {
    token: position.token,
    logprob: position.logprob,
    rank: position.rank,
  });
  position.top.forEach((entry, i) => {
    byToken.set(entry.token, { token: entry.token, logprob: entry.logprob, rank: i + 1 });
  });
  return [...byToken.values()];
}
