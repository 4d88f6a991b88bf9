import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodePlacement } from './decode-placement.ts';

describe('DecodePlacement', () => {
  it('keeps the first decode-only step and every prefill step on the worker', () => {
    const placement = new DecodePlacement(20);
    assert.equal(placement.runsOnJsThread(8, 8), false, 'no measurement yet');
    placement.record(8, 8, 12);
    assert.equal(placement.runsOnJsThread(8, 8), true);
    assert.equal(placement.runsOnJsThread(40, 8), false, 'a step with prompt chunks');
    placement.record(40, 8, 5); // prefill steps do not change the estimate
    assert.equal(placement.runsOnJsThread(4, 4), true);
  });

  it('moves back to the worker once decode-only steps take longer than the bound', () => {
    const placement = new DecodePlacement(20);
    placement.record(16, 16, 20);
    assert.equal(placement.runsOnJsThread(16, 16), true, 'at the bound');
    placement.record(16, 16, 20.5);
    assert.equal(placement.runsOnJsThread(16, 16), false);
    placement.record(16, 16, 19);
    assert.equal(placement.runsOnJsThread(16, 16), true);
  });

  it('never runs on the JS thread with a bound of 0 (unless a step takes no time)', () => {
    const placement = new DecodePlacement(0);
    placement.record(1, 1, 0.5);
    assert.equal(placement.runsOnJsThread(1, 1), false);
    assert.throws(() => new DecodePlacement(-1), /maxSyncMs must be >= 0/);
  });
});
