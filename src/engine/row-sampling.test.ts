import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { params } from './engine-test-fixtures.ts';
import { deriveRowSeed, randomSeed, rowSamplingFor, toSeed64 } from './row-sampling.ts';

/** splitmix64 written out independently with 64-bit wrap-around: output `n` (1-based) for `state`. */
function splitmix64Output(state: bigint, n: number): bigint {
  const mask = (1n << 64n) - 1n;
  let s = state & mask;
  let z = 0n;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b97f4a7c15n) & mask;
    z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    z = z ^ (z >> 31n);
  }
  return z;
}

describe('row sampling', () => {
  it('derives the row seed of token i as splitmix64 output i+1 of the request seed', () => {
    for (const seed of [0n, 1n, 42n, (1n << 64n) - 1n]) {
      for (const i of [0, 1, 2, 17])
        assert.equal(deriveRowSeed(seed, i), splitmix64Output(seed, i + 1));
    }
    // Known first output of splitmix64 with state 0.
    assert.equal(deriveRowSeed(0n, 0), 0xe220a8397b1dcdafn);
  });

  it('gives distinct 64-bit seeds per token and per request seed', () => {
    const seeds = new Set<bigint>();
    for (let s = 0n; s < 20n; s++) for (let i = 0; i < 50; i++) seeds.add(deriveRowSeed(s, i));
    assert.equal(seeds.size, 1000);
    for (const seed of seeds) assert.ok(seed >= 0n && seed < 1n << 64n);
  });

  it('wraps negative (int64) seeds into 64 bits', () => {
    assert.equal(toSeed64(-1n), (1n << 64n) - 1n);
    assert.equal(deriveRowSeed(-1n, 3), deriveRowSeed((1n << 64n) - 1n, 3));
    assert.throws(() => deriveRowSeed(1n, -1), RangeError);
  });

  it('draws random 64-bit seeds', () => {
    const a = randomSeed();
    const b = randomSeed();
    assert.notEqual(a, b);
    assert.ok(a >= 0n && a < 1n << 64n);
  });

  it('copies the sampling parameters into the row, with no token mask', () => {
    const p = params({ temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05 });
    assert.deepEqual(rowSamplingFor(p, 9n, 4), {
      temperature: 0.7,
      topK: 40,
      topP: 0.9,
      minP: 0.05,
      seed: deriveRowSeed(9n, 4),
      allowedTokens: null,
      logitBias: null,
      penalties: null,
    });
  });

  it('gives greedy rows seed 0 (their draw uses no randomness)', () => {
    assert.equal(rowSamplingFor(params({ temperature: 0 }), 9n, 4).seed, 0n);
    assert.equal(rowSamplingFor(params({ temperature: 1e-6 }), 9n, 4).seed, 0n);
    assert.equal(rowSamplingFor(params({ temperature: 1e-5 }), 9n, 4).seed, deriveRowSeed(9n, 4));
  });
});
