import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  encodeFloat16Row,
  float16BitsToNumber,
  float32BitsToFloat16Bits,
  float32ToFloat16Bits,
  roundToFloat16,
} from './float16.ts';

// Expected bit patterns from the IEEE 754 binary16 definition (1 sign, 5 exponent bits with
// bias 15, 10 mantissa bits), computed by hand.
const CASES: [value: number, bits: number, why: string][] = [
  [0, 0x0000, 'zero'],
  [-0, 0x8000, 'negative zero'],
  [1, 0x3c00, 'one'],
  [-2, 0xc000, 'minus two'],
  [0.5, 0x3800, 'one half'],
  [32, 0x5000, '2^5'],
  [1 / 32, 0x2800, '2^-5'],
  [65504, 0x7bff, 'largest finite'],
  [65519, 0x7bff, 'below the rounding point of the largest finite'],
  [65520, 0x7c00, 'tie between 65504 (odd mantissa) and 65536: rounds to even, infinity'],
  [1e6, 0x7c00, 'overflow'],
  [-1e6, 0xfc00, 'negative overflow'],
  [Infinity, 0x7c00, 'infinity'],
  [-Infinity, 0xfc00, 'negative infinity'],
  [2 ** -14, 0x0400, 'smallest normal'],
  [2 ** -24, 0x0001, 'smallest subnormal'],
  [1023 * 2 ** -24, 0x03ff, 'largest subnormal'],
  [2 ** -25, 0x0000, 'tie between 0 and 2^-24: rounds to even, zero'],
  [1.5 * 2 ** -25, 0x0001, 'above the tie rounds up to the smallest subnormal'],
  [3 * 2 ** -25, 0x0002, 'tie between 1 and 2 subnormal units: rounds to even, 2'],
  [5 * 2 ** -25, 0x0002, 'tie between 2 and 3 subnormal units: rounds to even, 2'],
  [-(2 ** -24), 0x8001, 'negative smallest subnormal'],
  [2 ** -30, 0x0000, 'underflow to zero'],
  [1 + 2 ** -11, 0x3c00, 'tie between 1 and 1+2^-10: rounds to even, 1'],
  [1 + 3 * 2 ** -11, 0x3c02, 'tie between 1+2^-10 and 1+2^-9: rounds to even, 1+2^-9'],
  [1 + 2 ** -11 + 2 ** -20, 0x3c01, 'just above the tie rounds up'],
  [4095 * 2 ** -12, 0x3c00, 'tie with odd mantissa 0x3ff carries into the exponent: 1'],
  [2047 * 2 ** -11, 0x3bff, 'largest float16 below 1'],
  [0.1, 0x2e66, '0.1'],
  [1 / 3, 0x3555, 'one third'],
  [-65504, 0xfbff, 'most negative finite'],
];

test('float32ToFloat16Bits matches hand-computed bit patterns', () => {
  for (const [value, bits, why] of CASES) {
    assert.equal(float32ToFloat16Bits(value), bits, `${why}: ${value}`);
  }
});

test('NaN becomes the quiet NaN 0x7e00 (sign kept), as in ggml', () => {
  assert.equal(float32ToFloat16Bits(NaN), 0x7e00);
  assert.equal(float32BitsToFloat16Bits(0xffc00000), 0xfe00);
  assert.equal(float32BitsToFloat16Bits(0x7f800001), 0x7e00);
});

test('float16BitsToNumber decodes exactly', () => {
  assert.equal(float16BitsToNumber(0x3c00), 1);
  assert.equal(float16BitsToNumber(0x7bff), 65504);
  assert.equal(float16BitsToNumber(0x0001), 2 ** -24);
  assert.equal(float16BitsToNumber(0x03ff), 1023 * 2 ** -24);
  assert.equal(float16BitsToNumber(0xc000), -2);
  assert.equal(float16BitsToNumber(0x7c00), Infinity);
  assert.equal(float16BitsToNumber(0xfc00), -Infinity);
  assert.ok(Number.isNaN(float16BitsToNumber(0x7e00)));
  assert.ok(Object.is(float16BitsToNumber(0x8000), -0));
});

test('every finite float16 survives encode(decode(bits))', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    if ((bits & 0x7c00) === 0x7c00) continue;
    assert.equal(float32ToFloat16Bits(float16BitsToNumber(bits)), bits);
  }
});

test('roundToFloat16 and the row encoder agree with the scalar conversion', () => {
  assert.equal(roundToFloat16(0.1), 0.0999755859375);
  const values = Float32Array.from(CASES.map(([v]) => v));
  const out = new Uint16Array(values.length);
  encodeFloat16Row(values, out);
  assert.deepEqual(
    [...out],
    CASES.map(([, bits]) => bits),
  );
});

/** A port of ggml's `ggml_compute_fp32_to_fp16` (ggml-impl.h), float32 ops via Math.fround. */
function ggmlFp32ToFp16(bits: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const fromBits = (b: number) => {
    u32[0] = b;
    return f32[0] ?? 0;
  };
  const toBits = (f: number) => {
    f32[0] = f;
    return u32[0] ?? 0;
  };
  const f = fromBits(bits);
  let base = Math.fround(Math.fround(Math.abs(f) * 2 ** 112) * 2 ** -110);
  const w = bits >>> 0;
  const shl1w = (w + w) >>> 0;
  const sign = (w & 0x80000000) >>> 0;
  let bias = (shl1w & 0xff000000) >>> 0;
  if (bias < 0x71000000) bias = 0x71000000;
  base = Math.fround(fromBits((bias >>> 1) + 0x07800000) + base);
  const b = toBits(base);
  const nonsign = ((b >>> 13) & 0x7c00) + (b & 0x0fff);
  return (sign >>> 16) | (shl1w > 0xff000000 ? 0x7e00 : nonsign);
}

test('agrees with a port of ggml_compute_fp32_to_fp16 on 300k float32 bit patterns', () => {
  let state = 0x12345678;
  for (let i = 0; i < 300_000; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    // Half the samples concentrate on exponents near the float16 range.
    const bits = i % 2 === 0 ? state : ((state & 0x807fffff) | ((100 + (state % 50)) << 23)) >>> 0;
    assert.equal(
      float32BitsToFloat16Bits(bits),
      ggmlFp32ToFp16(bits),
      `bits 0x${bits.toString(16)}`,
    );
  }
});
