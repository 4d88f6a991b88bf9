/**
 * The fake backend's tokenizer: one token per byte (id = byte value), then named special tokens
 * from id 256 up. Enough for engine tests of detokenization, stop strings and special tokens.
 *
 * Owns: the byte <-> token mapping of fake models.
 */
import { byteToUnicode } from '../gguf/byte-vocabulary.ts';
import type { Tokenizer } from './model-backend.ts';

export class ByteTokenizer implements Tokenizer {
  readonly #specials: readonly string[];
  readonly #endOfGeneration: ReadonlySet<number>;
  readonly #encoder = new TextEncoder();

  /**
   * @param specials texts of the special tokens, ids 256, 257, ...
   * @param endOfGeneration ids that end generation
   */
  constructor(specials: readonly string[], endOfGeneration: readonly number[]) {
    this.#specials = specials;
    this.#endOfGeneration = new Set(endOfGeneration);
  }

  get vocabSize(): number {
    return 256 + this.#specials.length;
  }

  tokenize(text: string, options: { addSpecial: boolean; parseSpecial: boolean }): number[] {
    const tokens: number[] = [];
    let rest = text;
    while (rest.length > 0) {
      const special = options.parseSpecial
        ? this.#specials.findIndex((s) => s.length > 0 && rest.startsWith(s))
        : -1;
      if (special >= 0) {
        tokens.push(256 + special);
        rest = rest.slice(this.#specials[special]!.length);
        continue;
      }
      const next = options.parseSpecial ? this.#nextSpecialIndex(rest) : rest.length;
      for (const byte of this.#encoder.encode(rest.slice(0, next))) tokens.push(byte);
      rest = rest.slice(next);
    }
    return tokens;
  }

  #nextSpecialIndex(text: string): number {
    let first = text.length;
    for (const s of this.#specials) {
      const at = s.length > 0 ? text.indexOf(s, 1) : -1;
      if (at > 0 && at < first) first = at;
    }
    return first;
  }

  detokenize(tokens: readonly number[], options: { skipSpecial: boolean }): string {
    const bytes: number[] = [];
    for (const token of tokens) {
      if (options.skipSpecial && this.isSpecial(token)) continue;
      bytes.push(...this.tokenBytes(token));
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }

  tokenBytes(token: number): Uint8Array {
    if (token < 256) return Uint8Array.of(token);
    const special = this.#specials[token - 256];
    if (special === undefined) throw new RangeError(`token id out of range: ${token}`);
    return this.#encoder.encode(special);
  }

  /** Bytes in GPT-2's byte-unicode alphabet (as our GGUF byte vocabulary), specials verbatim. */
  tokenText(token: number): string {
    if (token < 256) return byteToUnicode(token);
    const special = this.#specials[token - 256];
    if (special === undefined) throw new RangeError(`token id out of range: ${token}`);
    return special;
  }

  isSpecial(token: number): boolean {
    return token >= 256;
  }

  isEndOfGeneration(token: number): boolean {
    return this.#endOfGeneration.has(token);
  }
}
