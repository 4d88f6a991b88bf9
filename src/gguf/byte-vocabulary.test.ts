import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  BASE_VOCAB_SIZE,
  ENDOFTEXT_TOKEN_ID,
  FIM_MIDDLE_TOKEN_ID,
  FIM_PREFIX_TOKEN_ID,
  FIM_SUFFIX_TOKEN_ID,
  FIM_VOCAB_SIZE,
  IM_END_TOKEN_ID,
  IM_START_TOKEN_ID,
  buildByteVocabulary,
  byteToUnicode,
  bytesToTokenText,
} from './byte-vocabulary.ts';

test('bytes_to_unicode known entries (GPT-2)', () => {
  // Printable bytes map to themselves; the 68 others to U+0100 onwards in byte order.
  assert.equal(byteToUnicode(0x21), '!');
  assert.equal(byteToUnicode(0x41), 'A');
  assert.equal(byteToUnicode(0x7e), '~');
  assert.equal(byteToUnicode(0xa1), '¡');
  assert.equal(byteToUnicode(0xae), '®');
  assert.equal(byteToUnicode(0xff), 'ÿ');
  assert.equal(byteToUnicode(0), '\u0100'); // 'Ā'
  assert.equal(byteToUnicode(10), '\u010a'); // 'Ċ'
  assert.equal(byteToUnicode(13), '\u010d'); // 'č'
  assert.equal(byteToUnicode(32), '\u0120'); // 'Ġ'
  assert.equal(byteToUnicode(0x7f), '\u0121'); // 'ġ' (DEL, the 34th non-printable byte)
  assert.equal(byteToUnicode(0xa0), '\u0142'); // 'ł' (NBSP)
  assert.equal(byteToUnicode(0xad), '\u0143'); // 'Ń' (soft hyphen, the last one)
  assert.equal(bytesToTokenText(' é\n'), 'ĠÃ©Ċ');
});

test('the base vocabulary: 256 bytes then three control tokens', () => {
  const vocab = buildByteVocabulary();
  assert.equal(vocab.tokens.length, 259);
  assert.equal(BASE_VOCAB_SIZE, 259);
  assert.equal(vocab.tokens[97], 'a');
  assert.equal(vocab.tokens[32], 'Ġ');
  assert.equal(vocab.tokens[256], '<|endoftext|>');
  assert.equal(vocab.tokens[257], '<|im_start|>');
  assert.equal(vocab.tokens[258], '<|im_end|>');
  assert.deepEqual([ENDOFTEXT_TOKEN_ID, IM_START_TOKEN_ID, IM_END_TOKEN_ID], [256, 257, 258]);
  assert.equal(vocab.bosTokenId, 256);
  assert.equal(vocab.eosTokenId, 256);
  assert.equal(vocab.eotTokenId, 258);
  // llama.cpp token types: 1 = NORMAL, 3 = CONTROL.
  assert.deepEqual([...vocab.tokenTypes.subarray(250, 259)], [1, 1, 1, 1, 1, 1, 3, 3, 3]);
  assert.deepEqual(vocab.merges, []);
  assert.equal(new Set(vocab.tokens).size, 259);
  // Every code point used for bytes is distinct and a single character.
  assert.ok(vocab.tokens.slice(0, 256).every((t) => [...t].length === 1));
});

test('a 32000-token vocabulary: unique tokens, every merge builds an existing token', () => {
  const vocab = buildByteVocabulary(32000);
  assert.equal(vocab.tokens.length, 32000);
  assert.equal(vocab.tokenTypes.length, 32000);
  assert.equal(new Set(vocab.tokens).size, 32000);
  assert.equal(vocab.merges.length, 32000 - 259);
  const ids = new Map(vocab.tokens.map((t, i) => [t, i]));
  for (const [rank, merge] of vocab.merges.entries()) {
    const parts = merge.split(' ');
    assert.equal(parts.length, 2, merge);
    const [left = '', right = ''] = parts;
    assert.ok(ids.has(left) && ids.has(right), `merge parts are tokens: ${merge}`);
    assert.equal(ids.get(left + right), 259 + rank, `merge ${rank} makes token ${259 + rank}`);
  }
  assert.ok([...vocab.tokenTypes.subarray(259)].every((t) => t === 1));
  for (const t of ['Ġa', 'xy', 'Ġab', 'Ġth']) assert.ok(vocab.tokens.includes(t), t);
});

test('vocabulary sizes below 259 are rejected', () => {
  assert.throws(() => buildByteVocabulary(258), RangeError);
});

test('fillInTheMiddle: <|fim_prefix|>, <|fim_suffix|>, <|fim_middle|> as control tokens 259-261', () => {
  assert.equal(buildByteVocabulary().fillInTheMiddle, null);
  const vocab = buildByteVocabulary(FIM_VOCAB_SIZE, { fillInTheMiddle: true });
  assert.deepEqual(vocab.tokens.slice(259), ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>']);
  assert.deepEqual([...vocab.tokenTypes.subarray(258)], [3, 3, 3, 3]);
  assert.deepEqual(vocab.fillInTheMiddle, {
    prefix: FIM_PREFIX_TOKEN_ID,
    suffix: FIM_SUFFIX_TOKEN_ID,
    middle: FIM_MIDDLE_TOKEN_ID,
  });
  assert.deepEqual(
    [FIM_PREFIX_TOKEN_ID, FIM_SUFFIX_TOKEN_ID, FIM_MIDDLE_TOKEN_ID],
    [259, 260, 261],
  );
  // Extra tokens start after them; their merges still build existing tokens.
  const large = buildByteVocabulary(300, { fillInTheMiddle: true });
  assert.equal(large.tokens[261], '<|fim_middle|>');
  assert.equal(large.merges.length, 300 - 262);
  assert.equal(large.tokenTypes[262], 1);
  assert.throws(() => buildByteVocabulary(261, { fillInTheMiddle: true }), RangeError);
});
