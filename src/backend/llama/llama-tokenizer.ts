/**
 * The Tokenizer view of a llama.cpp model: tokenize/detokenize through the addon, per-token bytes
 * and flags from one vocabulary table read at load.
 *
 * Owns: mapping the interface's options onto llama.cpp's (add/parse special, unparse special).
 */
import type { Tokenizer } from '../model-backend.ts';
import type { NativeModel, NativeVocabTable } from './native-addon.ts';

export class LlamaTokenizer implements Tokenizer {
  readonly #model: NativeModel;
  readonly #vocab: NativeVocabTable;

  constructor(model: NativeModel) {
    this.#model = model;
    this.#vocab = model.vocabTable();
  }

  tokenize(text: string, options: { addSpecial: boolean; parseSpecial: boolean }): number[] {
    return Array.from(this.#model.tokenize(text, options.addSpecial, options.parseSpecial));
  }

  detokenize(tokens: readonly number[], options: { skipSpecial: boolean }): string {
    return this.#model.detokenize(Int32Array.from(tokens), false, !options.skipSpecial);
  }

  tokenBytes(token: number): Uint8Array {
    const bytes = this.#vocab.pieces[token];
    if (bytes === undefined) throw new RangeError(`token id out of range: ${token}`);
    return bytes;
  }

  tokenText(token: number): string {
    return this.#model.tokenText(token);
  }

  isSpecial(token: number): boolean {
    return this.#vocab.control[token] === 1;
  }

  isEndOfGeneration(token: number): boolean {
    return this.#vocab.endOfGeneration[token] === 1;
  }

  /** Every end-of-generation token id, ascending. */
  endOfGenerationTokens(): number[] {
    const ids: number[] = [];
    this.#vocab.endOfGeneration.forEach((flag, id) => {
      if (flag === 1) ids.push(id);
    });
    return ids;
  }
}
