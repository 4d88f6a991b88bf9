/**
 * Seeded pseudo-random numbers for the benchmark: a small, fast generator (mulberry32) and the
 * distributions the datasets and the arrival schedule draw from (uniform integers, standard
 * normal, gamma).
 *
 * Owns: reproducibility only; the same seed gives the same sequence on every platform.
 */

/** A seeded source of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

/** mulberry32: 32 bits of state, good enough for workload generation, identical everywhere. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A uniform integer in [min, max], both inclusive. */
export function randomInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng.next() * (max - min + 1));
}

/** A standard normal sample (Box-Muller). */
export function randomNormal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: log is finite
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A gamma sample with the given shape (k > 0) and scale (theta > 0); mean k * theta
 * (Marsaglia and Tsang; shapes below 1 use the boost gamma(k + 1) * U^(1/k)).
 */
export function randomGamma(rng: Rng, shape: number, scale: number): number {
  if (shape < 1) {
    const boost = Math.pow(1 - rng.next(), 1 / shape);
    return randomGamma(rng, shape + 1, scale) * boost;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = randomNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
  }
}
