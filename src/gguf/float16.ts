/**
 * IEEE 754 binary16 ("half", ggml's F16) conversion, written by hand because Node 20 has no
 * Float16Array. Owns: float32 -> float16 with round-to-nearest-even (the same results as ggml's
 * `ggml_compute_fp32_to_fp16`, NaN encoded as 0x7E00 with the sign kept), and float16 -> number.
 */

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * Converts the bit pattern of a float32 to the bit pattern of the nearest float16 (ties to even).
 * Overflow gives +-infinity, underflow gives +-0 or a subnormal.
 */
export function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | (mantissa === 0 ? 0x7c00 : 0x7e00);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 31) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal (or zero) result: value = significand * 2^(exponent - 150); unit is 2^-24.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and 0x7bff + 1 is infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** Converts a number to float16 bits: first rounded to float32 (as ggml's input is), then to half. */
export function float32ToFloat16Bits(value: number): number {
  f32Scratch[0] = value;
  return float32BitsToFloat16Bits(u32Scratch[0] ?? 0);
}

/** Decodes float16 bits into the exact number they represent. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** Rounds a number to the nearest float16 value (through float32, as the writer stores it). */
export function roundToFloat16(value: number): number {
  return float16BitsToNumber(float32ToFloat16Bits(value));
}

/**
 * Converts a whole row: `src` float32 values into `dst` float16 bit patterns (same length).
 * Reads the float32 bits through an aliasing Uint32Array, so no per-element allocation happens.
 */
export function encodeFloat16Row(src: Float32Array, dst: Uint16Array): void {
  if (dst.length < src.length) throw new RangeError('encodeFloat16Row: destination too short');
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = float32BitsToFloat16Bits(bits[i] ?? 0);
}
