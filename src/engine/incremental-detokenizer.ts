/**
 * Token ids to text, one token at a time, from the tokens' raw bytes (vLLM's incremental
 * detokenizer, byte-level).
 *
 * Owns: the rule that text is emitted only as whole characters. Bytes of a UTF-8 character split
 * across tokens are held back until it is complete; invalid bytes become U+FFFD at once, and
 * `flush` turns bytes still held at the end into U+FFFD (exactly what TextDecoder does for the
 * whole byte string, so the concatenated output equals decoding all bytes at once). Special
 * tokens contribute no bytes when `skipSpecialTokens` is set.
 */
import type { Tokenizer } from '../backend/model-backend.ts';

export class IncrementalDetokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #skipSpecialTokens: boolean;
  // ignoreBOM keeps a leading U+FEFF: it is text the model produced, not a stream marker.
  readonly #decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(tokenizer: Tokenizer, skipSpecialTokens: boolean) {
    this.#tokenizer = tokenizer;
    this.#skipSpecialTokens = skipSpecialTokens;
  }

  /** The text that `token` completes (possibly empty). */
  push(token: number): string {
    if (this.#skipSpecialTokens && this.#tokenizer.isSpecial(token)) return '';
    return this.#decoder.decode(this.#tokenizer.tokenBytes(token), { stream: true });
  }

  /** End of output: bytes of an incomplete character become U+FFFD. */
  flush(): string {
    return this.#decoder.decode();
  }
}
