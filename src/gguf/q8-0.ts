/**
 * ggml's Q8_0 block quantization. Owns the reference encoder (a port of ggml's
 * `quantize_row_q8_0_ref`, float32 arithmetic emulated with Math.fround) and a decoder used by
 * tests. A block is 32 values stored as a float16 scale `d` followed by 32 int8 quants `q`;
 * the value is `d * q`.
 */

import { float16BitsToNumber, float32ToFloat16Bits } from './float16.ts';

/** Values per Q8_0 block (ggml's QK8_0). */
export const Q8_0_BLOCK_VALUES = 32;

/** Bytes per Q8_0 block: a 2-byte float16 scale and 32 int8 quants. */
export const Q8_0_BLOCK_BYTES = 34;

/**
 * Quantizes `src` (length a multiple of 32) into `dst` starting at `offset`, writing
 * `src.length / 32 * 34` bytes. Per block: amax = max |x|, d = amax / 127 (float32),
 * id = 1 / d (0 when d is 0), q = roundf(x * id); d is stored as float16, little-endian.
 */
export function quantizeRowQ8_0(src: Float32Array, dst: Uint8Array, offset = 0): void {
  if (src.length % Q8_0_BLOCK_VALUES !== 0) {
    throw new RangeError(`Q8_0 row length must be a multiple of 32, got ${src.length}`);
  }
  const blocks = src.length / Q8_0_BLOCK_VALUES;
  if (offset + blocks * Q8_0_BLOCK_BYTES > dst.length) {
    throw new RangeError('quantizeRowQ8_0: destination too short');
  }
  let out = offset;
  for (let b = 0; b < blocks; b++) {
    const start = b * Q8_0_BLOCK_VALUES;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK_VALUES; j++)
      amax = Math.max(amax, Math.abs(src[start + j] ?? 0));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const dBits = float32ToFloat16Bits(d);
    dst[out] = dBits & 0xff;
    dst[out + 1] = dBits >>> 8;
    out += 2;
    for (let j = 0; j < Q8_0_BLOCK_VALUES; j++) {
      // C's roundf (halves away from zero), without data-dependent branches: random signs
      // would defeat branch prediction. |x| + 0.5 is exact in float64 for a float32 x.
      const x = Math.fround((src[start + j] ?? 0) * id);
      const magnitude = Math.floor(Math.abs(x) + 0.5) | 0;
      const negative = Number(x < 0);
      dst[out + j] = (magnitude ^ -negative) + negative;
    }
    out += Q8_0_BLOCK_VALUES;
  }
}

/** Decodes `count` values (a multiple of 32) of Q8_0 data starting at `offset` in `src`. */
export function dequantizeQ8_0(src: Uint8Array, count: number, offset = 0): Float32Array {
  if (count % Q8_0_BLOCK_VALUES !== 0) throw new RangeError('count must be a multiple of 32');
  const out = new Float32Array(count);
  for (let b = 0; b < count / Q8_0_BLOCK_VALUES; b++) {
    const base = offset + b * Q8_0_BLOCK_BYTES;
    const d = float16BitsToNumber((src[base] ?? 0) | ((src[base + 1] ?? 0) << 8));
    for (let j = 0; j < Q8_0_BLOCK_VALUES; j++) {
      const byte = src[base + 2 + j] ?? 0;
      out[b * Q8_0_BLOCK_VALUES + j] = d * (byte >= 128 ? byte - 256 : byte);
    }
  }
  return out;
}
