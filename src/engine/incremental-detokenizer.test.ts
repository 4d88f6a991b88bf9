import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteTokenizer } from '../backend/fake-tokenizer.ts';
import type { Tokenizer } from '../backend/model-backend.ts';
import { IncrementalDetokenizer } from './incremental-detokenizer.ts';

const tokenizer = new ByteTokenizer(['<|endoftext|>', '<|im_start|>', '<|im_end|>'], [256, 258]);
const bytes = (text: string) => [...new TextEncoder().encode(text)];

function pushAll(detokenizer: IncrementalDetokenizer, tokens: readonly number[]): string[] {
  return tokens.map((t) => detokenizer.push(t));
}

describe('IncrementalDetokenizer', () => {
  it('holds back the bytes of a character split across tokens until it is complete', () => {
    const d = new IncrementalDetokenizer(tokenizer, true);
    // "é" = C3 A9, "€" = E2 82 AC, "😀" = F0 9F 98 80
    const pieces = pushAll(d, bytes('aé€😀b'));
    assert.deepEqual(pieces, ['a', '', 'é', '', '', '€', '', '', '', '😀', 'b']);
    assert.equal(d.flush(), '');
  });

  it('never emits a partial character, and concatenates to a one-shot decode', () => {
    const text = 'Grüße, 世界! 🎉 ok';
    const d = new IncrementalDetokenizer(tokenizer, true);
    const pieces = pushAll(d, bytes(text));
    for (const piece of pieces) assert.ok(!piece.includes('\uFFFD'), `partial char in ${piece}`);
    assert.equal(pieces.join('') + d.flush(), text);
  });

  it('flushes an incomplete character at the end as U+FFFD, like TextDecoder', () => {
    const d = new IncrementalDetokenizer(tokenizer, true);
    assert.deepEqual(pushAll(d, [0x61, 0xe2, 0x82]), ['a', '', '']);
    assert.equal(d.flush(), '\uFFFD');
  });

  it('replaces invalid bytes at once, as a whole-string decode would', () => {
    const tokens = [0x61, 0xff, 0x62, 0xc3, 0x41];
    const d = new IncrementalDetokenizer(tokenizer, true);
    const streamed = pushAll(d, tokens).join('') + d.flush();
    assert.equal(streamed, new TextDecoder().decode(Uint8Array.from(tokens)));
    assert.equal(streamed, 'a\uFFFDb\uFFFDA');
  });

  it('keeps a leading byte-order mark (it is generated text)', () => {
    const d = new IncrementalDetokenizer(tokenizer, true);
    assert.equal(pushAll(d, [0xef, 0xbb, 0xbf, 0x61]).join(''), '\uFEFFa');
  });

  it('skips special tokens when asked, and renders them otherwise', () => {
    const tokens = [0x68, 257, 0x69, 258];
    const skipping = new IncrementalDetokenizer(tokenizer, true);
    assert.deepEqual(pushAll(skipping, tokens), ['h', '', 'i', '']);
    const rendering = new IncrementalDetokenizer(tokenizer, false);
    assert.deepEqual(pushAll(rendering, tokens), ['h', '<|im_start|>', 'i', '<|im_end|>']);
  });

  it('a skipped special token does not break a character being assembled', () => {
    const d = new IncrementalDetokenizer(tokenizer, true);
    assert.deepEqual(pushAll(d, [0xc3, 257, 0xa9]), ['', '', 'é']);
  });

  it('equals a one-shot decode for multi-byte tokens of mixed ASCII and arbitrary bytes', () => {
    // 300 tokens of 1-4 bytes; half all-ASCII, the rest arbitrary (valid or broken UTF-8).
    let state = 7;
    const next = (bound: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % bound;
    };
    const pieces = Array.from({ length: 300 }, () =>
      Uint8Array.from({ length: 1 + next(4) }, () => (next(2) === 0 ? next(128) : next(256))),
    );
    const multiByte: Tokenizer = {
      tokenize: () => [],
      detokenize: () => '',
      tokenBytes: (t) => pieces[t]!,
      tokenText: () => '',
      isSpecial: () => false,
      isEndOfGeneration: () => false,
    };
    for (let trial = 0; trial < 20; trial++) {
      const tokens = Array.from({ length: 60 }, () => next(pieces.length));
      const d = new IncrementalDetokenizer(multiByte, true);
      const text = pushAll(d, tokens).join('') + d.flush();
      const all = Uint8Array.from(tokens.flatMap((t) => [...pieces[t]!]));
      assert.equal(text, new TextDecoder('utf-8', { ignoreBOM: true }).decode(all));
    }
  });
});
