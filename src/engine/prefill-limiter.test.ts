import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrefillLimiter } from './prefill-limiter.ts';

describe('PrefillLimiter', () => {
  it('does not limit without decode rows, before a decode-only step, or when off', () => {
    const on = new PrefillLimiter(2);
    assert.equal(on.limit(8), Infinity, 'no decode step measured yet');
    on.record(8, 0, 30);
    assert.equal(on.limit(0), Infinity, 'nothing decodes: the prompt takes the whole budget');
    const off = new PrefillLimiter(0);
    off.record(8, 0, 30);
    off.record(8, 32, 60);
    assert.equal(off.limit(8), Infinity);
  });

  it('probes with a small chunk, then keeps a mixed step near factor x a decode-only step', () => {
    const limiter = new PrefillLimiter(2);
    limiter.record(8, 0, 30); // decode-only steps: 30 ms
    assert.equal(limiter.limit(8), 16, 'the cost of a prompt token is not known yet');
    // This machine: a step costs 30 ms for its decode rows + 3 ms per prompt token.
    for (let step = 0; step < 30; step++) {
      const tokens = Math.min(limiter.limit(8), 500);
      limiter.record(8, tokens, 30 + 3 * tokens);
    }
    // (2 - 1) x 30 ms / 3 ms = 10 tokens: a 60 ms step, twice a decode-only one.
    assert.equal(limiter.limit(8), 10);
    assert.ok(Math.abs(limiter.promptTokenMs! - 3) < 1e-9);
  });

  it('learns a fixed cost per mixed step into the token cost, and still meets the bound', () => {
    const limiter = new PrefillLimiter(3);
    limiter.record(8, 0, 30);
    let stepMs = 0;
    for (let step = 0; step < 60; step++) {
      const tokens = limiter.limit(8);
      stepMs = 30 + 12 + 2 * tokens; // a second micro-batch costs 12 ms
      limiter.record(8, tokens, stepMs);
    }
    assert.ok(stepMs <= 3 * 30 + 2, `a mixed step takes ${stepMs} ms, about 3 x 30`);
    assert.ok(stepMs >= 3 * 30 - 4, `and no less than needed: ${stepMs} ms`);
  });

  it('is not thrown open by a noisy step that took less than a decode step', () => {
    const limiter = new PrefillLimiter(2);
    limiter.record(8, 0, 30);
    limiter.record(8, 10, 60); // 3 ms per token
    const before = limiter.limit(8);
    limiter.record(8, 10, 25); // noise: faster than a decode-only step
    assert.ok(limiter.limit(8) < 3 * before, `${limiter.limit(8)} tokens after one noisy step`);
  });

  it('lets a short prompt through in one step, but spreads a long one to its last token', () => {
    const limiter = new PrefillLimiter(2);
    limiter.record(8, 0, 30);
    limiter.record(8, 10, 60); // 3 ms per prompt token: a 10-token bound
    // 80 tokens take 240 ms = 8 decode steps: one step. 81 do not.
    assert.equal(limiter.limit(8, 80), Infinity);
    assert.equal(limiter.limit(8, 81), 10);
    // Once a long prompt is being spread, its tail is bounded too.
    assert.equal(limiter.limit(8, 20, true), 10);
    // Before the cost of a token is known: a probe, unless the prompt is smaller.
    const fresh = new PrefillLimiter(2);
    fresh.record(8, 0, 30);
    assert.equal(fresh.limit(8, 12), Infinity);
    assert.equal(fresh.limit(8, 2000), 16);
  });

  it('ignores a backend that reports no time, and refuses a factor in (0, 1]', () => {
    const limiter = new PrefillLimiter(2);
    limiter.record(8, 0, 0);
    assert.equal(limiter.limit(8), Infinity);
    assert.throws(() => new PrefillLimiter(1), /above 1/);
    assert.throws(() => new PrefillLimiter(-1), /above 1/);
  });
});
