/**
 * A small, fast, seeded pseudo-random generator for model weights: xoshiro128** (Blackman and
 * Vigna) seeded through splitmix32, 32-bit integer arithmetic only. Deterministic across
 * platforms and Node versions, so a (seed, spec) pair always yields the same file.
 */

/** splitmix32 step: returns the next state and its mixed output. */
function splitmix32(state: number): [next: number, output: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** xoshiro128** generator. */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds the four state words from `seed` (any integer; uses its low 32 bits). */
  constructor(seed: number) {
    let s = seed | 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(s);
      s = next;
      words.push(out);
    }
    [this.a, this.b, this.c, this.d] = words as [number, number, number, number];
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Next float uniformly distributed in [0, 1), with 24 random bits (exact in float32). */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) * 2 ** -24;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Mixes a base seed with a stream index into a new 32-bit seed (for per-tensor streams). */
export function deriveSeed(seed: number, stream: number): number {
  const [, a] = splitmix32((seed ^ Math.imul(stream + 1, 0x27d4eb2d)) | 0);
  return a | 0;
}
