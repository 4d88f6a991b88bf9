import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tokenizer } from '../../backend/model-backend.ts';
import { BadRequestError } from '../errors.ts';
import { testTokenizer } from '../testing/test-app.ts';
import { resolveBadWords } from './bad-words.ts';

/** A word tokenizer: "hello" and " hello" are one token each (ids 1 and 2), anything else bytes + 100. */
const bytes = testTokenizer();
const words: Tokenizer = {
  detokenize: (tokens, options) => bytes.detokenize(tokens, options),
  tokenBytes: (token) => bytes.tokenBytes(token),
  tokenText: (token) => bytes.tokenText(token),
  isSpecial: (token) => bytes.isSpecial(token),
  isEndOfGeneration: (token) => bytes.isEndOfGeneration(token),
  tokenize: (text) => {
    if (text === 'hello') return [1];
    if (text === ' hello') return [2];
    return [...Buffer.from(text)].map((b) => b + 100);
  },
};

describe('resolveBadWords', () => {
  it('adds the spaced form when it is another first token of the same length', () => {
    assert.deepEqual(resolveBadWords(['  hello'], words), [[1], [2]]);
    // "ab" and " ab" differ in length: only the bare form.
    assert.deepEqual(resolveBadWords(['ab'], words), [[197, 198]]);
    assert.deepEqual(resolveBadWords([], words), []);
    assert.deepEqual(resolveBadWords(undefined, words), []);
  });

  it('parses special-token text, as an HF tokenizer encodes it', () => {
    assert.deepEqual(resolveBadWords(['<|im_end|>'], testTokenizer()), [[258]]);
  });

  it("refuses an empty word with vLLM's message", () => {
    assert.throws(
      () => resolveBadWords(['ok', " it's", '  '], words),
      (error: unknown) =>
        error instanceof BadRequestError &&
        error.param === 'bad_words' &&
        error.message ===
          "bad_words cannot contain an empty string. Got bad_words=['ok', ' it\\'s', '  ']",
    );
  });
});
