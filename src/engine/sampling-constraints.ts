/**
 * What a request's own history adds to each of its draws (vLLM's logits processors and
 * penalties): the allowed-token mask (`allowed_token_ids`), `min_tokens` (end-of-generation and
 * stop tokens masked until that many tokens were generated), `bad_words` (a word's last token is
 * masked when the output so far ends with the rest of the word; one-token words always), and the
 * repetition, frequency and presence penalties over the prompt and output tokens.
 *
 * Owns: the per-request state those need (masks built once, output token counts kept up to
 * date as the output grows) and the backend form of each row's constraints. Pure and
 * synchronous; a request without any of these costs nothing per step.
 */
import type { Penalties } from '../backend/model-backend.ts';
import type { SamplingParams } from './engine-types.ts';

/** What the constraints are built against. */
export interface ConstraintModel {
  readonly vocabSize: number;
  /** EOS, EOT, ...: masked while min_tokens is not reached (unless ignore_eos). */
  readonly endOfGenerationTokens: readonly number[];
}

function allTokensMask(vocabSize: number): Uint32Array {
  const mask = new Uint32Array(Math.ceil(vocabSize / 32)).fill(0xffffffff);
  return mask;
}

function clearBit(mask: Uint32Array, token: number): void {
  mask[token >>> 5] = mask[token >>> 5]! & ~(1 << (token & 31));
}

function maskOf(tokens: readonly number[], vocabSize: number): Uint32Array {
  const mask = new Uint32Array(Math.ceil(vocabSize / 32));
  for (const token of tokens) mask[token >>> 5] = mask[token >>> 5]! | (1 << (token & 31));
  return mask;
}

/** Whether `output` ends with `prefix`. */
function endsWith(output: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > output.length) return false;
  const start = output.length - prefix.length;
  for (let i = 0; i < prefix.length; i++) if (output[start + i] !== prefix[i]) return false;
  return true;
}

export class SamplingConstraints {
  readonly #params: SamplingParams;
  readonly #vocabSize: number;
  /** allowed_token_ids, or null (every token). */
  readonly #allowed: Uint32Array | null;
  /** The mask while min_tokens is not reached, or null when min_tokens is 0. */
  readonly #beforeMinTokens: Uint32Array | null;
  readonly #penalized: boolean;
  /** Distinct prompt and output tokens, and their output counts (parallel). */
  readonly #seenTokens: number[] = [];
  readonly #outputCounts: number[] = [];
  readonly #seenIndex = new Map<number, number>();
  /** Output tokens already counted. */
  #counted = 0;

  /** True when none of the constraints is asked for (then `rowConstraints` is never needed). */
  static isNone(params: SamplingParams): boolean {
    return (
      params.allowedTokenIds === null &&
      params.minTokens === 0 &&
      params.badWords.length === 0 &&
      params.repetitionPenalty === 1 &&
      params.frequencyPenalty === 0 &&
      params.presencePenalty === 0
    );
  }

  constructor(params: SamplingParams, promptTokens: readonly number[], model: ConstraintModel) {
    this.#params = params;
    this.#vocabSize = model.vocabSize;
    this.#allowed =
      params.allowedTokenIds === null ? null : maskOf(params.allowedTokenIds, model.vocabSize);
    if (params.minTokens > 0) {
      const mask = this.#allowed === null ? allTokensMask(model.vocabSize) : this.#allowed.slice();
      const stops = params.ignoreEos
        ? params.stopTokenIds
        : [...model.endOfGenerationTokens, ...params.stopTokenIds];
      for (const token of stops) if (token < model.vocabSize) clearBit(mask, token);
      this.#beforeMinTokens = mask;
    } else {
      this.#beforeMinTokens = null;
    }
    this.#penalized =
      params.repetitionPenalty !== 1 ||
      params.frequencyPenalty !== 0 ||
      params.presencePenalty !== 0;
    if (this.#penalized) for (const token of promptTokens) this.#see(token, 0);
  }

  /** The allowed-token mask of the row that draws the token after `output`, or null (all). */
  mask(output: readonly number[]): Uint32Array | null {
    const base =
      this.#beforeMinTokens !== null && output.length < this.#params.minTokens
        ? this.#beforeMinTokens
        : this.#allowed;
    const banned = this.#bannedBy(output);
    if (banned.length === 0) return base;
    const mask = base === null ? allTokensMask(this.#vocabSize) : base.slice();
    for (const token of banned) clearBit(mask, token);
    return mask;
  }

  /** The penalties of the row that draws the token after `output`, or null (none asked). */
  penalties(output: readonly number[]): Penalties | null {
    if (!this.#penalized) return null;
    for (; this.#counted < output.length; this.#counted++) this.#see(output[this.#counted]!, 1);
    return {
      tokens: Int32Array.from(this.#seenTokens),
      outputCounts: Int32Array.from(this.#outputCounts),
      repetition: this.#params.repetitionPenalty,
      frequency: this.#params.frequencyPenalty,
      presence: this.#params.presencePenalty,
    };
  }

  #see(token: number, outputCount: number): void {
    const index = this.#seenIndex.get(token);
    if (index === undefined) {
      this.#seenIndex.set(token, this.#seenTokens.length);
      this.#seenTokens.push(token);
      this.#outputCounts.push(outputCount);
    } else {
      this.#outputCounts[index] = this.#outputCounts[index]! + outputCount;
    }
  }

  /** Bad words' last tokens that the next token must not be (vLLM's apply_bad_words). */
  #bannedBy(output: readonly number[]): number[] {
    const banned: number[] = [];
    for (const word of this.#params.badWords) {
      if (endsWith(output, word.slice(0, -1))) banned.push(word[word.length - 1]!);
    }
    return banned;
  }
}
