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
    timer.dispatched(4); // no predecessor: not a sample
    timer.returned(10);
    spin(3);
    timer.dispatched(2);
    timer.returned(10);
    spin(1);
    timer.dispatched(6);
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
    timer.dispatched(1);
    for (let i = 0; i < 10; i++) {
      timer.returned(10);
      timer.dispatched(i);
    }
    timer.returned(10);
    timer.loopStarted();
    timer.dispatched(100); // after a restart: not a sample
    const summary = timer.drain();
    assert.equal(summary.steps, 4);
    assert.equal(summary.meanRows, (6 + 7 + 8 + 9) / 4, 'the four latest samples');
    assert.equal(timer.drain().steps, 0);
  });
});
