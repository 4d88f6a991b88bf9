/**
 * Chat's `bad_words` as the token sequences the engine masks (vLLM's
 * `SamplingParams.update_from_tokenizer`).
 *
 * Owns: the tokenization rule. Each word (leading whitespace stripped) is tokenized without
 * special tokens; its form with one leading space is added too when that is a different first
 * token and the same number of tokens (so a word is banned both at the start of the text and
 * after a space). An empty word is refused.
 */
import type { Tokenizer } from '../../backend/model-backend.ts';
import { BadRequestError } from '../errors.ts';

/** Python's repr of a list of strings, as vLLM prints `bad_words` in its message. */
function pyStringList(words: readonly string[]): string {
  const repr = (word: string) => `'${word.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `[${words.map(repr).join(', ')}]`;
}

/** The token sequences to ban; empty when the request has no bad words. */
export function resolveBadWords(
  words: readonly string[] | undefined,
  tokenizer: Tokenizer,
): number[][] {
  if (words === undefined || words.length === 0) return [];
  const options = { addSpecial: false, parseSpecial: true };
  const sequences: number[][] = [];
  for (const word of words) {
    const stripped = word.trimStart();
    const plain = tokenizer.tokenize(stripped, options);
    if (plain.length === 0) {
      throw new BadRequestError(
        `bad_words cannot contain an empty string. Got bad_words=${pyStringList(words)}`,
        'bad_words',
      );
    }
    sequences.push(plain);
    const spaced = tokenizer.tokenize(` ${stripped}`, options);
    if (spaced[0] !== plain[0] && spaced.length === plain.length) sequences.push(spaced);
  }
  return sequences;
}
