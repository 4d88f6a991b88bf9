import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestState } from './request-state.ts';

describe('RequestState', () => {
  it('tracks computed tokens, feeds prompt then output tokens, and enforces sampling at the end', () => {
    const r = new RequestState('r', [10, 11, 12], 3);
    assert.equal(r.isPrefilling, true);
    assert.deepEqual(r.nextTokens(2), [10, 11]);
    assert.throws(() => r.commitStep(2, 5), /only a step that reaches the last token may sample/);
    r.commitStep(2, null);
    assert.throws(() => r.commitStep(1, null), /must sample/);
    r.commitStep(1, 20);
    assert.equal(r.isPrefilling, false);
    assert.deepEqual(r.nextTokens(1), [20]);
    assert.throws(() => r.nextTokens(2), /count must be in \[1, 1\]/);
    r.commitStep(1, 21);
    assert.deepEqual(r.outputTokens, [20, 21]);
    assert.equal(r.computedTokens, 4);
    assert.equal(r.totalTokens, 5);
    assert.equal(r.maxCells, 6);
  });

  it('refuses an empty prompt and maxTokens < 1', () => {
    assert.throws(() => new RequestState('r', [], 1), RangeError);
    assert.throws(() => new RequestState('r', [1], 0), RangeError);
  });
});
