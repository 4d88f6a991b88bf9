import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeKvCache } from '../backend/fake-kv-cache.ts';
import { KvCacheManager, type KvCacheConfig } from './kv-cache-manager.ts';
import { RequestState } from './request-state.ts';
import { Scheduler, type SchedulerConfig, type StepPlan } from './scheduler.ts';

/** A request with a prompt of `length` tokens first, first+1, ... */
function request(id: string, length: number, maxTokens = 4, first = 1): RequestState {
  return new RequestState(
    id,
    Array.from({ length }, (_, i) => first + i),
    maxTokens,
  );
}

/**
 * A scheduler over a KV manager and a fake KV cache that applies the manager's operations and
 * the planned tokens the way the engine and llama.cpp do, so tests can check what each sequence
 * really holds.
 */
class Harness {
  readonly kv: KvCacheManager;
  readonly cache: FakeKvCache;
  readonly scheduler: Scheduler;

  constructor(config: SchedulerConfig, kv: Partial<KvCacheConfig> = {}) {
    const kvConfig: KvCacheConfig = {
      blockSize: 4,
      sequences: config.maxNumSeqs,
      sharedCells: false,
      totalCells: 1024 * config.maxNumSeqs,
      cellsPerSequence: 1024,
      prefixCaching: true,
      ...kv,
    };
    this.kv = new KvCacheManager(kvConfig);
    this.cache = new FakeKvCache({
      totalCells: kvConfig.totalCells,
      cellsPerSequence: kvConfig.sharedCells ? kvConfig.totalCells : kvConfig.cellsPerSequence,
      maxSequences: kvConfig.sequences,
      maxBatchTokens: config.maxNumBatchedTokens,
      unified: kvConfig.sharedCells,
    });
    this.scheduler = new Scheduler(config, this.kv);
  }

  /**
   * Schedule, apply the KV operations, and execute the plan, sampling `sampled` where asked.
   * `duringDecode` runs while the decode is in flight (as an abort may): the decode still writes
   * every chunk, a released request takes nothing, and the KV operations it queued wait for the
   * next `applyKv`, as in the engine.
   */
  step(sampled = 7, duringDecode?: () => void): StepPlan {
    const plan = this.scheduler.schedule();
    this.applyKv();
    duringDecode?.();
    for (const chunk of plan.chunks) {
      chunk.tokens.forEach((token, i) =>
        this.cache.append(chunk.sequenceId, chunk.startPosition + i, token),
      );
      if (chunk.request.status !== 'running') continue;
      chunk.request.commitStep(chunk.tokens.length, chunk.samples ? sampled : null);
    }
    this.kv.commitStep();
    return plan;
  }

  /** Every sequence id holds in the cache exactly the tokens the KV manager says. */
  assertCacheMatchesManager(sequences: number): void {
    for (let id = 0; id < sequences; id++) {
      assert.deepEqual(this.cache.tokensOf(id), this.kv.tokensOf(id), `sequence ${id}`);
    }
  }

  applyKv(): void {
    for (const op of this.kv.drainOperations()) {
      if (op.kind === 'copy') this.cache.copy(op.source, op.destination, 0, op.to);
      else assert.ok(this.cache.remove(op.sequenceId, op.from, null));
    }
  }

  /** Release (finished) and apply the KV operations. */
  finish(...requests: RequestState[]): void {
    for (const r of requests) this.scheduler.release(r);
    this.applyKv();
  }

  /** Every running request's sequence holds exactly its computed tokens. */
  assertKvMatches(running: readonly RequestState[]): void {
    for (const r of running) {
      if (r.status !== 'running') continue;
      assert.deepEqual(
        this.cache.tokensOf(r.sequenceId!),
        r.allTokens().slice(0, r.computedTokens),
        `sequence ${r.sequenceId} of ${r.id}`,
      );
    }
  }
}

/** [id, startPosition, token count, samples] per chunk. */
function shape(plan: StepPlan): [string, number, number, boolean][] {
  return plan.chunks.map((c) => [c.request.id, c.startPosition, c.tokens.length, c.samples]);
}

describe('Scheduler', () => {
  it('admits in FIFO order and plans a whole short prompt with a sampling row', () => {
    const h = new Harness({ maxNumSeqs: 4, maxNumBatchedTokens: 64 });
    const a = request('a', 3);
    const b = request('b', 2, 4, 50);
    h.scheduler.add(a);
    h.scheduler.add(b);
    const plan = h.step();
    assert.deepEqual(shape(plan), [
      ['a', 0, 3, true],
      ['b', 0, 2, true],
    ]);
    assert.deepEqual(plan.chunks[0]!.tokens, [1, 2, 3]);
    assert.equal(plan.tokenCount, 5);
    assert.deepEqual([a.sequenceId, b.sequenceId], [0, 1]);
    assert.equal(h.scheduler.runningCount, 2);
    assert.equal(h.scheduler.waitingCount, 0);
  });

  it('decodes one token per running request after prefill, at the next position', () => {
    const h = new Harness({ maxNumSeqs: 4, maxNumBatchedTokens: 64 });
    const a = request('a', 3);
    h.scheduler.add(a);
    h.step(42);
    const plan = h.step();
    assert.deepEqual(shape(plan), [['a', 3, 1, true]]);
    assert.deepEqual(plan.chunks[0]!.tokens, [42]);
    assert.deepEqual(h.cache.tokensOf(0), [1, 2, 3, 42]);
  });

  it('bounds running requests by maxNumSeqs; the rest wait in order', () => {
    const h = new Harness({ maxNumSeqs: 2, maxNumBatchedTokens: 64 });
    const rs = ['a', 'b', 'c', 'd'].map((id, i) => request(id, 2, 4, 10 * i));
    rs.forEach((r) => h.scheduler.add(r));
    assert.deepEqual(
      shape(h.step()).map((c) => c[0]),
      ['a', 'b'],
    );
    assert.equal(h.scheduler.waitingCount, 2);
    assert.equal(rs[2]!.status, 'waiting');
    h.finish(rs[1]!);
    assert.deepEqual(
      h.step().chunks.map((c) => c.request.id),
      ['a', 'c'],
    );
    assert.equal(rs[2]!.sequenceId, 1, "b's sequence id is reused");
  });

  it('splits long prompts into chunks within the token budget (chunked prefill)', () => {
    const h = new Harness({ maxNumSeqs: 4, maxNumBatchedTokens: 8 });
    const a = request('a', 20);
    h.scheduler.add(a);
    const plans = [0, 1, 2].map(() => shape(h.step()));
    assert.deepEqual(plans, [[['a', 0, 8, false]], [['a', 8, 8, false]], [['a', 16, 4, true]]]);
    assert.deepEqual(a.outputTokens, [7]);
  });

  it('gives the budget to decode tokens first, then to prefill chunks in FIFO order', () => {
    const h = new Harness({ maxNumSeqs: 4, maxNumBatchedTokens: 10 });
    const a = request('a', 2);
    h.scheduler.add(a);
    h.step();
    const b = request('b', 6, 4, 20);
    const c = request('c', 6, 4, 40);
    h.scheduler.add(b);
    h.scheduler.add(c);
    let plan = h.step();
    assert.deepEqual(shape(plan), [
      ['a', 2, 1, true],
      ['b', 0, 6, true],
      ['c', 0, 3, false],
    ]);
    assert.equal(plan.tokenCount, 10);
    plan = h.step();
    assert.deepEqual(shape(plan), [
      ['a', 3, 1, true],
      ['b', 6, 1, true],
      ['c', 3, 3, true],
    ]);
  });

  it('keeps a prefilling request running with no tokens when decodes use the whole budget', () => {
    const h = new Harness({ maxNumSeqs: 3, maxNumBatchedTokens: 3 });
    h.scheduler.add(request('a', 1));
    h.scheduler.add(request('b', 1, 4, 30));
    h.step();
    h.scheduler.add(request('c', 5, 4, 60));
    assert.deepEqual(shape(h.step()), [
      ['a', 1, 1, true],
      ['b', 1, 1, true],
      ['c', 0, 1, false],
    ]);
    assert.deepEqual(shape(h.step()), [
      ['a', 2, 1, true],
      ['b', 2, 1, true],
      ['c', 1, 1, false],
    ]);
  });

  it('releases waiting requests without touching sequences, and twice is a no-op', () => {
    const h = new Harness({ maxNumSeqs: 1, maxNumBatchedTokens: 64 });
    const a = request('a', 2);
    const b = request('b', 2, 4, 20);
    const c = request('c', 2, 4, 40);
    [a, b, c].forEach((r) => h.scheduler.add(r));
    h.step();
    h.scheduler.release(b);
    assert.equal(h.scheduler.waitingCount, 1);
    assert.deepEqual(h.kv.drainOperations(), []);
    h.finish(a);
    h.finish(a);
    assert.deepEqual(
      h.step().chunks.map((ch) => ch.request.id),
      ['c'],
    );
  });

  it('plans nothing without work and refuses a budget smaller than maxNumSeqs', () => {
    const h = new Harness({ maxNumSeqs: 2, maxNumBatchedTokens: 8 });
    assert.deepEqual(h.scheduler.schedule(), { chunks: [], tokenCount: 0 });
    assert.throws(
      () => new Scheduler({ maxNumSeqs: 4, maxNumBatchedTokens: 3 }, h.kv),
      /maxNumSeqs/,
    );
  });
});

describe('Scheduler with prefix caching', () => {
  for (const sharedCells of [false, true]) {
    const layout = sharedCells ? 'unified' : 'per-sequence';
    const kv = { sharedCells, sequences: 8, totalCells: 256 };

    it(`starts a request from a finished one's cached prefix (${layout} KV)`, () => {
      const h = new Harness({ maxNumSeqs: 4, maxNumBatchedTokens: 64 }, kv);
      const a = request('a', 10);
      h.scheduler.add(a);
      h.step(99);
      h.finish(a);
      // b shares a's first 10 tokens, then goes on with its own.
      const b = new RequestState('b', [...a.promptTokens, 50, 51], 4);
      h.scheduler.add(b);
      const plan = h.step();
      assert.equal(b.cachedPromptTokens, 10);
      assert.deepEqual(shape(plan), [['b', 10, 2, true]]);
      assert.deepEqual(h.cache.tokensOf(b.sequenceId!), [...a.promptTokens, 50, 51]);
      assert.deepEqual(h.scheduler.counters, {
        prefixCacheQueries: 10 + 12,
        prefixCacheHits: 10,
        preemptions: 0,
      });
    });

    it(`reuses a running request's computed blocks, never its uncomputed ones (${layout} KV)`, () => {
      const h = new Harness({ maxNumSeqs: 4, maxNumBatchedTokens: 12 }, kv);
      const a = request('a', 20);
      h.scheduler.add(a);
      h.step(); // a computed 12 of 20
      // b shares a's first 14 tokens (less than a block beyond what a computed: b does not wait).
      const b = new RequestState('b', [...a.promptTokens.slice(0, 14), 70, 71, 72, 73, 74], 4);
      h.scheduler.add(b);
      // In the same step a computes 12..19 and b is admitted: it may take only a's first 12.
      const plan = h.step();
      assert.equal(b.cachedPromptTokens, 12);
      assert.deepEqual(shape(plan), [
        ['a', 12, 8, true],
        ['b', 12, 4, false],
      ]);
      h.assertKvMatches([a, b]);
      h.step();
      h.assertKvMatches([a, b]);
      assert.deepEqual(h.cache.tokensOf(b.sequenceId!), b.promptTokens);
    });

    it(`lets a request wait for a shared prefix a running request is computing (${layout} KV)`, () => {
      const h = new Harness({ maxNumSeqs: 4, maxNumBatchedTokens: 16 }, kv);
      const system = Array.from({ length: 30 }, (_, i) => 100 + i);
      const a = new RequestState('a', [...system, 1, 2], 4);
      const b = new RequestState('b', [...system, 3, 4], 4);
      const c = new RequestState('c', [7, 8, 9], 4); // behind b: never overtakes it
      [a, b, c].forEach((r) => h.scheduler.add(r));
      assert.deepEqual(shape(h.step()), [['a', 0, 16, false]]);
      assert.equal(b.status, 'waiting');
      assert.deepEqual(shape(h.step()), [['a', 16, 16, true]]);
      // a computed all 30 shared tokens: b copies them and computes its own 2.
      assert.deepEqual(shape(h.step()), [
        ['a', 32, 1, true],
        ['b', 30, 2, true],
        ['c', 0, 3, true],
      ]);
      assert.equal(b.cachedPromptTokens, 30);
      h.assertKvMatches([a, b, c]);
    });

    it(`computes the whole prompt when caching is off or the request reports prompt logprobs (${layout} KV)`, () => {
      for (const [caching, reads] of [
        [false, true],
        [true, false],
      ] as const) {
        const h = new Harness(
          { maxNumSeqs: 4, maxNumBatchedTokens: 64 },
          { ...kv, prefixCaching: caching },
        );
        const a = request('a', 10);
        h.scheduler.add(a);
        h.step();
        h.finish(a);
        const b = request('b', 10);
        b.readsCache = reads;
        h.scheduler.add(b);
        assert.deepEqual(shape(h.step()), [['b', 0, 10, true]]);
        assert.equal(b.cachedPromptTokens, 0);
      }
    });
  }
});

describe('Scheduler preemption (unified KV)', () => {
  /** A pool of `blocks` blocks of 4 cells. */
  function pool(blocks: number, policy: 'fcfs' | 'priority' = 'fcfs') {
    return new Harness(
      { maxNumSeqs: 4, maxNumBatchedTokens: 64, schedulingPolicy: policy },
      { sharedCells: true, sequences: 8, totalCells: 4 * blocks },
    );
  }

  it('preempts the newest running request when a decode finds no block, and admits nobody that step', () => {
    const h = pool(4);
    const a = request('a', 8, 8);
    const b = request('b', 8, 8, 100);
    h.scheduler.add(a);
    h.scheduler.add(b);
    h.step(); // 2 blocks each: the pool is full
    const c = request('c', 2, 4, 200);
    h.scheduler.add(c);
    const plan = h.step();
    // a needs a third block at position 8: b (newest) is preempted, c is not admitted.
    assert.deepEqual(shape(plan), [['a', 8, 1, true]]);
    assert.equal(b.status, 'waiting');
    assert.equal(b.preemptions, 1);
    assert.equal(c.status, 'waiting');
    assert.deepEqual(h.scheduler.takePreempted(), [b]);
    assert.equal(h.scheduler.counters.preemptions, 1);
    h.assertKvMatches([a]);
  });

  it('resumes a preempted request where it stopped: its prompt and output recomputed or found cached', () => {
    const h = pool(6);
    const a = request('a', 8, 16);
    const b = request('b', 8, 16, 100);
    h.scheduler.add(a);
    h.scheduler.add(b);
    let outputs = 0;
    while (b.preemptions === 0) {
      h.step(60 + outputs++);
      h.assertKvMatches([a, b]);
    }
    const before = b.outputTokens.length;
    assert.ok(before > 0);
    h.finish(a);
    const plan = h.step(90);
    // b starts again on a sequence holding its cached tokens (or recomputes them) and samples.
    const chunk = plan.chunks.find((c) => c.request === b)!;
    assert.equal(chunk.startPosition + chunk.tokens.length, 8 + before);
    assert.ok(chunk.samples);
    assert.equal(b.outputTokens.length, before + 1);
    h.assertKvMatches([b]);
  });

  it('under the priority policy preempts the lowest priority (then latest arrival)', () => {
    const h = pool(4, 'priority');
    const urgent = request('urgent', 8, 8);
    urgent.priority = -1;
    const low = request('low', 4, 8, 100);
    low.priority = 5;
    const mid = request('mid', 4, 8, 200);
    mid.priority = 1;
    [low, urgent, mid].forEach((r) => h.scheduler.add(r));
    h.step(); // urgent 2 blocks, mid 1, low 1: the pool is full
    assert.deepEqual(
      [urgent, mid, low].map((r) => r.status),
      ['running', 'running', 'running'],
    );
    h.step(); // every request needs a new block: low goes first, then mid if still short
    assert.equal(low.status, 'waiting');
    assert.equal(urgent.status, 'running');
    assert.ok(h.scheduler.counters.preemptions >= 1);
  });
});

/** A seeded generator (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Scheduler randomized', () => {
  for (const sharedCells of [true, false]) {
    for (const seed of [1, 2, 3]) {
      it(`keeps every invariant over random add/step/abort/finish (${sharedCells ? 'unified' : 'per-sequence'} KV, seed ${seed})`, () => {
        const next = random(seed);
        const pick = (n: number) => Math.floor(next() * n);
        const config = {
          maxNumSeqs: 4,
          maxNumBatchedTokens: 12,
          schedulingPolicy: seed === 2 ? ('priority' as const) : ('fcfs' as const),
        };
        const h = new Harness(config, {
          blockSize: 4,
          sharedCells,
          sequences: sharedCells ? 12 : 4,
          totalCells: sharedCells ? 48 : 4 * 40,
          cellsPerSequence: 40,
        });
        const prefixes = [0, 1, 2].map((p) => Array.from({ length: 12 }, (_, i) => 100 * p + i));
        const live = new Set<RequestState>();
        let finished = 0;
        for (let i = 0; i < 600; i++) {
          const action = next();
          if (action < 0.25 && live.size < 10) {
            const prompt = [
              ...prefixes[pick(3)]!.slice(0, 1 + pick(12)),
              ...Array.from({ length: pick(6) }, () => 200 + pick(20)),
            ];
            const r = new RequestState(`r${i}`, prompt, 1 + pick(12));
            r.priority = pick(3);
            r.readsCache = next() > 0.1;
            live.add(r);
            h.scheduler.add(r);
          } else if (action < 0.32 && live.size > 0) {
            const r = [...live][pick(live.size)]!;
            h.scheduler.release(r); // an abort, possibly while queued
            live.delete(r);
          } else {
            // Sometimes a request is aborted while the step's decode is in flight.
            const abortDuring =
              next() < 0.15 && live.size > 0 ? [...live][pick(live.size)]! : undefined;
            const plan = h.step(300 + pick(50), () => {
              if (abortDuring === undefined) return;
              h.scheduler.release(abortDuring);
              live.delete(abortDuring);
            });
            assert.ok(plan.tokenCount <= config.maxNumBatchedTokens, 'token budget');
            assert.ok(plan.chunks.length <= config.maxNumSeqs, 'maxNumSeqs');
            const ids = plan.chunks.map((c) => c.sequenceId);
            assert.equal(new Set(ids).size, ids.length, 'one chunk per sequence');
            for (const state of h.scheduler.takePreempted())
              assert.notEqual(state.status, 'running');
            for (const r of [...live]) {
              if (r.outputTokens.length >= r.maxTokens) {
                h.scheduler.release(r);
                live.delete(r);
                finished++;
              }
            }
          }
          h.applyKv();
          h.kv.checkInvariants();
          h.assertCacheMatchesManager(sharedCells ? 12 : 4);
          const running = [...live].filter((r) => r.status === 'running');
          const sequences = running.map((r) => r.sequenceId);
          assert.equal(new Set(sequences).size, sequences.length, 'no sequence runs twice');
          assert.equal(h.kv.usage().runningSequences, running.length);
          h.assertKvMatches(running);
          if (sharedCells) assert.ok(h.cache.usedCells() <= 48, 'the pool never overflows');
        }
        assert.ok(finished > 20, `${finished} requests finished`);
        if (sharedCells) assert.ok(h.scheduler.counters.preemptions > 0, 'preemption exercised');
        assert.ok(h.scheduler.counters.prefixCacheHits > 0, 'prefix reuse exercised');
        for (const r of live) h.scheduler.release(r);
        h.kv.dropCached();
        h.applyKv();
        assert.equal(h.cache.usedCells(), 0, 'no cell leaked');
        assert.equal(h.kv.usage().usedBlocks, 0, 'no block leaked');
      });
    }
  }
});

describe('Scheduler with a prefill limiter', () => {
  it('caps the long prompts of a step with decode rows, not of one without', () => {
    const asked: number[] = [];
    const limiter = {
      limit: (decodeRows: number) => {
        asked.push(decodeRows);
        return decodeRows === 0 ? Infinity : 5;
      },
      isLongPrompt: (tokens: number) => tokens > 25,
    };
    const kv = new KvCacheManager({
      blockSize: 4,
      sequences: 4,
      sharedCells: false,
      totalCells: 4096,
      cellsPerSequence: 1024,
      prefixCaching: true,
    });
    const scheduler = new Scheduler({ maxNumSeqs: 4, maxNumBatchedTokens: 64 }, kv, limiter);
    const run = (plan: StepPlan) => {
      for (const c of plan.chunks) c.request.commitStep(c.tokens.length, c.samples ? 7 : null);
      kv.commitStep();
    };
    const a = request('a', 20, 50);
    scheduler.add(a);
    let plan = scheduler.schedule();
    assert.deepEqual(shape(plan), [['a', 0, 20, true]], 'nothing decodes: the whole prompt');
    run(plan);
    const b = request('b', 30, 50, 100);
    const c = request('c', 30, 50, 200);
    const d = request('d', 10, 50, 300);
    scheduler.add(b);
    scheduler.add(c);
    plan = scheduler.schedule();
    // a decodes, so the long prompts b and c share 5 prompt tokens.
    assert.deepEqual(shape(plan), [
      ['a', 20, 1, true],
      ['b', 0, 5, false],
    ]);
    run(plan);
    scheduler.add(d);
    plan = scheduler.schedule();
    // b goes on within the bound (to its last token, though only 25 are left: it is being
    // spread); c waits behind it in the queue; d, short, would go whole but waits behind c.
    assert.deepEqual(shape(plan), [
      ['a', 21, 1, true],
      ['b', 5, 5, false],
    ]);
    assert.deepEqual(asked, [0, 1, 1]);
  });
});
