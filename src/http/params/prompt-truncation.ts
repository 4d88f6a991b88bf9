/**
 * `truncate_prompt_tokens` and `truncation_side`: vLLM's prompt truncation, the one case where
 * a prompt is shortened, and only because the request asked.
 *
 * Owns: the size (k tokens; -1 means as many as fit beside the output budget), its bound (at
 * most max_model_len - max_tokens, vLLM's message otherwise) and the side (`left`, the default,
 * keeps the last k tokens; `right` keeps the first k).
 */
import { BadRequestError } from '../errors.ts';
import type { CommonRequest } from '../schemas/common-fields.ts';

/** What the truncation is bounded by. */
export interface TruncationLimit {
  readonly maxModelLen: number;
  /** The requested output budget, or null for "the rest of the context" (one token is kept free). */
  readonly maxTokens: number | null;
  /** The field that set the budget, as vLLM names it. */
  readonly maxTokensParam: 'max_tokens' | 'max_completion_tokens';
}

/** The prompt as the request asked to truncate it (the same array when it did not ask). */
export function truncatePrompt(
  tokens: number[],
  request: CommonRequest,
  limit: TruncationLimit,
): number[] {
  const requested = request.truncate_prompt_tokens ?? null;
  if (requested === null) return tokens;
  const maxInput = limit.maxModelLen - (limit.maxTokens ?? 1);
  const size = requested === -1 ? maxInput : requested;
  if (size > maxInput) {
    throw new BadRequestError(
      `truncate_prompt_tokens=${requested} cannot be greater than max_model_len - ` +
        `${limit.maxTokensParam} = ${maxInput}. Please request a smaller truncation size.`,
      'truncate_prompt_tokens',
    );
  }
  return keepTokens(tokens, size, request.truncation_side);
}

/**
 * At most `size` of `tokens` (the same array when it fits): `right` keeps the first ones, `left`
 * (the default) the last ones, as vLLM's `truncation_side` says.
 */
export function keepTokens(
  tokens: number[],
  size: number,
  side: 'left' | 'right' | null | undefined,
): number[] {
  if (tokens.length <= size) return tokens;
  if (size <= 0) return [];
  return side === 'right' ? tokens.slice(0, size) : tokens.slice(-size);
}
