import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrivalOffsets } from './arrival.ts';
import { createRng, randomGamma } from './random.ts';

function gaps(offsets: readonly number[]): number[] {
  return offsets.slice(1).map((t, i) => t - offsets[i]!);
}

function meanAndVariance(values: readonly number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return [mean, values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length];
}

describe('arrival schedule', () => {
  it('sends everything at t = 0 for rate inf', () => {
    assert.deepEqual(
      arrivalOffsets(4, { requestRate: Infinity, burstiness: 1, seed: 0 }),
      [0, 0, 0, 0],
    );
  });

  it('is reproducible from its seed, starts at 0 and never goes back', () => {
    const a = arrivalOffsets(50, { requestRate: 5, burstiness: 0.5, seed: 7 });
    assert.deepEqual(a, arrivalOffsets(50, { requestRate: 5, burstiness: 0.5, seed: 7 }));
    assert.notDeepEqual(a, arrivalOffsets(50, { requestRate: 5, burstiness: 0.5, seed: 8 }));
    assert.equal(a[0], 0);
    assert.ok(gaps(a).every((g) => g >= 0));
  });

  for (const burstiness of [0.3, 1, 4]) {
    it(`has mean rate R and gap variance 1/(k R^2) for burstiness ${burstiness}`, () => {
      const rate = 20;
      const [mean, variance] = meanAndVariance(
        gaps(arrivalOffsets(40_001, { requestRate: rate, burstiness, seed: 1 })),
      );
      assert.ok(Math.abs(mean * rate - 1) < 0.03, `mean gap ${mean}`);
      const expected = 1 / (burstiness * rate * rate);
      assert.ok(Math.abs(variance / expected - 1) < 0.08, `variance ${variance} vs ${expected}`);
    });
  }

  it('rejects a non-positive rate or burstiness', () => {
    assert.throws(() => arrivalOffsets(2, { requestRate: 0, burstiness: 1, seed: 0 }), RangeError);
    assert.throws(() => arrivalOffsets(2, { requestRate: 1, burstiness: 0, seed: 0 }), RangeError);
  });
});

describe('seeded random numbers', () => {
  it('draws gamma samples with mean shape * scale', () => {
    const rng = createRng(3);
    const samples = Array.from({ length: 20_000 }, () => randomGamma(rng, 2.5, 2));
    const [mean] = meanAndVariance(samples);
    assert.ok(Math.abs(mean - 5) < 0.1, `mean ${mean}`);
    assert.ok(samples.every((s) => s > 0));
  });

  it('gives uniform numbers in [0, 1)', () => {
    const rng = createRng(0);
    const values = Array.from({ length: 10_000 }, () => rng.next());
    assert.ok(values.every((v) => v >= 0 && v < 1));
    assert.ok(Math.abs(meanAndVariance(values)[0] - 0.5) < 0.02);
  });
});
