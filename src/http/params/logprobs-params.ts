/**
 * How many logprobs a request asks for, with vLLM's rules and messages.
 *
 * Owns: `prompt_logprobs` (-1 = the whole vocabulary; not with streaming when above 0; < -1 is
 * refused), the cap `--max-logprobs` (default 20, -1 = the vocabulary) on sample and prompt
 * logprobs, and the response's logprobs plan (its count and the token naming switch:
 * `return_tokens_as_token_ids` or the server flag).
 * The endpoint-specific fields (completions' integer `logprobs`, chat's `logprobs` +
 * `top_logprobs`) are read by each endpoint's plan and resolved here.
 */
import { BadRequestError, requestModelError } from '../errors.ts';
import type { CommonRequest } from '../schemas/common-fields.ts';

/** vLLM's default `--max-logprobs`. */
export const DEFAULT_MAX_LOGPROBS = 20;

/** What the counts are checked against. */
export interface LogprobsLimits {
  readonly vocabSize: number;
  /** `--max-logprobs` (-1: the vocabulary size). */
  readonly maxLogprobs: number;
  /** `--return-tokens-as-token-ids`. */
  readonly returnTokensAsTokenIds: boolean;
}

/**
 * A requested count (-1 = the whole vocabulary) as the number of tokens, refused above the cap
 * with vLLM's message ("sample" or "prompt" logprobs) naming `param`.
 */
export function resolveLogprobsCount(
  requested: number,
  kind: 'sample' | 'prompt',
  param: string,
  limits: LogprobsLimits,
): number {
  const count = requested === -1 ? limits.vocabSize : requested;
  const max = limits.maxLogprobs === -1 ? limits.vocabSize : limits.maxLogprobs;
  if (count > max) {
    throw new BadRequestError(
      `Requested ${kind} logprobs of ${count}, which is greater than max allowed: ${max}`,
      param,
    );
  }
  return count;
}

/** The request's prompt_logprobs as a count, or null when not asked. */
export function resolvePromptLogprobs(
  request: CommonRequest,
  stream: boolean,
  limits: LogprobsLimits,
): number | null {
  const requested = request.prompt_logprobs ?? null;
  if (requested === null) return null;
  if (stream && (requested > 0 || requested === -1)) {
    throw requestModelError(
      '`prompt_logprobs` are not available when `stream=True`.',
      'prompt_logprobs',
    );
  }
  if (requested < -1) {
    throw requestModelError('`prompt_logprobs` must be a positive value or -1.', 'prompt_logprobs');
  }
  return resolveLogprobsCount(requested, 'prompt', 'prompt_logprobs', limits);
}

/** How the tokens of a response's logprobs are counted and named; null when none are asked. */
export interface LogprobsPlan {
  /** Top logprobs per token. */
  readonly topCount: number;
  /** Name tokens `token_id:<id>`: the request's return_tokens_as_token_ids, else the server's. */
  readonly asIds: boolean;
}

/** The response's logprobs for a resolved sample count (null: none asked). */
export function logprobsPlan(
  sample: number | null,
  request: CommonRequest,
  limits: LogprobsLimits,
): LogprobsPlan | null {
  if (sample === null) return null;
  const asIds = request.return_tokens_as_token_ids ?? limits.returnTokensAsTokenIds;
  return { topCount: sample, asIds };
}
