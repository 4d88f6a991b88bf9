import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CharRange } from '../grammar-ir.ts';
import { encodeUtf8, utf8Sequences, type ByteRange } from './utf8-ranges.ts';

const encoder = new TextEncoder();

function matchingSequences(sequences: readonly ByteRange[][], bytes: readonly number[]): number {
  return sequences.filter(
    (sequence) =>
      sequence.length === bytes.length &&
      sequence.every(([lo, hi], i) => bytes[i]! >= lo && bytes[i]! <= hi),
  ).length;
}

describe('utf8Sequences', () => {
  it('encodes like TextEncoder', () => {
    for (const c of [
      0, 0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff,
    ]) {
      assert.deepEqual(encodeUtf8(c), [...encoder.encode(String.fromCodePoint(c))], c.toString(16));
    }
  });

  it('covers exactly the code points of each range, once, and no surrogate', () => {
    const cases: CharRange[] = [
      [0x20, 0x7e],
      [0x41, 0x5a],
      [0x7f, 0x81],
      [0x80, 0x7ff],
      [0x7fe, 0x801],
      [0x3b1, 0x3c9],
      [0x0, 0x10ffff],
      [0xd000, 0xe100],
      [0xfff0, 0x10010],
      [0x1f600, 0x1f64f],
      [0x12345, 0x10fffe],
    ];
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % below;
    };
    for (const [from, to] of cases) {
      const sequences = utf8Sequences([[from, to]]);
      const probes = new Set<number>([from, to, from - 1, to + 1, 0xd800, 0xdfff]);
      for (let i = 0; i < 3000; i++) probes.add(random(0x110000));
      for (let c = from; c <= Math.min(to, from + 2000); c++) probes.add(c);
      for (const c of probes) {
        if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) continue;
        const want = c >= from && c <= to ? 1 : 0;
        assert.equal(
          matchingSequences(sequences, encodeUtf8(c)),
          want,
          `${c.toString(16)} in ${from.toString(16)}-${to.toString(16)}`,
        );
      }
      // Surrogates' would-be encodings (ED A0..BF xx) never match.
      assert.equal(matchingSequences(sequences, [0xed, 0xa0, 0x80]), 0);
    }
  });
});
