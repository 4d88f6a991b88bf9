import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrefillLimiter } from './prefill-limiter.ts';

/** A machine whose steps cost `decode` ms + `mixing` ms if mixed + `perToken` per prompt token. */
function machine(decode: number, mixing: number, perToken: number) {
  return (decodeRows: number, promptTokens: number): number =>
    (decodeRows > 0 ? decode : 0) +
    (decodeRows > 0 && promptTokens > 0 ? mixing : 0) +
    promptTokens * perToken;
}

describe('PrefillLimiter', () => {
  it('does not limit without decode rows, before a decode-only step, or when off', () => {
    const on = new PrefillLimiter(2);
    assert.equal(on.limit(8), Infinity, 'no decode step measured yet');
    on.record(8, 0, 30);
    assert.equal(on.limit(0), Infinity, 'nothing decodes: the prompt takes the whole budget');
    const off = new PrefillLimiter(0);
    off.record(8, 0, 30);
    off.record(0, 512, 1500);
    assert.equal(off.limit(8), Infinity);
    assert.equal(off.isLongPrompt(10_000), false);
  });

  it('learns D, p and c, and keeps a mixed step at factor x D', () => {
    const cost = machine(30, 12, 3);
    const limiter = new PrefillLimiter(2);
    limiter.record(0, 256, cost(0, 256)); // the first prompts: p = 3 ms
    limiter.record(8, 0, cost(8, 0)); // decode-only: D = 30 ms
    let stepMs = 0;
    for (let step = 0; step < 40; step++) {
      const tokens = limiter.limit(8);
      stepMs = cost(8, tokens);
      limiter.record(8, tokens, stepMs);
    }
    // (2 - 1) x 30 - 12 = 18 ms of room: 6 tokens, a 60 ms step.
    assert.equal(limiter.limit(8), 6);
    assert.equal(stepMs, 60);
    const { mixingMs, promptTokenMs } = limiter.estimates;
    assert.ok(Math.abs(mixingMs - 12) < 0.01, `c = ${mixingMs}`);
    assert.equal(promptTokenMs, 3);
  });

  it('starts with a probe and an estimate on the safe side when no prompt-only step was seen', () => {
    const cost = machine(30, 12, 3);
    const limiter = new PrefillLimiter(2);
    limiter.record(8, 0, 30);
    assert.equal(limiter.limit(8), 4);
    limiter.record(8, 4, cost(8, 4)); // 54 ms: p taken as (54 - 30) / 4 = 6 ms
    assert.equal(limiter.estimates.promptTokenMs, 6);
    assert.ok(cost(8, limiter.limit(8)) <= 60, 'no step beyond the bound');
  });

  it('calls a prompt long when more than 256 tokens are left, unless the bound is off', () => {
    const limiter = new PrefillLimiter(2);
    assert.equal(limiter.isLongPrompt(256), false);
    assert.equal(limiter.isLongPrompt(257), true);
    assert.equal(new PrefillLimiter(0).isLongPrompt(10_000), false);
  });

  it('uses the decode-only time of the nearest measured number of rows', () => {
    const limiter = new PrefillLimiter(2);
    limiter.record(0, 100, 300); // p = 3 ms
    limiter.record(1, 0, 14);
    limiter.record(8, 0, 32);
    assert.equal(limiter.limit(1), 4, '(14 - 0) / 3');
    assert.equal(limiter.limit(7), 10, 'as for 8 rows: 32 / 3');
    assert.equal(limiter.limit(3), 4, 'as for 1 row');
  });

  it('is not thrown open by a noisy step that took less than a decode step', () => {
    const limiter = new PrefillLimiter(2);
    limiter.record(0, 100, 300);
    limiter.record(8, 0, 30);
    const before = limiter.limit(8);
    limiter.record(8, 5, 20); // noise: faster than a decode-only step
    assert.ok(limiter.limit(8) <= before, `${limiter.limit(8)} tokens after one noisy step`);
  });

  it('ignores a backend that reports no time, and refuses a factor in (0, 1]', () => {
    const limiter = new PrefillLimiter(2);
    limiter.record(8, 0, 0);
    assert.equal(limiter.limit(8), Infinity);
    assert.throws(() => new PrefillLimiter(1), /above 1/);
    assert.throws(() => new PrefillLimiter(-1), /above 1/);
  });
});
