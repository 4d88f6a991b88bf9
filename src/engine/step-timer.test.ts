import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StepTimer } from './step-timer.ts';

/** Busy-wait so the sample is at least `ms` of host time. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('StepTimer', () => {
  it('times host work between a return and the next dispatch, not the first dispatch', () => {
    const timer = new StepTimer();
    timer.loopStarted();
    timer.dispatched(4, 4); // no predecessor: not a sample
    timer.returned(10);
    spin(3);
    timer.dispatched(2, 2);
    timer.returned(10);
    spin(1);
    timer.dispatched(6, 6);
    const summary = timer.drain();
    assert.equal(summary.steps, 2);
    assert.equal(summary.meanRows, 4);
    assert.equal(summary.kernelMsP50, 10, 'the backend-reported time of the timed steps');
    // Wall-clock samples: a busy machine only makes them longer, so only lower bounds hold.
    assert.ok(summary.hostMsP50 >= 1, `p50 ${summary.hostMsP50}`);
    assert.ok(summary.hostMsP99 >= 3, `p99 ${summary.hostMsP99}`);
    // The busy-waits ran on the event loop: at least 4 ms of activity over 3 dispatches.
    assert.ok(summary.loopActiveMsPerStep >= 4 / 3, `active ${summary.loopActiveMsPerStep}`);
  });

  it('forgets the predecessor when the loop restarts, and keeps only the latest samples', () => {
    const timer = new StepTimer(4);
    timer.loopStarted();
    timer.dispatched(1, 1);
    for (let i = 0; i < 10; i++) {
      timer.returned(10);
      timer.dispatched(i, i);
    }
    timer.returned(10);
    timer.loopStarted();
    timer.dispatched(100, 100); // after a restart: not a sample
    const summary = timer.drain();
    assert.equal(summary.steps, 4);
    assert.equal(summary.meanRows, (6 + 7 + 8 + 9) / 4, 'the four latest samples');
    assert.equal(timer.drain().steps, 0);
  });

  it('rates decode-only steps by their dispatch-to-dispatch time, leaving prefill steps out', () => {
    let clock = 0;
    const timer = new StepTimer(16, () => clock);
    timer.loopStarted();
    timer.dispatched(4, 4); // decode-only: 4 rows over the 10 ms until the next dispatch
    clock += 10;
    timer.returned(9);
    timer.dispatched(5, 36); // a prefill of 32 tokens joins: its 40 ms are not decode
    clock += 40;
    timer.returned(39);
    timer.dispatched(5, 5); // decode-only: 5 rows over 10 ms
    clock += 10;
    timer.returned(9);
    timer.dispatched(5, 5); // its period ends after the drain: counted in the next window
    assert.equal(timer.drain().decodeOnlyTokensPerS, (1000 * (4 + 5)) / 20);
    clock += 5;
    timer.returned(null); // a failed decode: its time is no decode
    clock += 100;
    timer.dispatched(5, 5);
    clock += 8;
    timer.returned(7);
    timer.loopStarted(); // the loop idled: the gap before the restart is no decode
    clock += 1000;
    timer.dispatched(5, 5);
    clock += 10;
    timer.returned(9);
    timer.dispatched(5, 5);
    assert.equal(timer.drain().decodeOnlyTokensPerS, (1000 * 5) / 10);
    assert.equal(timer.drain().decodeOnlyTokensPerS, 0, 'no decode-only period ended');
  });
});
