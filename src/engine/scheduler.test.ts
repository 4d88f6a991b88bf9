import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CellReservationAdmission, SequenceSlotAdmission } from './kv-admission.ts';
import { RequestState } from './request-state.ts';
import { Scheduler, type StepPlan } from './scheduler.ts';

/** A request with a prompt of `length` tokens 1..length (or 100+ offset for distinct content). */
function request(id: string, length: number, maxTokens = 4): RequestState {
  return new RequestState(
    id,
    Array.from({ length }, (_, i) => i + 1),
    maxTokens,
  );
}

function perSequence(maxNumSeqs: number, maxNumBatchedTokens: number): Scheduler {
  return new Scheduler({ maxNumSeqs, maxNumBatchedTokens }, new SequenceSlotAdmission());
}

/** [id, startPosition, token count, samples] per chunk. */
function shape(plan: StepPlan): [string, number, number, boolean][] {
  return plan.chunks.map((c) => [c.request.id, c.startPosition, c.tokens.length, c.samples]);
}

/** Commit a plan as a backend would have executed it, sampling token 7 where asked. */
function execute(plan: StepPlan, sampled = 7): void {
  for (const chunk of plan.chunks) {
    chunk.request.commitStep(chunk.tokens.length, chunk.samples ? sampled : null);
  }
}

/** Release and free (as the engine does after a step) every request in `requests`. */
function finish(scheduler: Scheduler, ...requests: RequestState[]): void {
  for (const r of requests) scheduler.release(r);
  for (const id of scheduler.sequencesToFree()) scheduler.sequenceFreed(id);
}

describe('Scheduler', () => {
  it('admits in FIFO order and plans a whole short prompt with a sampling row', () => {
    const s = perSequence(4, 64);
    const a = request('a', 3);
    const b = request('b', 2);
    s.add(a);
    s.add(b);
    const plan = s.schedule();
    assert.deepEqual(shape(plan), [
      ['a', 0, 3, true],
      ['b', 0, 2, true],
    ]);
    assert.deepEqual(plan.chunks[0]!.tokens, [1, 2, 3]);
    assert.equal(plan.tokenCount, 5);
    assert.deepEqual([a.sequenceId, b.sequenceId], [0, 1]);
    assert.equal(s.runningCount, 2);
    assert.equal(s.waitingCount, 0);
  });

  it('decodes one token per running request after prefill, at the next position', () => {
    const s = perSequence(4, 64);
    const a = request('a', 3);
    s.add(a);
    execute(s.schedule(), 42);
    const plan = s.schedule();
    assert.deepEqual(shape(plan), [['a', 3, 1, true]]);
    assert.deepEqual(plan.chunks[0]!.tokens, [42]);
    assert.equal(s.cellsHeld, 3);
  });

  it('bounds running requests by maxNumSeqs; the rest wait in order', () => {
    const s = perSequence(2, 64);
    const rs = ['a', 'b', 'c', 'd'].map((id) => request(id, 2));
    rs.forEach((r) => s.add(r));
    assert.deepEqual(
      shape(s.schedule()).map((c) => c[0]),
      ['a', 'b'],
    );
    assert.equal(s.waitingCount, 2);
    assert.equal(rs[2]!.status, 'waiting');
    finish(s, rs[1]!);
    assert.deepEqual(
      s.schedule().chunks.map((c) => c.request.id),
      ['a', 'c'],
    );
    assert.equal(rs[2]!.sequenceId, 1, 'the freed sequence id is reused');
  });

  it('splits long prompts into chunks within the token budget (chunked prefill)', () => {
    const s = perSequence(4, 8);
    const a = request('a', 20);
    s.add(a);
    const plans: [string, number, number, boolean][][] = [];
    for (let i = 0; i < 3; i++) {
      const plan = s.schedule();
      plans.push(shape(plan));
      execute(plan);
    }
    assert.deepEqual(plans, [[['a', 0, 8, false]], [['a', 8, 8, false]], [['a', 16, 4, true]]]);
    assert.deepEqual(a.outputTokens, [7]);
  });

  it('puts decode tokens first, then prefill chunks in FIFO order, within the budget', () => {
    const s = perSequence(4, 10);
    const a = request('a', 2);
    s.add(a);
    execute(s.schedule());
    const b = request('b', 6);
    const c = request('c', 6);
    s.add(b);
    s.add(c);
    // a decodes 1; b gets its whole 6; c gets the remaining 3.
    let plan = s.schedule();
    assert.deepEqual(shape(plan), [
      ['a', 2, 1, true],
      ['b', 0, 6, true],
      ['c', 0, 3, false],
    ]);
    assert.equal(plan.tokenCount, 10);
    execute(plan);
    // a and b decode first even though c arrived before b started decoding; c finishes its prompt.
    plan = s.schedule();
    assert.deepEqual(shape(plan), [
      ['a', 3, 1, true],
      ['b', 6, 1, true],
      ['c', 3, 3, true],
    ]);
  });

  it('keeps a prefilling request running with no tokens when decodes use the whole budget', () => {
    const s = perSequence(3, 3);
    const a = request('a', 1);
    const b = request('b', 1);
    s.add(a);
    s.add(b);
    execute(s.schedule());
    const c = request('c', 5);
    s.add(c);
    let plan = s.schedule();
    assert.deepEqual(shape(plan), [
      ['a', 1, 1, true],
      ['b', 1, 1, true],
      ['c', 0, 1, false],
    ]);
    execute(plan);
    plan = s.schedule();
    assert.deepEqual(shape(plan), [
      ['a', 2, 1, true],
      ['b', 2, 1, true],
      ['c', 1, 1, false],
    ]);
  });

  it('does not admit when the budget is spent, and never lets a later request overtake the head', () => {
    const s = new Scheduler(
      { maxNumSeqs: 4, maxNumBatchedTokens: 8 },
      new CellReservationAdmission(20),
    );
    const a = request('a', 8, 4); // reserves 12
    const big = request('big', 6, 4); // reserves 10: does not fit next to a
    const small = request('small', 1, 1); // would fit, but waits behind big
    s.add(a);
    s.add(big);
    s.add(small);
    let plan = s.schedule();
    assert.deepEqual(shape(plan), [['a', 0, 8, true]]);
    execute(plan);
    plan = s.schedule();
    assert.deepEqual(shape(plan), [['a', 8, 1, true]]);
    assert.equal(s.waitingCount, 2);
    finish(s, a);
    plan = s.schedule();
    assert.deepEqual(shape(plan), [
      ['big', 0, 6, true],
      ['small', 0, 1, true],
    ]);
  });

  it('admits by unified KV reservations of prompt + maxTokens', () => {
    const admission = new CellReservationAdmission(30);
    const s = new Scheduler({ maxNumSeqs: 8, maxNumBatchedTokens: 64 }, admission);
    const rs = [request('a', 5, 5), request('b', 5, 5), request('c', 5, 5), request('d', 5, 6)];
    rs.forEach((r) => s.add(r));
    assert.deepEqual(
      s.schedule().chunks.map((c) => c.request.id),
      ['a', 'b', 'c'],
    );
    assert.equal(admission.reservedCells, 30);
    // Releasing is not enough: the reservation returns only once the KV cells are freed.
    s.release(rs[0]!);
    assert.equal(s.schedule().chunks.length, 2);
    assert.equal(s.waitingCount, 1);
    s.sequenceFreed(0);
    assert.equal(admission.reservedCells, 20);
    assert.deepEqual(
      s.schedule().chunks.map((c) => c.request.id),
      ['b', 'c'],
      'd needs 11 cells, only 10 are free',
    );
    finish(s, rs[1]!);
    assert.deepEqual(
      s.schedule().chunks.map((c) => c.request.id),
      ['c', 'd'],
    );
  });

  it('per-sequence KV admits on a free sequence id alone', () => {
    const s = perSequence(3, 100);
    const rs = [request('a', 30, 60), request('b', 30, 60), request('c', 30, 60), request('d', 1)];
    rs.forEach((r) => s.add(r));
    assert.equal(s.schedule().chunks.length, 3);
    assert.equal(s.waitingCount, 1);
  });

  it('frees sequences only through sequencesToFree/sequenceFreed, and counts their cells until then', () => {
    const s = perSequence(2, 64);
    const a = request('a', 4);
    const b = request('b', 3);
    s.add(a);
    s.add(b);
    execute(s.schedule());
    assert.equal(s.cellsHeld, 7);
    s.release(a);
    assert.equal(a.status, 'finished');
    assert.equal(s.runningCount, 1);
    assert.deepEqual(s.sequencesToFree(), [0]);
    assert.equal(s.cellsHeld, 7, 'a still holds its cells until they are removed');
    assert.equal(s.freeSequences, 0);
    s.sequenceFreed(0);
    assert.equal(s.cellsHeld, 3);
    assert.equal(s.freeSequences, 1);
    assert.throws(() => s.sequenceFreed(0), /not awaiting cleanup/);
    s.release(a); // releasing twice is a no-op
    assert.deepEqual(s.sequencesToFree(), []);
  });

  it('releases waiting requests without touching sequences', () => {
    const s = perSequence(1, 64);
    const a = request('a', 2);
    const b = request('b', 2);
    const c = request('c', 2);
    [a, b, c].forEach((r) => s.add(r));
    s.schedule();
    s.release(b);
    assert.equal(s.waitingCount, 1);
    assert.deepEqual(s.sequencesToFree(), []);
    finish(s, a);
    assert.deepEqual(
      s.schedule().chunks.map((ch) => ch.request.id),
      ['c'],
    );
  });

  it('never leaks a sequence id over many admissions and releases', () => {
    const s = perSequence(3, 6);
    const live: RequestState[] = [];
    for (let i = 0; i < 200; i++) {
      s.add(request(`r${i}`, 1 + (i % 5), 1 + (i % 3)));
      const plan = s.schedule();
      assert.ok(plan.tokenCount <= 6);
      assert.ok(new Set(plan.chunks.map((c) => c.sequenceId)).size === plan.chunks.length);
      for (const c of plan.chunks) if (!live.includes(c.request)) live.push(c.request);
      execute(plan);
      for (const r of [...live]) {
        if (r.outputTokens.length >= r.maxTokens || (i + r.promptTokens.length) % 4 === 0) {
          s.release(r);
          live.splice(live.indexOf(r), 1);
        }
      }
      for (const id of s.sequencesToFree()) s.sequenceFreed(id);
      assert.equal(s.freeSequences + s.runningCount, 3);
    }
    for (const r of live) s.release(r);
    for (let i = s.waitingCount; i > 0; i--) {
      const plan = s.schedule();
      plan.chunks.forEach((c) => s.release(c.request));
      for (const id of s.sequencesToFree()) s.sequenceFreed(id);
    }
    assert.equal(s.freeSequences, 3);
    assert.equal(s.cellsHeld, 0);
    assert.equal(s.hasWork, false);
  });

  it('plans nothing without work and refuses a budget smaller than maxNumSeqs', () => {
    const s = perSequence(2, 8);
    assert.deepEqual(s.schedule(), { chunks: [], tokenCount: 0 });
    assert.throws(
      () => new Scheduler({ maxNumSeqs: 4, maxNumBatchedTokens: 3 }, new SequenceSlotAdmission()),
      /maxNumSeqs/,
    );
  });
});
