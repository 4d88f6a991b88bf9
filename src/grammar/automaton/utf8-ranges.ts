/**
 * Code point ranges as UTF-8 byte-range sequences: the automaton runs on bytes (tokens are byte
 * strings, and a token may end inside a character), so each character class becomes a few
 * alternatives of byte-range sequences.
 *
 * Owns: that conversion. A range is split until every piece encodes to the same number of bytes
 * and each of its byte positions is a plain range; surrogates (U+D800-U+DFFF) are left out, since
 * UTF-8 cannot encode them.
 */
import type { CharRange } from '../grammar-ir.ts';

/** One byte position of a sequence: bytes `lo`..`hi` inclusive. */
export type ByteRange = readonly [lo: number, hi: number];

/** The UTF-8 bytes of one code point. */
export function encodeUtf8(codePoint: number): number[] {
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint < 0x10000) {
    return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  }
  return [
    0xf0 | (codePoint >> 18),
    0x80 | ((codePoint >> 12) & 0x3f),
    0x80 | ((codePoint >> 6) & 0x3f),
    0x80 | (codePoint & 0x3f),
  ];
}

/** The last code point of each UTF-8 length (1, 2, 3 bytes). */
const LENGTH_LIMITS = [0x7f, 0x7ff, 0xffff] as const;

/** Byte-range sequences whose union is exactly the UTF-8 encodings of `ranges`. */
export function utf8Sequences(ranges: readonly CharRange[]): ByteRange[][] {
  const result: ByteRange[][] = [];
  for (const [from, to] of ranges) {
    // Surrogates have no encoding.
    if (from <= 0xd7ff) split(from, Math.min(to, 0xd7ff), result);
    if (to >= 0xe000) split(Math.max(from, 0xe000), to, result);
  }
  return result;
}

function split(from: number, to: number, out: ByteRange[][]): void {
  if (from > to) return;
  for (const limit of LENGTH_LIMITS) {
    if (from <= limit && to > limit) {
      split(from, limit, out);
      split(limit + 1, to, out);
      return;
    }
  }
  if (to < 0x80) {
    out.push([[from, to]]);
    return;
  }
  // Same length: split until the bytes below each position span whole continuation ranges.
  const length = encodeUtf8(from).length;
  for (let i = 1; i < length; i++) {
    const mask = (1 << (6 * i)) - 1;
    if ((from & ~mask) !== (to & ~mask)) {
      if ((from & mask) !== 0) {
        split(from, from | mask, out);
        split((from | mask) + 1, to, out);
        return;
      }
      if ((to & mask) !== mask) {
        split(from, (to & ~mask) - 1, out);
        split(to & ~mask, to, out);
        return;
      }
    }
  }
  const a = encodeUtf8(from);
  const b = encodeUtf8(to);
  out.push(a.map((byte, i): ByteRange => [byte, b[i]!]));
}
