import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvLayout } from '../backend/model-backend.ts';
import { CellReservationAdmission, kvAdmissionFor, SequenceSlotAdmission } from './kv-admission.ts';
import { RequestState } from './request-state.ts';
import { SequencePool } from './sequence-pool.ts';

const layout: KvLayout = {
  totalCells: 4096,
  cellsPerSequence: 4096,
  maxSequences: 16,
  maxBatchTokens: 512,
  unified: true,
};

describe('KV admission and the sequence pool', () => {
  it('picks per-layout admission', () => {
    assert.ok(kvAdmissionFor(layout) instanceof CellReservationAdmission);
    assert.ok(kvAdmissionFor({ ...layout, unified: false }) instanceof SequenceSlotAdmission);
  });

  it('reserves prompt + maxTokens and refuses double bookkeeping', () => {
    const a = new CellReservationAdmission(10);
    const r = new RequestState('r', [1, 2, 3], 4);
    a.admit(0, r);
    assert.equal(a.reservedCells, 7);
    assert.equal(a.canAdmit(new RequestState('s', [1], 2)), true);
    assert.equal(a.canAdmit(new RequestState('t', [1], 3)), false);
    assert.throws(() => a.admit(0, r), /already holds/);
    assert.throws(() => a.admit(1, new RequestState('t', [1], 3)), /does not fit/);
    a.free(0);
    assert.equal(a.reservedCells, 0);
    assert.throws(() => a.free(0), /no reservation/);
  });

  it('hands out the lowest free id and catches double frees', () => {
    const pool = new SequencePool(3);
    assert.deepEqual(
      [pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()],
      [0, 1, 2, null],
    );
    pool.release(1);
    pool.release(0);
    assert.equal(pool.freeCount, 2);
    assert.equal(pool.acquire(), 0);
    assert.throws(() => pool.release(1), /already free/);
    assert.throws(() => pool.release(3), RangeError);
    assert.equal(pool.inUseCount, 2);
  });
});
