import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics, latencyStats, percentile } from './metrics.ts';
import type { RequestResult } from './request-runner.ts';

const ok = (
  ttftMs: number,
  itlMs: number[],
  outputTokens: number,
  promptTokens = 10,
): RequestResult => ({
  success: true,
  error: '',
  ttftMs,
  itlMs,
  latencyMs: ttftMs + itlMs.reduce((a, b) => a + b, 0),
  outputTokens,
  promptTokens,
});

describe('percentile', () => {
  it("interpolates like NumPy's np.percentile", () => {
    // np.percentile([1, 2, 3, 4], [50, 99, 25]) = [2.5, 3.97, 1.75]
    assert.equal(percentile([4, 1, 3, 2], 50), 2.5);
    assert.ok(Math.abs(percentile([1, 2, 3, 4], 99) - 3.97) < 1e-12);
    assert.equal(percentile([1, 2, 3, 4], 25), 1.75);
    assert.equal(percentile([5], 99), 5);
    assert.equal(percentile([], 99), 0);
    assert.equal(percentile([1, 2, 3, 4, 100], 0), 1);
    assert.equal(percentile([1, 2, 3, 4, 100], 100), 100);
  });

  it('gives mean, median and population std', () => {
    const stats = latencyStats([2, 4, 4, 4, 5, 5, 7, 9], [90]);
    assert.equal(stats.mean, 5);
    assert.equal(stats.median, 4.5);
    assert.equal(stats.std, 2);
    // rank 0.9 * 7 = 6.3: 7 + 0.3 * (9 - 7)
    assert.ok(Math.abs(stats.percentiles.get(90)! - 7.6) < 1e-12);
  });
});

describe('computeMetrics', () => {
  it('aggregates successes and counts failures', () => {
    const failed: RequestResult = { ...ok(0, [], 0), success: false, error: 'HTTP 500' };
    const metrics = computeMetrics(
      [ok(100, [10, 20], 3), ok(200, [30], 2), failed, failed],
      2,
      [99],
    );
    assert.equal(metrics.completed, 2);
    assert.equal(metrics.failed, 2);
    assert.deepEqual([...metrics.errors], [['HTTP 500', 2]]);
    assert.equal(metrics.totalInputTokens, 20);
    assert.equal(metrics.totalOutputTokens, 5);
    assert.equal(metrics.requestThroughput, 1);
    assert.equal(metrics.outputThroughput, 2.5);
    assert.equal(metrics.totalTokenThroughput, 12.5);
    assert.equal(metrics.ttft.mean, 150);
    // TPOT: (130 - 100) / 2 = 15 and (230 - 200) / 1 = 30
    assert.equal(metrics.tpot.mean, 22.5);
    assert.equal(metrics.itl.median, 20);
    assert.equal(metrics.e2el.mean, 180);
    assert.ok(Math.abs(metrics.e2el.percentiles.get(99)! - (130 + 0.99 * 100)) < 1e-9);
  });

  it('leaves single-token requests out of TPOT', () => {
    const metrics = computeMetrics([ok(50, [], 1)], 1, [99]);
    assert.equal(metrics.tpot.mean, 0);
    assert.equal(metrics.ttft.mean, 50);
  });
});
