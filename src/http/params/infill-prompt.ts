/**
 * `suffix` on `/v1/completions`: fill-in-the-middle prompts. vLLM refuses every suffix ("suffix
 * is not currently supported"); servellm does too unless the model has fill-in-the-middle tokens,
 * and then builds the infill prompt as llama.cpp's server does (`format_prompt_infill`, the
 * prefix-suffix-middle order).
 *
 * Owns: the refusal, the tokenization of the pieces and the layout
 * `[BOS] <FIM_PRE> prompt <FIM_SUF> suffix <FIM_MID>`, after which the model generates the
 * middle. BOS is there when the model adds one and the request's `add_special_tokens` (default
 * true) allows it. The prompt text and the suffix are tokenized without special tokens and
 * without parsing special-token text (llama.cpp's `tokenize_mixed(..., false, false)`), so code
 * that spells a control token cannot break the layout; a token-id prompt is taken as given.
 */
import type { FillInTheMiddleTokens, Tokenizer } from '../../backend/model-backend.ts';
import { BadRequestError } from '../errors.ts';

/** The model's fill-in-the-middle tokens, and the BOS it starts prompts with (null: none). */
export interface InfillTokens extends FillInTheMiddleTokens {
  readonly bos: number | null;
}

/** What building an infill prompt reads of a completions request. */
export interface InfillRequest {
  readonly suffix?: string | null | undefined;
  readonly add_special_tokens?: boolean | null | undefined;
}

/** vLLM's answer to any `suffix` (servellm's to a model without fill-in-the-middle tokens). */
export const SUFFIX_NOT_SUPPORTED = 'suffix is not currently supported';

/** How a request's prompt texts are tokenized, and the layout each prompt's tokens go into. */
export interface InfillPlan {
  /** Tokenization of a text prompt (the prefix). */
  readonly prefixOptions: { readonly addSpecial: boolean; readonly parseSpecial: boolean };
  /** The whole prompt for the prefix's tokens (after any truncation the request asked for). */
  readonly layout: (prefix: readonly number[]) => number[];
}

/**
 * The infill plan of a request with a `suffix`, or null without one. Throws vLLM's 400 naming
 * `suffix` when `infill` is null or absent (the model has no fill-in-the-middle tokens).
 */
export function resolveInfill(
  request: InfillRequest,
  infill: InfillTokens | null | undefined,
  tokenizer: Tokenizer,
): InfillPlan | null {
  const suffix = request.suffix ?? null;
  if (suffix === null) return null;
  if (infill === null || infill === undefined) {
    throw new BadRequestError(SUFFIX_NOT_SUPPORTED, 'suffix');
  }
  const pieceOptions = { addSpecial: false, parseSpecial: false };
  const suffixTokens = tokenizer.tokenize(suffix, pieceOptions);
  const bos = (request.add_special_tokens ?? true) && infill.bos !== null ? [infill.bos] : [];
  return {
    prefixOptions: pieceOptions,
    layout: (prefix) => [
      ...bos,
      infill.prefix,
      ...prefix,
      infill.suffix,
      ...suffixTokens,
      infill.middle,
    ],
  };
}
