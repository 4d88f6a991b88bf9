/**
 * Prompts against the context window, exactly as vLLM checks them (nothing is truncated).
 *
 * Owns: the output budget of a request (vLLM's `get_max_tokens`: the requested max tokens, else
 * the server's default, else all the context the prompt leaves; at most the context left and the
 * server's ceiling), the refusal of budgets and prompts that do not fit, with
 * vLLM's messages, and the per-prompt token checks (empty prompt, ids outside the vocabulary).
 */
import { BadRequestError } from '../errors.ts';
import type { GenerationDefaults } from './generation-defaults.ts';

/** What the output budget is resolved from. */
export interface MaxTokensInput {
  /** The request's value, or null when it asks for "the rest of the context". */
  readonly requested: number | null;
  /** The field it came from, as vLLM names it in its message. */
  readonly param: 'max_tokens' | 'max_completion_tokens';
  readonly promptTokens: number;
  readonly maxModelLen: number;
  /** The server's default (used when `requested` is null) and ceiling. Default: neither. */
  readonly defaults?: Pick<GenerationDefaults, 'maxTokens' | 'maxTokensCeiling'> | undefined;
}

/**
 * The number of tokens to generate. Throws vLLM's 400 when the request cannot fit:
 * max tokens above max_model_len, prompt + max tokens above max_model_len, or (with no max
 * tokens) a prompt that leaves no room for one output token. The server's default max tokens
 * stands in for a missing request value (capped by the context left, never refused), and its
 * ceiling caps any value.
 */
export function resolveMaxTokens(input: MaxTokensInput): number {
  const { requested, param, promptTokens, maxModelLen } = input;
  const ceiling = input.defaults?.maxTokensCeiling ?? Infinity;
  if (requested === null) {
    if (promptTokens > maxModelLen) {
      throw new BadRequestError(
        `The decoder prompt (length ${promptTokens}) is longer than the maximum model length of ` +
          `${maxModelLen}. Make sure that \`max_model_len\` is no smaller than the number of text tokens.`,
      );
    }
    if (promptTokens === maxModelLen) {
      throw new BadRequestError(
        `The decoder prompt (length ${promptTokens}) plus the number of requested output tokens ` +
          `(at least 1) is longer than the maximum model length of ${maxModelLen}. Make sure that ` +
          '`max_model_len` is no smaller than the number of text tokens (prompt + requested output tokens).',
      );
    }
    const fallback = input.defaults?.maxTokens ?? Infinity;
    return Math.min(maxModelLen - promptTokens, fallback, ceiling);
  }
  if (requested > maxModelLen) {
    throw new BadRequestError(
      `${param}=${requested} cannot be greater than max_model_len=max_total_tokens=${maxModelLen}. ` +
        'Please request fewer output tokens.',
      param,
    );
  }
  if (promptTokens + requested > maxModelLen) {
    throw new BadRequestError(
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ` +
        `${requested} output tokens and your prompt contains ${promptTokens} input tokens, for a ` +
        `total of ${promptTokens + requested} tokens. Please reduce the length of the input ` +
        'prompt or the number of requested output tokens.',
      'input_tokens',
    );
  }
  return Math.min(requested, ceiling);
}

/** Refuses an empty prompt and token ids outside [0, vocabSize), with vLLM's messages. */
export function checkPromptTokens(tokens: readonly number[], vocabSize: number): void {
  if (tokens.length === 0) {
    throw new BadRequestError('The decoder prompt cannot be empty', 'prompt');
  }
  checkTokenIds(tokens, vocabSize, 'prompt');
}

/** Refuses token ids at or above vocabSize with vLLM's message, naming `param`. */
export function checkTokenIds(tokens: readonly number[], vocabSize: number, param: string): void {
  for (const token of tokens) {
    if (token >= vocabSize) {
      throw new BadRequestError(`Token id ${token} is out of vocabulary`, param);
    }
  }
}
