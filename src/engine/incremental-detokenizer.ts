/**
 * Token ids to text, one token at a time, from the tokens' raw bytes (vLLM's incremental
 * detokenizer, byte-level).
 *
 * Owns: the rule that text is emitted only as whole characters. Bytes of a UTF-8 character split
 * across tokens are held back until it is complete; invalid bytes become U+FFFD at once, and
 * `flush` turns bytes still held at the end into U+FFFD (exactly what TextDecoder does for the
 * whole byte string, so the concatenated output equals decoding all bytes at once). Special
 * tokens contribute no bytes when `skipSpecialTokens` is set. An all-ASCII token with no bytes
 * held back skips the decoder (a native call per token; most tokens of most text are ASCII).
 */
import type { Tokenizer } from '../backend/model-backend.ts';

export class IncrementalDetokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #skipSpecialTokens: boolean;
  // ignoreBOM keeps a leading U+FEFF: it is text the model produced, not a stream marker.
  readonly #decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  /** True when the decoder holds no bytes: nothing fed yet, or the last byte fed was ASCII. */
  #boundary = true;

  constructor(tokenizer: Tokenizer, skipSpecialTokens: boolean) {
    this.#tokenizer = tokenizer;
    this.#skipSpecialTokens = skipSpecialTokens;
  }

  /** The text that `token` completes (possibly empty). */
  push(token: number): string {
    if (this.#skipSpecialTokens && this.#tokenizer.isSpecial(token)) return '';
    const bytes = this.#tokenizer.tokenBytes(token);
    if (bytes.length === 0) return '';
    if (this.#boundary && isAscii(bytes)) return String.fromCharCode(...bytes);
    // A streaming UTF-8 decoder holds nothing after an ASCII byte (it either ends the held
    // bytes as U+FFFD or follows a complete character).
    this.#boundary = bytes[bytes.length - 1]! < 0x80;
    return this.#decoder.decode(bytes, { stream: true });
  }

  /** End of output: bytes of an incomplete character become U+FFFD. */
  flush(): string {
    this.#boundary = true;
    return this.#decoder.decode();
  }
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}
