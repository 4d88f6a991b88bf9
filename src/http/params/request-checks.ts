/**
 * Request-level rules both endpoints share, with vLLM's messages: the stream mode
 * (`stream_options` only with `stream=true`) and the fields servellm accepts but cannot honour
 * yet. A field that is not implemented is refused with a 400 as soon as its value differs from
 * the default, never silently ignored; fields that cannot change the output (user, cache_salt,
 * kv_transfer_params, vllm_xargs, length_penalty without beam search) are accepted, and so is
 * spaces_between_special_tokens: llama.cpp's detokenizer never puts spaces between special
 * tokens, which is what vLLM does with a fast tokenizer whatever the flag says.
 */
import { BadRequestError, requestModelError } from '../errors.ts';
import type { CommonRequest } from '../schemas/common-fields.ts';

/** How the response is delivered. */
export interface StreamMode {
  /** SSE instead of one JSON body. */
  readonly stream: boolean;
  /** Send a final usage chunk with `choices: []` before [DONE]. */
  readonly includeUsage: boolean;
  /** Put cumulative usage on every chunk (only with includeUsage, as in vLLM). */
  readonly continuousUsage: boolean;
}

/** Python's repr of a float as vLLM prints it in messages (`-1.0`, `0.5`). */
export function pyFloat(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e16 ? value.toFixed(1) : String(value);
}

/** The 400 for a field servellm does not implement yet. */
export function notSupportedYet(param: string, detail: string): BadRequestError {
  return new BadRequestError(
    `${param} is not supported yet by this server (${detail}); omit it or send its default.`,
    param,
  );
}

/**
 * Resolves stream/stream_options with vLLM's rule that stream_options needs stream=true.
 * `forceUsage` (`--enable-force-include-usage`): every stream reports usage on every chunk, as
 * if include_usage and continuous_usage_stats were set.
 */
export function resolveStreamMode(request: CommonRequest, forceUsage = false): StreamMode {
  const stream = request.stream === true;
  const options = request.stream_options ?? null;
  if (options !== null && Object.keys(options).length > 0 && !stream) {
    throw requestModelError(
      'Stream options can only be defined when `stream=True`.',
      'stream_options',
    );
  }
  const includeUsage = stream && (forceUsage || options?.include_usage === true);
  return {
    stream,
    includeUsage,
    continuousUsage: includeUsage && (forceUsage || options?.continuous_usage_stats === true),
  };
}

function checkResponseFormat(request: CommonRequest): void {
  const format = request.response_format ?? null;
  if (format === null) return;
  if (format.type === 'json_schema' && (format.json_schema ?? null) === null) {
    throw requestModelError(
      "When response_format type is 'json_schema', the 'json_schema' field must be provided.",
      'response_format',
    );
  }
}

function checkThinkingBudget(budget: number | null | undefined): void {
  if (budget === null || budget === undefined || budget === -1) return;
  if (budget < 0) {
    throw new BadRequestError(
      '`thinking_token_budget` must be a non-negative integer or -1 for unlimited.',
      'thinking_token_budget',
    );
  }
  throw notSupportedYet('thinking_token_budget', 'no reasoning parser');
}

/**
 * Throws for every shared field whose value asks for something not implemented yet (after vLLM's
 * own validation of that field, so invalid values get vLLM's message). Structured outputs are
 * resolved by structured-outputs.ts.
 */
export function rejectUnsupportedCommon(request: CommonRequest): void {
  checkResponseFormat(request);
  if (request.cache_salt === '') {
    throw requestModelError(
      "Parameter 'cache_salt' must be a non-empty string if provided.",
      'cache_salt',
    );
  }
  if (request.repetition_detection !== null && request.repetition_detection !== undefined) {
    throw notSupportedYet('repetition_detection', 'repetition detection');
  }
  checkThinkingBudget(request.thinking_token_budget);
}
