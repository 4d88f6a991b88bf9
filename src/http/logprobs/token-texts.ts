/**
 * How logprobs name tokens, as vLLM does: by the token decoded on its own (special tokens as
 * their text; bytes that are not UTF-8 by themselves as U+FFFD), or as `token_id:<id>` when the
 * request (or `--return-tokens-as-token-ids`) asks for ids.
 *
 * Owns: the per-server cache of each token's decoded text (a vocabulary is bounded, and
 * top-logprobs name up to 21 tokens per generated token).
 */
import type { Tokenizer } from '../../backend/model-backend.ts';

export class TokenTexts {
  readonly #tokenizer: Tokenizer;
  readonly #decoded: (string | undefined)[] = [];

  constructor(tokenizer: Tokenizer) {
    this.#tokenizer = tokenizer;
  }

  /** The token decoded alone, special tokens included. */
  decoded(token: number): string {
    let text = this.#decoded[token];
    if (text === undefined) {
      text = this.#tokenizer.detokenize([token], { skipSpecial: false });
      this.#decoded[token] = text;
    }
    return text;
  }

  /** The name a logprobs entry gives the token. */
  name(token: number, asIds: boolean): string {
    return asIds ? `token_id:${token}` : this.decoded(token);
  }
}

/** Length of `text` in Unicode code points (Python's `len`, which vLLM's text offsets use). */
export function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--;
        i++;
      }
    }
  }
  return length;
}

/** The UTF-8 bytes of `text` as a list of numbers (OpenAI's `bytes`). */
export function utf8Bytes(text: string): number[] {
  return Array.from(Buffer.from(text, 'utf8'));
}
