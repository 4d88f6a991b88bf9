import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dequantizeQ8_0, quantizeRowQ8_0 } from './q8-0.ts';

/** A 32-value block: the given leading values, then zeros. */
function block(values: number[]): number[] {
  return [...values, ...new Array<number>(32 - values.length).fill(0)];
}

/** Expected block bytes: float16 scale bits little-endian, then int8 quants, zero-padded. */
function expectedBytes(scaleBits: number, quants: number[]): number[] {
  const q = block(quants).map((v) => v & 0xff);
  return [scaleBits & 0xff, scaleBits >>> 8, ...q];
}

test('Q8_0 blocks match hand-computed bytes', () => {
  // Block 1: amax 127, so d = 1 (float16 0x3c00), id = 1, q = roundf(x): halves go away from 0.
  const x1 = [127, -127, 0.5, -0.5, 1.5, -1.5, 2.5, 0.49, -0.51, 126.6, 3, -3];
  const q1 = [127, -127, 1, -1, 2, -2, 3, 0, -1, 127, 3, -3];
  // Block 2: amax 63.5, so d = 0.5 (0x3800), id = 2: 0.25 -> 0.5 -> 1, -0.75 -> -1.5 -> -2,
  // 0.2 -> 0.4 -> 0.
  const x2 = [63.5, 0.25, -0.75, 1, -63.5, 0.2];
  const q2 = [127, 1, -2, 2, -127, 0];
  // Block 3: all zeros: d = 0 and every quant 0.
  // Block 4: amax 12.7 (float32 12.6999998...): d = float32(0.1) stored as float16 0x2e66,
  // id = float32(1 / d) = 10 exactly; -0.25 -> -2.5 -> -3 (roundf, not banker's rounding).
  const x4 = [12.7, 0.3, -0.25, -12.7];
  const q4 = [127, 3, -3, -127];
  const src = Float32Array.from([...block(x1), ...block(x2), ...block([]), ...block(x4)]);
  const dst = new Uint8Array(4 * 34 + 3).fill(0xaa);
  quantizeRowQ8_0(src, dst, 3);
  assert.deepEqual([...dst.subarray(0, 3)], [0xaa, 0xaa, 0xaa], 'bytes before offset untouched');
  assert.deepEqual([...dst.subarray(3, 37)], expectedBytes(0x3c00, q1));
  assert.deepEqual([...dst.subarray(37, 71)], expectedBytes(0x3800, q2));
  assert.deepEqual([...dst.subarray(71, 105)], expectedBytes(0x0000, []));
  assert.deepEqual([...dst.subarray(105, 139)], expectedBytes(0x2e66, q4));
});

test('dequantizeQ8_0 returns d * q', () => {
  const bytes = Uint8Array.from(expectedBytes(0x3800, [127, 1, -2, -128]));
  const values = dequantizeQ8_0(bytes, 32);
  assert.deepEqual([...values.subarray(0, 5)], [63.5, 0.5, -1, -64, 0]);
});

test('Q8_0 rejects rows that are not whole blocks', () => {
  assert.throws(() => quantizeRowQ8_0(new Float32Array(33), new Uint8Array(100)), RangeError);
  assert.throws(() => quantizeRowQ8_0(new Float32Array(64), new Uint8Array(67)), RangeError);
});

/** A direct port of ggml's quantize_row_q8_0_ref for one block (roundf as C defines it). */
function referenceBlock(x: Float32Array): number[] {
  let amax = 0;
  for (const v of x) amax = Math.max(amax, Math.abs(v));
  const d = Math.fround(amax / 127);
  const id = d ? Math.fround(1 / d) : 0;
  const f32 = new Float32Array([d]);
  const bits = new Uint32Array(f32.buffer)[0] ?? 0;
  // float32 -> float16 for the scale, written plainly (normal range only, which d is here).
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  let half = exp <= 0 ? 0 : (exp << 10) | ((bits >>> 13) & 0x3ff);
  const rest = bits & 0x1fff;
  if (exp > 0 && (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1))) half += 1;
  const q = [...x].map((v) => {
    const y = Math.fround(v * id);
    return (y < 0 ? -Math.round(-y) : Math.round(y)) & 0xff;
  });
  return [half & 0xff, half >>> 8, ...q];
}

test('agrees with a plain port of the reference on random blocks, ties included', () => {
  let state = 7;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let k = 0; k < 3000; k++) {
    // Odd blocks hold multiples of 0.5 up to 127, so x * id lands exactly on .5 ties.
    const x = Float32Array.from({ length: 32 }, () =>
      k % 2 === 1 ? Math.round(next() * 508 - 254) / 2 : (next() * 2 - 1) * 10 ** ((k % 5) - 2),
    );
    if (k % 2 === 1) x[0] = 127;
    const got = new Uint8Array(34);
    quantizeRowQ8_0(x, got);
    assert.deepEqual([...got], referenceBlock(x), `block ${k}`);
  }
});
