import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeKvCache } from '../backend/fake-kv-cache.ts';
import type { KvLayout } from '../backend/model-backend.ts';
import { BlockPool } from './block-pool.ts';
import {
  KvCacheManager,
  type KvCacheConfig,
  type KvOperation,
  type PrefixMatch,
} from './kv-cache-manager.ts';
import { blockKey, blockKeys, ROOT_KEY } from './prefix-hash.ts';

// ---- helpers ----

/** Tokens from..to, both included. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function config(overrides: Partial<KvCacheConfig> = {}): KvCacheConfig {
  return {
    blockSize: 4,
    sequences: 4,
    sharedCells: true,
    totalCells: 64,
    cellsPerSequence: 32,
    prefixCaching: true,
    ...overrides,
  };
}

/** The backend layout that matches a manager configuration. */
function layoutOf(c: KvCacheConfig): KvLayout {
  return c.sharedCells
    ? {
        totalCells: c.totalCells,
        cellsPerSequence: c.totalCells,
        maxSequences: c.sequences,
        maxBatchTokens: 1 << 20,
        unified: true,
      }
    : {
        totalCells: c.cellsPerSequence * c.sequences,
        cellsPerSequence: c.cellsPerSequence,
        maxSequences: c.sequences,
        maxBatchTokens: 1 << 20,
        unified: false,
      };
}

function longestCommonPrefix(a: readonly number[], b: readonly number[], limit: number): number {
  const end = Math.min(a.length, b.length, limit);
  let i = 0;
  while (i < end && a[i] === b[i]) i++;
  return i;
}

/**
 * A manager and a fake llama.cpp KV cache driven together the way the engine drives them: the
 * manager's operations are applied to the cache in order, and each step's appended tokens are
 * written into the cache by a simulated decode (at the position the cache expects, like
 * FakeBackend), then committed.
 */
class Harness {
  readonly config: KvCacheConfig;
  readonly m: KvCacheManager;
  readonly kv: FakeKvCache;
  /** Chunks scheduled for the next decode: sequence id -> start position and tokens. */
  readonly chunks = new Map<number, { start: number; tokens: readonly number[] }>();

  constructor(c: KvCacheConfig) {
    this.config = c;
    this.m = new KvCacheManager(c);
    this.kv = new FakeKvCache(layoutOf(c));
  }

  /** Apply the queued operations to the fake cache, in order; returns them. */
  apply(): KvOperation[] {
    const operations = this.m.drainOperations();
    for (const op of operations) {
      if (op.kind === 'remove') {
        assert.equal(this.kv.remove(op.sequenceId, op.from, null), true);
      } else {
        this.kv.copy(op.source, op.destination, 0, op.to);
      }
    }
    return operations;
  }

  /** grow + append (what the scheduler does for one chunk); false when grow fails. */
  schedule(id: number, tokens: readonly number[]): boolean {
    assert.equal(this.chunks.has(id), false, `sequence ${id} is scheduled twice in one step`);
    const start = this.m.tokensOf(id).length;
    if (!this.m.grow(id, start + tokens.length)) return false;
    this.m.append(id, tokens);
    this.chunks.set(id, { start, tokens: [...tokens] });
    return true;
  }

  /** The decode: write every scheduled chunk into the fake cache, as llama.cpp would. */
  decode(): void {
    let pendingTotal = 0;
    for (const [id, chunk] of this.chunks) {
      assert.equal(
        this.kv.nextPosition(id),
        chunk.start,
        `sequence ${id}: the cache continues at ${this.kv.nextPosition(id)}, the chunk starts at ${chunk.start}`,
      );
      assert.ok(
        this.kv.fits(id, chunk.tokens.length, pendingTotal, 0),
        `sequence ${id}: no KV room for ${chunk.tokens.length} tokens`,
      );
      pendingTotal += chunk.tokens.length;
    }
    for (const [id, chunk] of this.chunks) {
      chunk.tokens.forEach((token, i) => this.kv.append(id, chunk.start + i, token));
    }
    this.chunks.clear();
  }

  /** One whole step after scheduling: apply, decode, commit, verify. */
  step(): void {
    this.apply();
    this.decode();
    this.apply();
    this.m.commitStep();
    this.verify();
  }

  /** Compute `tokens` next in running sequence `id` in one step. */
  compute(id: number, tokens: readonly number[]): void {
    assert.equal(this.schedule(id, tokens), true, `grow of sequence ${id} failed`);
    this.step();
  }

  /** A fresh (no cache read) request that computes `tokens` and leaves; returns its id. */
  request(tokens: readonly number[], keep = true): number {
    const started = this.m.start(tokens, tokens.length, false);
    assert.ok(started !== null, 'no sequence for the request');
    assert.equal(started.cachedTokens, 0);
    this.apply();
    this.compute(started.sequenceId, tokens);
    this.m.release(started.sequenceId, keep);
    this.apply();
    this.verify();
    return started.sequenceId;
  }

  /** The tokens of `id` whose step returned (what lookups may see). */
  confirmedTokens(id: number): readonly number[] {
    const tokens = this.m.tokensOf(id);
    const chunk = this.chunks.get(id);
    return chunk === undefined ? tokens : tokens.slice(0, chunk.start);
  }

  /**
   * The manager is consistent, and the fake cache holds what the manager says (all operations
   * applied, no decode in flight): each sequence's cells are its tokens (less a chunk scheduled
   * but not decoded yet), free sequences hold nothing, and the memory stays within bounds.
   */
  verify(): void {
    const m = this.m;
    const c = this.config;
    m.checkInvariants();
    assert.deepEqual(m.drainOperations(), [], 'operations left unapplied');
    let running = 0;
    let cached = 0;
    let streamBlocks = 0;
    for (let id = 0; id < c.sequences; id++) {
      const use = m.useOf(id);
      const tokens = m.tokensOf(id);
      const chunk = this.chunks.get(id);
      if (chunk !== undefined) {
        assert.equal(use, 'running', `sequence ${id} has a chunk but is ${use}`);
        assert.equal(tokens.length, chunk.start + chunk.tokens.length);
      }
      const inCache = this.kv.tokensOf(id);
      assert.deepEqual(
        inCache,
        [...this.confirmedTokens(id)],
        `sequence ${id} (${use}): the KV cache holds other tokens than the manager says`,
      );
      const positions = this.kv.positions(id);
      if (positions !== null) {
        assert.equal(positions.min, 0, `sequence ${id} does not start at position 0`);
        assert.equal(positions.max + 1, inCache.length, `sequence ${id} has a hole`);
      }
      if (use === 'free') {
        assert.equal(tokens.length, 0);
        assert.equal(this.kv.sequenceLength(id), 0, `free sequence ${id} holds cells`);
      } else {
        streamBlocks += Math.ceil(tokens.length / c.blockSize);
        if (use === 'running') running++;
        else cached++;
      }
      if (!c.sharedCells) {
        assert.ok(this.kv.sequenceLength(id) <= c.cellsPerSequence, `stream ${id} overflows`);
      }
    }
    const usage = m.usage();
    assert.equal(usage.runningSequences, running);
    assert.equal(usage.cachedSequences, cached);
    assert.ok(usage.runningBlocks <= usage.usedBlocks, 'more running blocks than used ones');
    if (c.sharedCells) {
      assert.ok(usage.usedBlocks <= usage.capacityBlocks, 'more used blocks than the pool');
      // Every cell llama.cpp uses lies in a block the manager charged.
      assert.ok(
        this.kv.usedCells() <= usage.usedBlocks * c.blockSize,
        `${this.kv.usedCells()} cells in use, ${usage.usedBlocks} blocks charged`,
      );
      assert.ok(this.kv.usedCells() <= c.totalCells, 'the KV cache overflows');
    } else {
      assert.equal(usage.usedBlocks, streamBlocks);
    }
  }

  /** Release everything, drop the cache: nothing may be left anywhere. */
  drainAll(): void {
    for (let id = 0; id < this.config.sequences; id++) {
      if (this.m.useOf(id) === 'running') this.m.release(id, false);
    }
    this.chunks.clear();
    this.m.dropCached();
    this.apply();
    this.verify();
    assert.equal(this.kv.usedCells(), 0, 'cells leaked');
    const usage = this.m.usage();
    assert.deepEqual(
      [usage.usedBlocks, usage.runningBlocks, usage.runningSequences, usage.cachedSequences],
      [0, 0, 0, 0],
    );
    for (let id = 0; id < this.config.sequences; id++) assert.equal(this.m.useOf(id), 'free');
  }
}

const LAYOUTS = [
  { name: 'unified', sharedCells: true },
  { name: 'per-sequence', sharedCells: false },
] as const;

// ---- BlockPool and prefix-hash ----

describe('BlockPool', () => {
  it('allocates the lowest free block first and reuses the last freed one', () => {
    const pool = new BlockPool(3);
    assert.deepEqual([pool.freeCount, pool.usedCount], [3, 0]);
    assert.deepEqual([pool.allocate(), pool.allocate(), pool.allocate()], [0, 1, 2]);
    assert.equal(pool.allocate(), null);
    assert.deepEqual([pool.freeCount, pool.usedCount], [0, 3]);
    assert.equal(pool.release(1), true);
    assert.equal(pool.references(1), 0);
    assert.equal(pool.allocate(), 1);
  });

  it('counts references: a retained block is freed by its last release only', () => {
    const pool = new BlockPool(2);
    const block = pool.allocate()!;
    pool.retain(block);
    pool.retain(block);
    assert.equal(pool.references(block), 3);
    assert.equal(pool.release(block), false);
    assert.equal(pool.release(block), false);
    assert.equal(pool.usedCount, 1);
    assert.equal(pool.release(block), true);
    assert.equal(pool.usedCount, 0);
  });

  it('rejects double frees, retaining a free block, bad ids and bad capacities', () => {
    const pool = new BlockPool(2);
    const block = pool.allocate()!;
    pool.release(block);
    assert.throws(() => pool.release(block), /not allocated/);
    assert.throws(() => pool.retain(1), /not allocated/);
    assert.throws(() => pool.references(2), RangeError);
    assert.throws(() => pool.references(-1), RangeError);
    assert.throws(() => new BlockPool(0), RangeError);
    assert.throws(() => new BlockPool(1.5), RangeError);
  });
});

describe('prefix-hash', () => {
  it('chains keys: blockKeys equals the block-by-block chain and skips a partial block', () => {
    const tokens = range(1, 11);
    const k0 = blockKey(ROOT_KEY, tokens, 0, 4);
    const k1 = blockKey(k0, tokens, 4, 4);
    assert.deepEqual(blockKeys(tokens, 4), [k0, k1]);
    assert.deepEqual(blockKeys(tokens, 4, 1, k0), [k1]);
    assert.deepEqual(blockKeys(range(1, 3), 4), []);
  });

  it('a key stands for the whole prefix: same block after different prefixes differs', () => {
    const a = [1, 2, 3, 4, 9, 9, 9, 9];
    const b = [5, 6, 7, 8, 9, 9, 9, 9];
    assert.notEqual(blockKeys(a, 4)[1], blockKeys(b, 4)[1]);
    assert.notEqual(blockKey(ROOT_KEY, [1, 2, 3, 4], 0, 4), blockKey(ROOT_KEY, [1, 2, 4, 3], 0, 4));
    assert.equal(blockKey(ROOT_KEY, [7, 1, 2, 3, 4], 1, 4), blockKey(ROOT_KEY, [1, 2, 3, 4], 0, 4));
  });

  it('keys are non-negative safe integers', () => {
    for (let i = 0; i < 200; i++) {
      const key = blockKey(i * 7919, [i, i * 31, 65535 + i, 2 ** 31 + i], 0, 4);
      assert.ok(Number.isSafeInteger(key) && key >= 0, `key ${key}`);
    }
  });
});

// ---- KvCacheManager: targeted cases ----

describe('KvCacheManager construction', () => {
  it('rejects non-positive sizes and a pool smaller than one block', () => {
    assert.throws(() => new KvCacheManager(config({ blockSize: 0 })), RangeError);
    assert.throws(() => new KvCacheManager(config({ sequences: 0 })), RangeError);
    assert.throws(() => new KvCacheManager(config({ totalCells: 2.5 })), RangeError);
    assert.throws(() => new KvCacheManager(config({ cellsPerSequence: -1 })), RangeError);
    assert.throws(() => new KvCacheManager(config({ totalCells: 3 })), RangeError);
    // Per-sequence KV does not need the pool.
    assert.doesNotThrow(
      () => new KvCacheManager(config({ sharedCells: false, totalCells: 3, cellsPerSequence: 8 })),
    );
  });

  it('maxTokensPerSequence is the whole pool (unified, whole blocks) or one stream', () => {
    assert.equal(new KvCacheManager(config({ totalCells: 66 })).maxTokensPerSequence, 64);
    assert.equal(
      new KvCacheManager(config({ sharedCells: false, cellsPerSequence: 30 })).maxTokensPerSequence,
      30,
    );
  });

  it('rejects sequence ids out of range', () => {
    const m = new KvCacheManager(config());
    assert.throws(() => m.tokensOf(4), RangeError);
    assert.throws(() => m.useOf(-1), RangeError);
    assert.throws(() => m.release(7, false), RangeError);
  });
});

for (const layout of LAYOUTS) {
  const base = (overrides: Partial<KvCacheConfig> = {}): KvCacheConfig =>
    config({ sharedCells: layout.sharedCells, ...overrides });

  // These cases assume the unified id policy (a free id first, else the least recently used
  // cached one); per-sequence streams take the lowest id that does not run (tested below).
  const unifiedIdPolicy = (title: string, test: () => void): void => {
    if (layout.sharedCells) it(title, test);
  };

  describe(`KvCacheManager (${layout.name})`, () => {
    describe('acquire', () => {
      it('takes the lowest free id, and null when every id runs', () => {
        const h = new Harness(base({ sequences: 3 }));
        const m = h.m;
        assert.deepEqual([m.acquire(), m.acquire(), m.acquire()], [0, 1, 2]);
        assert.equal(m.useOf(1), 'running');
        assert.equal(m.canAcquire(), false);
        assert.equal(m.acquire(), null);
        m.release(1, false);
        assert.equal(m.useOf(1), 'free');
        assert.equal(m.canAcquire(), true);
        assert.equal(m.acquire(), 1);
        assert.deepEqual(h.apply(), []);
        h.verify();
      });

      unifiedIdPolicy(
        'with no free id, evicts the least recently used cached sequence (not `except`)',
        () => {
          const h = new Harness(base({ sequences: 3 }));
          const m = h.m;
          assert.equal(h.request(range(1, 6)), 0);
          assert.equal(h.request(range(11, 16)), 1);
          assert.equal(h.request(range(21, 26)), 2);
          assert.deepEqual([m.useOf(0), m.useOf(1), m.useOf(2)], ['cached', 'cached', 'cached']);
          assert.equal(m.acquire(), 0);
          assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: 0, from: 0 }]);
          assert.deepEqual(m.tokensOf(0), []);
          assert.equal(m.acquire(1), 2, 'skips the excepted LRU one');
          assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: 2, from: 0 }]);
          assert.equal(m.canAcquire(1), false);
          assert.equal(m.canAcquire(), true);
          assert.equal(m.acquire(1), null);
          assert.equal(m.useOf(1), 'cached');
          h.verify();
        },
      );

      unifiedIdPolicy('a reuse makes the source recently used', () => {
        const h = new Harness(base({ sequences: 4 }));
        const m = h.m;
        assert.equal(h.request(range(1, 10)), 0);
        assert.equal(h.request(range(31, 40)), 1);
        // A copy from 0 (a prefix of 6 of its 10 tokens) touches it.
        const started = m.start([...range(1, 6), 50, 51], 7, true);
        assert.deepEqual(started, { sequenceId: 2, cachedTokens: 6 });
        h.apply();
        assert.equal(m.acquire(), 3);
        assert.equal(m.acquire(), 1, 'sequence 1 is now the least recently used');
        h.apply();
        assert.equal(m.useOf(0), 'cached');
        h.verify();
      });
    });

    describe('lookup', () => {
      it('finds nothing with prefix caching off, and release(keep) then frees', () => {
        const h = new Harness(base({ prefixCaching: false }));
        const m = h.m;
        const id = h.request(range(1, 10));
        assert.equal(m.useOf(id), 'free');
        assert.equal(m.lookup(range(1, 10), 10), null);
        const started = m.start(range(1, 11), 10, true)!;
        assert.equal(started.cachedTokens, 0);
        h.apply();
        h.compute(started.sequenceId, range(1, 8));
        assert.equal(m.lookup(range(1, 11), 10), null, 'running sequences are not indexed either');
        h.verify();
      });

      it('needs a full block within the limit', () => {
        const h = new Harness(base());
        const m = h.m;
        h.request(range(1, 10));
        assert.equal(m.lookup(range(1, 10), 3), null, 'limit below one block');
        assert.equal(m.lookup([1, 2, 3, 9, 5, 6], 6), null, 'only a partial block matches');
        assert.equal(m.lookup([9, ...range(2, 10)], 10), null);
        assert.deepEqual(m.lookup(range(1, 10), 4), { source: 0, length: 4 });
      });

      it('returns the longest prefix: full blocks, then token by token, within the limit', () => {
        const h = new Harness(base());
        const m = h.m;
        h.request(range(1, 10));
        assert.deepEqual(m.lookup([...range(1, 6), 99, 100], 8), { source: 0, length: 6 });
        assert.deepEqual(m.lookup([...range(1, 10), 11, 12], 12), { source: 0, length: 10 });
        assert.deepEqual(m.lookup(range(1, 12), 7), { source: 0, length: 7 });
        assert.deepEqual(m.lookup([...range(1, 8), 99], 9), { source: 0, length: 8 });
      });

      unifiedIdPolicy('picks the holder with the longest match', () => {
        const h = new Harness(base());
        const m = h.m;
        const a = h.request([...range(1, 8), 20, 21]);
        const b = h.request([...range(1, 8), 30, 31, 32]);
        assert.notEqual(a, b);
        assert.deepEqual(m.lookup([...range(1, 8), 30, 31, 99], 11), { source: b, length: 10 });
        assert.deepEqual(m.lookup([...range(1, 8), 20, 99], 10), { source: a, length: 9 });
        assert.deepEqual(m.lookup([...range(1, 8), 99], 9)?.length, 8);
      });

      it('sees confirmed tokens only: appended but uncommitted tokens are invisible', () => {
        const h = new Harness(base());
        const m = h.m;
        const id = m.acquire()!;
        assert.equal(h.schedule(id, range(1, 8)), true);
        assert.equal(m.lookup(range(1, 9), 8), null, 'nothing confirmed yet');
        h.step();
        assert.deepEqual(m.lookup(range(1, 9), 8), { source: id, length: 8 });
        assert.equal(h.schedule(id, range(9, 14)), true);
        assert.deepEqual(m.lookup(range(1, 20), 20), { source: id, length: 8 });
        // A start in this state must not copy the unconfirmed tokens.
        const started = m.start(range(1, 20), 19, true)!;
        assert.equal(started.cachedTokens, 8);
        assert.deepEqual(m.tokensOf(started.sequenceId), range(1, 8));
        h.apply();
        h.verify();
        h.step();
        assert.deepEqual(m.lookup(range(1, 20), 20), { source: id, length: 14 });
      });

      it('prefers a cached holder over a running one with the same match, then the newer', () => {
        const h = new Harness(base({ sequences: 5 }));
        const m = h.m;
        const runner = m.start(range(1, 8), 8, false)!.sequenceId;
        h.apply();
        h.compute(runner, range(1, 8));
        const cachedId = h.request(range(1, 8));
        assert.notEqual(cachedId, runner);
        assert.deepEqual(m.lookup(range(1, 9), 9), { source: cachedId, length: 8 });
        // Two running holders: the newer wins.
        const m2 = new Harness(base({ sequences: 5 }));
        const first = m2.m.acquire()!;
        const second = m2.m.acquire()!;
        m2.compute(first, range(1, 8));
        m2.compute(second, range(1, 8));
        assert.deepEqual(m2.m.lookup(range(1, 9), 9), { source: second, length: 8 });
      });

      unifiedIdPolicy(
        'a hash collision cannot produce a wrong reuse: lookups compare tokens',
        () => {
          // blockKey reads tokens as 32-bit integers, so t and t + 2^32 have the same key.
          const big = 2 ** 32;
          assert.equal(
            blockKey(ROOT_KEY, [1, 2, 3, 4], 0, 4),
            blockKey(ROOT_KEY, [1 + big, 2, 3, 4], 0, 4),
            'precondition: a known key collision',
          );
          const h = new Harness(base());
          const m = h.m;
          const id = h.request(range(1, 10));
          const colliding = [1 + big, ...range(2, 10), 11];
          assert.equal(m.lookup(colliding, 10), null);
          const started = m.start(colliding, 10, true)!;
          assert.notEqual(started.sequenceId, id);
          assert.equal(started.cachedTokens, 0);
          assert.deepEqual(m.tokensOf(started.sequenceId), []);
          // A collision in the second block: only the first block is reused.
          const second = [1, 2, 3, 4, 5 + big, 6, 7, 8, 9];
          assert.deepEqual(m.lookup(second, 9), { source: id, length: 4 });
          h.apply();
          h.verify();
        },
      );
    });

    describe('start', () => {
      unifiedIdPolicy(
        'without a match (or readCache false) acquires an empty sequence, no operation',
        () => {
          const h = new Harness(base());
          const m = h.m;
          const id = h.request(range(1, 10));
          assert.deepEqual(m.start(range(101, 110), 9, true), { sequenceId: 1, cachedTokens: 0 });
          assert.deepEqual(m.start(range(1, 10), 9, false), { sequenceId: 2, cachedTokens: 0 });
          assert.deepEqual(h.apply(), []);
          assert.equal(m.useOf(id), 'cached');
          h.verify();
        },
      );

      it('takes over a cached sequence whose whole content is the prefix (no copy)', () => {
        const h = new Harness(base());
        const m = h.m;
        const id = h.request(range(1, 6));
        assert.deepEqual(m.start(range(1, 9), 8, true), { sequenceId: id, cachedTokens: 6 });
        assert.deepEqual(h.apply(), []);
        assert.equal(m.useOf(id), 'running');
        assert.equal(m.usage().cachedSequences, 0);
        h.verify();
        h.compute(id, range(7, 9));
        assert.deepEqual(m.tokensOf(id), range(1, 9));
      });

      it('takes over at a block boundary too', () => {
        const h = new Harness(base());
        const m = h.m;
        const id = h.request(range(1, 8));
        assert.deepEqual(m.start(range(1, 9), 8, true), { sequenceId: id, cachedTokens: 8 });
        assert.deepEqual(h.apply(), []);
        h.verify();
      });

      it('copies a prefix that is not the whole cached content', () => {
        const h = new Harness(base());
        const m = h.m;
        const source = h.request(range(1, 10));
        const started = m.start([...range(1, 6), 50, 51], 7, true)!;
        assert.notEqual(started.sequenceId, source);
        assert.equal(started.cachedTokens, 6);
        const d = started.sequenceId;
        const expected: KvOperation[] = layout.sharedCells
          ? [{ kind: 'copy', source, destination: d, to: 6 }]
          : [
              { kind: 'copy', source, destination: d, to: null },
              { kind: 'remove', sequenceId: d, from: 6 },
            ];
        assert.deepEqual(h.apply(), expected);
        assert.deepEqual(m.tokensOf(d), range(1, 6));
        assert.deepEqual(m.tokensOf(source), range(1, 10));
        assert.equal(m.useOf(source), 'cached');
        h.verify();
        h.compute(d, [50, 51]);
        assert.deepEqual(h.kv.tokensOf(d), [...range(1, 6), 50, 51]);
        assert.deepEqual(h.kv.tokensOf(source), range(1, 10));
        if (layout.sharedCells) {
          // 3 blocks of the source, 1 shared; the copy's partial block is charged anew.
          assert.equal(m.usage().usedBlocks, 4);
          assert.equal(h.kv.usedCells(), 12);
        }
      });

      it('copies from a running sequence whose whole content matches (no remove)', () => {
        const h = new Harness(base());
        const m = h.m;
        const source = m.acquire()!;
        h.compute(source, range(1, 6));
        const started = m.start(range(1, 9), 8, true)!;
        assert.equal(started.cachedTokens, 6);
        const d = started.sequenceId;
        assert.deepEqual(
          h.apply(),
          layout.sharedCells
            ? [{ kind: 'copy', source, destination: d, to: 6 }]
            : [{ kind: 'copy', source, destination: d, to: null }],
        );
        assert.equal(m.useOf(source), 'running');
        h.verify();
      });

      it('returns null when every id runs', () => {
        const h = new Harness(base({ sequences: 2 }));
        const m = h.m;
        const a = m.acquire()!;
        m.acquire();
        h.compute(a, range(1, 8));
        assert.equal(m.start(range(1, 10), 9, true), null);
        assert.equal(m.start(range(1, 10), 9, false), null);
        assert.deepEqual(h.apply(), []);
        h.verify();
      });

      unifiedIdPolicy(
        'returns null only when no id is available (every other id runs, the source is cached)',
        () => {
          // The contract of start: "Null when no id is available". Here the cached source is
          // available (canAcquire, availableSequences), and a cold start would succeed.
          const h = new Harness(base({ sequences: 2 }));
          const m = h.m;
          const source = h.request(range(1, 10));
          const other = m.start([70, 71], 2, false)!.sequenceId;
          h.apply();
          h.compute(other, [70, 71]);
          assert.equal(m.canAcquire(), true);
          assert.equal(m.availableSequences(), 1);
          const prompt = [...range(1, 6), 50];
          const started = m.start(prompt, 6, true);
          assert.notEqual(started, null, 'start refused although sequence 0 is available');
          assert.equal(started!.sequenceId, source);
          assert.deepEqual(m.tokensOf(source), prompt.slice(0, started!.cachedTokens));
          h.apply();
          h.verify();
          h.compute(source, prompt.slice(started!.cachedTokens));
          assert.deepEqual(h.kv.tokensOf(source), prompt);
        },
      );

      it('a copied prefix leaves the tokens of the new request identical to its prompt', () => {
        const h = new Harness(base());
        const m = h.m;
        h.request([...range(1, 8), 1, 2, 3, 4, 5]);
        const prompt = [...range(1, 8), 1, 2, 3, 9, 9];
        const started = m.start(prompt, prompt.length - 1, true)!;
        assert.equal(started.cachedTokens, 11);
        assert.deepEqual(m.tokensOf(started.sequenceId), prompt.slice(0, 11));
        h.apply();
        h.verify();
      });
    });

    describe('release', () => {
      it('keep=true caches the computed tokens; keep=false frees', () => {
        const h = new Harness(base());
        const m = h.m;
        const a = m.acquire()!;
        const b = m.acquire()!;
        h.compute(a, range(1, 6));
        h.compute(b, range(11, 16));
        m.release(a, true);
        assert.deepEqual(h.apply(), []);
        assert.equal(m.useOf(a), 'cached');
        assert.deepEqual(m.tokensOf(a), range(1, 6));
        m.release(b, false);
        assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: b, from: 0 }]);
        assert.equal(m.useOf(b), 'free');
        assert.deepEqual(m.tokensOf(b), []);
        assert.throws(() => m.release(a, true), /not running/);
        assert.throws(() => m.release(b, false), /not running/);
        h.verify();
        const usage = m.usage();
        assert.deepEqual(
          [usage.runningSequences, usage.cachedSequences, usage.usedBlocks, usage.runningBlocks],
          [0, 1, 2, 0],
        );
      });

      it('keep=true while a step is in flight keeps only the confirmed tokens', () => {
        const h = new Harness(base());
        const m = h.m;
        const id = m.acquire()!;
        h.compute(id, range(1, 5));
        assert.equal(h.schedule(id, range(6, 12)), true);
        h.apply();
        // The decode is in flight: the request is aborted.
        m.release(id, true);
        assert.deepEqual(m.tokensOf(id), range(1, 5));
        assert.equal(m.useOf(id), 'cached');
        h.decode();
        assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: id, from: 5 }]);
        m.commitStep();
        h.verify();
        assert.deepEqual(m.tokensOf(id), range(1, 5), 'the commit does not confirm them');
        assert.equal(m.usage().usedBlocks, 2);
        assert.deepEqual(m.lookup(range(1, 12), 12), { source: id, length: 5 });
      });

      it('keep=true with nothing confirmed frees', () => {
        const h = new Harness(base());
        const m = h.m;
        const id = m.acquire()!;
        assert.equal(h.schedule(id, range(1, 6)), true);
        h.apply();
        m.release(id, true);
        assert.equal(m.useOf(id), 'free');
        h.decode();
        assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: id, from: 0 }]);
        m.commitStep();
        h.verify();
        assert.equal(m.usage().usedBlocks, 0);
      });

      it('keep=false while a step is in flight frees everything after the decode', () => {
        const h = new Harness(base());
        const m = h.m;
        const id = m.acquire()!;
        h.compute(id, range(1, 5));
        assert.equal(h.schedule(id, range(6, 9)), true);
        h.apply();
        m.release(id, false);
        h.decode();
        assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: id, from: 0 }]);
        m.commitStep();
        h.verify();
        assert.equal(h.kv.usedCells(), 0);
      });

      unifiedIdPolicy(
        'drops cached sequences whose tokens are a prefix of the newly cached one',
        () => {
          const h = new Harness(base({ sequences: 5 }));
          const m = h.m;
          const short = h.request(range(1, 6));
          const sameLength = h.request(range(1, 6), true);
          // request() reads no cache, so the second one is a separate id... and drops the first.
          assert.notEqual(short, sameLength);
          assert.equal(m.useOf(short), 'free', 'an identical cached sequence is redundant');
          const other = h.request([1, 2, 3, 4, 5, 99]);
          const tiny = h.request([1, 2]);
          assert.equal(m.useOf(other), 'cached');
          assert.equal(m.useOf(tiny), 'cached');
          const runner = m.start(range(1, 3), 3, false)!.sequenceId;
          h.apply();
          h.compute(runner, range(1, 3));
          const long = h.request(range(1, 9));
          assert.equal(m.useOf(sameLength), 'free');
          assert.equal(m.useOf(tiny), 'free');
          assert.equal(m.useOf(other), 'cached', 'not a prefix');
          assert.equal(m.useOf(long), 'cached');
          assert.equal(m.useOf(runner), 'running', 'running sequences are never dropped');
          h.verify();
        },
      );
    });

    describe('grow, append, clear, fork', () => {
      it('grow past the largest sequence throws; append past the room throws', () => {
        const h = new Harness(base({ totalCells: 16, cellsPerSequence: 12 }));
        const m = h.m;
        const id = m.acquire()!;
        const max = m.maxTokensPerSequence;
        assert.equal(max, layout.sharedCells ? 16 : 12);
        assert.throws(() => m.grow(id, max + 1), RangeError);
        assert.equal(m.grow(id, max), true);
        assert.throws(() => m.append(id, range(1, max + 1)), /room/);
        assert.throws(() => m.grow(3, 1), /not running/);
        assert.throws(() => m.append(3, [1]), /not running/);
        if (layout.sharedCells) {
          const other = m.acquire()!;
          assert.equal(m.grow(other, 1), false, 'the first took the whole pool');
          assert.throws(() => m.append(other, [1]), /room/);
        }
      });

      it('clear drops the cells and the index entries; the sequence stays running', () => {
        const h = new Harness(base());
        const m = h.m;
        const id = m.acquire()!;
        h.compute(id, range(1, 10));
        m.clear(id);
        assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: id, from: 0 }]);
        assert.equal(m.useOf(id), 'running');
        assert.deepEqual(m.tokensOf(id), []);
        assert.equal(m.lookup(range(1, 10), 10), null);
        assert.equal(m.usage().usedBlocks, 0);
        h.verify();
        h.compute(id, range(21, 23));
        assert.deepEqual(h.kv.tokensOf(id), range(21, 23));
        m.release(id, false);
        assert.throws(() => m.clear(id), /not running/);
      });

      it('fork copies all tokens of a running sequence', () => {
        const h = new Harness(base());
        const m = h.m;
        const source = m.acquire()!;
        h.compute(source, range(1, 6));
        const destination = m.acquire()!;
        assert.equal(m.fork(source, destination), true);
        assert.deepEqual(
          h.apply(),
          layout.sharedCells
            ? [{ kind: 'copy', source, destination, to: 6 }]
            : [{ kind: 'copy', source, destination, to: null }],
        );
        assert.deepEqual(m.tokensOf(destination), range(1, 6));
        h.verify();
        h.compute(destination, [7]);
        h.compute(source, [8]);
        assert.deepEqual(h.kv.tokensOf(destination), [...range(1, 6), 7]);
        assert.deepEqual(h.kv.tokensOf(source), [...range(1, 6), 8]);
        if (layout.sharedCells) {
          // The full block is shared; each holds its own partial block.
          assert.equal(m.usage().usedBlocks, 3);
          assert.equal(m.usage().runningBlocks, 3);
        }
        assert.throws(() => m.fork(source, destination), /not an empty running sequence/);
        assert.equal(h.schedule(source, [9]), true);
        const third = m.acquire()!;
        assert.throws(() => m.fork(source, third), /not computed/);
      });
    });

    it('usage counts sequences and blocks', () => {
      const h = new Harness(base({ totalCells: 64, cellsPerSequence: 32 }));
      const m = h.m;
      assert.equal(m.usage().capacityBlocks, layout.sharedCells ? 16 : 8 * 4);
      const a = m.acquire()!;
      h.compute(a, range(1, 9));
      const b = h.request(range(21, 24));
      const usage = m.usage();
      assert.deepEqual(
        [usage.runningSequences, usage.cachedSequences, usage.runningBlocks, usage.usedBlocks],
        [1, 1, 3, 4],
      );
      assert.equal(m.useOf(b), 'cached');
    });
  });
}

describe('KvCacheManager unified pool', () => {
  const unified = (overrides: Partial<KvCacheConfig> = {}): KvCacheConfig =>
    config({ sharedCells: true, ...overrides });

  it('grow evicts cached sequences least recently used first, tail blocks first', () => {
    const h = new Harness(unified({ totalCells: 24 }));
    const m = h.m;
    const a = h.request(range(1, 10)); // 3 blocks
    const b = h.request(range(21, 28)); // 2 blocks
    const r = m.start(range(41, 44), 4, false)!.sequenceId;
    h.apply();
    h.compute(r, range(41, 44)); // 1 block: the pool is full
    assert.equal(m.usage().usedBlocks, 6);
    assert.equal(m.grow(r, 8), true);
    assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: a, from: 8 }]);
    assert.deepEqual(m.tokensOf(a), range(1, 8));
    assert.equal(m.useOf(a), 'cached');
    assert.deepEqual(m.lookup(range(1, 10), 10), { source: a, length: 8 });
    h.verify();
    assert.equal(m.grow(r, 16), true);
    assert.deepEqual(h.apply(), [
      { kind: 'remove', sequenceId: a, from: 4 },
      { kind: 'remove', sequenceId: a, from: 0 },
    ]);
    assert.equal(m.useOf(a), 'free');
    assert.deepEqual(m.tokensOf(b), range(21, 28), 'the newer one is untouched');
    h.verify();
    assert.equal(m.grow(r, 24), true);
    assert.deepEqual(h.apply(), [
      { kind: 'remove', sequenceId: b, from: 4 },
      { kind: 'remove', sequenceId: b, from: 0 },
    ]);
    const usage = m.usage();
    assert.deepEqual([usage.runningBlocks, usage.usedBlocks, usage.cachedSequences], [6, 6, 0]);
    h.verify();
    h.compute(r, range(45, 64));
    assert.equal(h.kv.usedCells(), 24);
  });

  it('grow fails, charging nothing, when running blocks fill the pool', () => {
    const h = new Harness(unified({ totalCells: 16 }));
    const m = h.m;
    const a = m.acquire()!;
    h.compute(a, range(1, 10));
    const b = m.acquire()!;
    assert.equal(m.grow(b, 4), true);
    const before = m.usage();
    assert.equal(m.grow(b, 5), false);
    assert.equal(m.grow(a, 13), false);
    assert.deepEqual(m.usage(), before);
    assert.deepEqual(h.apply(), []);
    assert.throws(() => m.append(b, range(1, 5)), /room/);
    h.verify();
    m.append(b, range(1, 4));
    h.chunks.set(b, { start: 0, tokens: range(1, 4) });
    h.step();
    assert.equal(h.kv.usedCells(), 14);
  });

  it('evicting a cached sequence whose last block is shared drops it whole; the sharer keeps its cells', () => {
    const h = new Harness(unified({ totalCells: 20, sequences: 5 }));
    const m = h.m;
    const a = h.request(range(1, 10)); // blocks A0 A1 A2
    const d = m.start([...range(1, 8), 50], 8, true)!; // shares A0 and A1
    assert.equal(d.cachedTokens, 8);
    h.apply();
    const b = h.request(range(31, 34)); // 1 block, newer than a (a was touched by the copy)
    assert.equal(m.usage().usedBlocks, 4);
    const q = m.acquire()!;
    assert.equal(m.grow(q, 8), true); // needs 2, 1 free: a loses its unshared tail
    assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: a, from: 8 }]);
    h.verify();
    // a's last block is shared (so are the others): a goes whole, freeing nothing; then b.
    assert.equal(m.grow(q, 12), true);
    assert.deepEqual(h.apply(), [
      { kind: 'remove', sequenceId: a, from: 0 },
      { kind: 'remove', sequenceId: b, from: 0 },
    ]);
    assert.equal(m.useOf(a), 'free');
    assert.equal(m.useOf(b), 'free');
    assert.deepEqual(m.tokensOf(d.sequenceId), range(1, 8));
    h.verify();
    assert.deepEqual(h.kv.tokensOf(d.sequenceId), range(1, 8));
    assert.equal(m.usage().usedBlocks, 5);
    assert.equal(m.grow(d.sequenceId, 9), false, 'nothing left to evict');
  });

  it('a copy whose partial block cannot be charged keeps the full blocks only', () => {
    const h = new Harness(unified({ totalCells: 12 }));
    const m = h.m;
    const source = m.acquire()!;
    h.compute(source, range(1, 6)); // 2 blocks, running
    const other = m.acquire()!;
    h.compute(other, [90]); // 1 block: the pool is full, nothing cached
    const started = m.start([...range(1, 6), 50], 6, true)!;
    assert.equal(started.cachedTokens, 4);
    const d = started.sequenceId;
    assert.deepEqual(h.apply(), [
      { kind: 'copy', source, destination: d, to: 6 },
      { kind: 'remove', sequenceId: d, from: 4 },
    ]);
    assert.deepEqual(m.tokensOf(d), range(1, 4));
    h.verify();
    assert.equal(m.grow(d, 5), false, 'no room for its next token');
  });

  it('a copy whose partial block evicts the source tail still holds the copied prefix', () => {
    // The pool is full: the cached source (2 blocks) and a running request (1 block). A new
    // request reuses 6 of the source's 7 tokens: it shares block 0 and needs a block for
    // positions 4..5, which evicts the source's (unshared) last block. The copy is queued
    // first, so the cache holds the 6 tokens; the manager must say so too.
    const h = new Harness(unified({ totalCells: 12 }));
    const m = h.m;
    const source = h.request(range(1, 7));
    const running = m.start([50, 51, 52], 3, false)!.sequenceId;
    h.apply();
    h.compute(running, [50, 51, 52]);
    assert.equal(m.usage().usedBlocks, 3);
    const prompt = [...range(1, 6), 99, 100];
    const started = m.start(prompt, 7, true)!;
    assert.ok(started !== null, 'the request did not start');
    assert.notEqual(started.sequenceId, source);
    assert.deepEqual(
      m.tokensOf(started.sequenceId),
      prompt.slice(0, started.cachedTokens),
      `start reported ${started.cachedTokens} cached tokens`,
    );
    h.apply();
    h.verify();
  });

  it('fork fails without a block for the partial block, changing nothing', () => {
    const h = new Harness(unified({ totalCells: 12 }));
    const m = h.m;
    const source = m.acquire()!;
    h.compute(source, range(1, 6));
    const other = m.acquire()!;
    h.compute(other, [90]);
    const destination = m.acquire()!;
    const before = m.usage();
    assert.equal(m.fork(source, destination), false);
    assert.deepEqual(m.tokensOf(destination), []);
    assert.deepEqual(m.usage(), before);
    assert.deepEqual(h.apply(), []);
    h.verify();
    // A source of whole blocks needs no new block.
    m.release(source, false);
    h.apply();
    const full = m.acquire()!;
    h.compute(full, range(1, 8));
    const copy = m.acquire()!;
    assert.equal(m.fork(full, copy), true);
    assert.equal(m.usage().usedBlocks, 3);
    h.apply();
    h.verify();
  });

  it('fork evicts cached sequences for the partial block', () => {
    const h = new Harness(unified({ totalCells: 12 }));
    const m = h.m;
    const cached = h.request(range(31, 34));
    const source = m.acquire()!;
    h.compute(source, range(1, 6));
    const destination = m.acquire()!;
    assert.equal(m.fork(source, destination), true);
    assert.deepEqual(h.apply(), [
      { kind: 'remove', sequenceId: cached, from: 0 },
      { kind: 'copy', source, destination, to: 6 },
    ]);
    h.verify();
  });

  it('running blocks count shared blocks once', () => {
    const h = new Harness(unified({ totalCells: 64 }));
    const m = h.m;
    const a = m.acquire()!;
    h.compute(a, range(1, 8));
    const b = m.acquire()!;
    assert.equal(m.fork(a, b), true);
    h.apply();
    let usage = m.usage();
    assert.deepEqual([usage.runningBlocks, usage.usedBlocks], [2, 2]);
    m.release(a, true);
    usage = m.usage();
    assert.deepEqual([usage.runningBlocks, usage.usedBlocks], [2, 2]);
    m.release(b, true);
    usage = m.usage();
    assert.deepEqual(
      [usage.runningBlocks, usage.usedBlocks, usage.cachedSequences],
      [0, 2, 1],
      'the identical cached twin was dropped as redundant',
    );
    h.apply();
    h.verify();
  });
});

describe('KvCacheManager per-sequence streams', () => {
  const perSequence = (overrides: Partial<KvCacheConfig> = {}): KvCacheConfig =>
    config({ sharedCells: false, ...overrides });

  it('grow never fails within a stream, whatever the other streams hold', () => {
    const h = new Harness(perSequence({ sequences: 3, cellsPerSequence: 8 }));
    const m = h.m;
    const a = m.acquire()!;
    const b = m.acquire()!;
    h.compute(a, range(1, 8));
    assert.equal(m.grow(b, 8), true);
    h.compute(b, range(1, 8));
    assert.throws(() => m.grow(b, 9), RangeError);
    h.verify();
  });

  it('usage never reports more blocks in use than its capacity (full streams)', () => {
    // 30 cells per stream hold 8 blocks of 4 (the last one partly), but capacityBlocks counts 7.
    const h = new Harness(perSequence({ sequences: 2, cellsPerSequence: 30 }));
    const m = h.m;
    const a = m.acquire()!;
    const b = m.acquire()!;
    h.compute(a, range(1, 30));
    h.compute(b, range(1, 30));
    const usage = m.usage();
    assert.ok(
      usage.usedBlocks <= usage.capacityBlocks,
      `${usage.usedBlocks} blocks used of ${usage.capacityBlocks}`,
    );
  });

  it('acquires the lowest id that does not run, dropping what it caches, so running ids stay packed', () => {
    const h = new Harness(perSequence({ sequences: 4 }));
    const m = h.m;
    assert.equal(h.request(range(1, 6)), 0);
    assert.equal(h.request(range(11, 16)), 0, 'the cached id 0 is the lowest: it is reused');
    const running = m.start([70, 71], 2, false)!.sequenceId;
    assert.equal(running, 0);
    h.apply();
    h.compute(running, [70, 71]);
    assert.equal(h.request(range(21, 26)), 1);
    // id 1 is cached and ids 2, 3 are free: the lowest (1) is taken and its cache dropped.
    assert.equal(m.acquire(), 1);
    assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: 1, from: 0 }]);
    assert.equal(m.acquire(), 2);
    h.verify();
  });

  it('copies a cached prefix into the lowest id rather than taking over a higher one', () => {
    const h = new Harness(perSequence({ sequences: 4 }));
    const m = h.m;
    const first = m.start([70, 71], 2, false)!.sequenceId; // 0, runs
    h.apply();
    h.compute(first, [70, 71]);
    const second = m.start([80, 81], 2, false)!.sequenceId; // 1
    h.apply();
    h.compute(second, [80, 81]);
    const source = h.request(range(1, 10)); // 2, cached
    assert.equal(source, 2);
    m.release(second, false); // 1 is free again
    h.apply();
    const started = m.start([...range(1, 10), 50], 10, true)!;
    assert.deepEqual(started, { sequenceId: 1, cachedTokens: 10 });
    assert.deepEqual(h.apply(), [{ kind: 'copy', source: 2, destination: 1, to: null }]);
    h.verify();
  });

  it('with every other id running, takes the cached source over and drops its tail', () => {
    const h = new Harness(perSequence({ sequences: 2 }));
    const m = h.m;
    const other = m.start([70, 71], 2, false)!.sequenceId;
    h.apply();
    h.compute(other, [70, 71]);
    const source = h.request(range(1, 10));
    assert.notEqual(other, source);
    const started = m.start([...range(1, 6), 50], 6, true);
    assert.deepEqual(started, { sequenceId: source, cachedTokens: 6 });
    assert.deepEqual(h.apply(), [{ kind: 'remove', sequenceId: source, from: 6 }]);
    assert.equal(m.useOf(source), 'running');
    assert.deepEqual(m.tokensOf(source), range(1, 6));
    assert.deepEqual(m.lookup(range(1, 10), 10), { source, length: 6 });
    h.verify();
  });
});

// ---- randomized: the manager driven as a scheduler would, against the fake KV cache ----

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimRequest {
  /** Every token the request will hold (prompt, then what it "generates"). */
  readonly all: number[];
  /** How many of `all` are known up front (prefilled in chunks); later ones decode one by one. */
  known: number;
  sequence: number;
}

/**
 * Drive a manager with random requests (prompts drawn from a few shared prefixes), chunked
 * prefill and decode steps, preemption when the pool is short, aborts while a step is in flight,
 * forks and clears; check every operation against the fake KV cache. Returns how many manager
 * operations ran.
 */
function simulate(c: KvCacheConfig, seed: number, operations: number): number {
  const random = mulberry32(seed);
  const below = (n: number): number => Math.floor(random() * n);
  const h = new Harness(c);
  const m = h.m;
  const maxLength = Math.min(m.maxTokensPerSequence, 28);
  const prefixes = Array.from({ length: 3 }, () =>
    Array.from({ length: 2 + below(14) }, () => 1 + below(40)),
  );
  const fresh = (): { all: number[]; known: number } => {
    const prompt = [...prefixes[below(prefixes.length)]!];
    for (let i = below(8); i >= 0; i--) prompt.push(1 + below(3));
    const all = [...prompt];
    for (let i = below(9); i > 0; i--) all.push(1 + below(3));
    all.length = Math.min(all.length, maxLength);
    return { all, known: Math.min(prompt.length, all.length) };
  };
  const waiting: { all: number[]; known: number }[] = [];
  let running: SimRequest[] = [];
  /** Running, empty sequences kept for forks (a retired beam's spare). */
  const spares: number[] = [];
  let count = 0;
  const trail: string[] = [];
  const note = (what: string): void => {
    count++;
    trail.push(what);
    if (trail.length > 40) trail.shift();
  };

  /** The lookup equals a brute-force search over the confirmed tokens of every holder. */
  const checkLookup = (tokens: readonly number[], limit: number): void => {
    const found: PrefixMatch | null = m.lookup(tokens, limit);
    let best = 0;
    for (let id = 0; id < c.sequences; id++) {
      if (m.useOf(id) === 'free') continue;
      best = Math.max(best, longestCommonPrefix(tokens, h.confirmedTokens(id), limit));
    }
    if (!c.prefixCaching || best < c.blockSize) {
      assert.equal(found, null, `lookup found ${JSON.stringify(found)}, expected nothing`);
      return;
    }
    assert.ok(found !== null, `lookup found nothing, ${best} tokens are held`);
    assert.equal(found.length, best, 'lookup missed the longest prefix');
    assert.deepEqual(
      h.confirmedTokens(found.source).slice(0, found.length),
      tokens.slice(0, found.length),
      'lookup matched other tokens',
    );
  };

  const leave = (r: SimRequest, keep: boolean, requeue: boolean): void => {
    const position = m.tokensOf(r.sequence).length;
    m.release(r.sequence, keep);
    h.chunks.delete(r.sequence);
    note(`release(${r.sequence}, ${keep})`);
    running = running.filter((x) => x !== r);
    if (requeue) waiting.push({ all: r.all, known: Math.max(r.known, position) });
  };

  try {
    while (count < operations) {
      // -- the schedule phase: no decode in flight, operations applied as they come --
      for (let i = below(3); i > 0 && running.length < c.sequences; i--) {
        const next = waiting.length > 0 && random() < 0.7 ? waiting.shift()! : fresh();
        const prompt = next.all.slice(0, next.known);
        const limit = prompt.length - 1;
        const readCache = random() < 0.85;
        if (random() < 0.3) checkLookup(prompt, limit);
        const started = m.start(prompt, limit, readCache);
        note(
          `start(${JSON.stringify(prompt)}, ${limit}, ${readCache}) -> ${JSON.stringify(started)}`,
        );
        if (started === null) {
          waiting.unshift(next);
          h.apply();
          h.verify();
          break;
        }
        assert.ok(started.cachedTokens <= limit, 'more cached tokens than the limit');
        if (!readCache) assert.equal(started.cachedTokens, 0);
        assert.equal(m.useOf(started.sequenceId), 'running');
        assert.ok(
          running.every((r) => r.sequence !== started.sequenceId),
          'id already running',
        );
        assert.deepEqual(
          m.tokensOf(started.sequenceId),
          prompt.slice(0, started.cachedTokens),
          'the reused prefix is not the prompt',
        );
        running.push({ ...next, sequence: started.sequenceId });
        h.apply();
        h.verify();
      }

      for (const r of [...running].sort(() => random() - 0.5)) {
        if (!running.includes(r)) continue;
        const position = m.tokensOf(r.sequence).length;
        const roll = random();
        if (position === r.all.length) {
          leave(r, random() < 0.8, false);
        } else if (roll < 0.04) {
          leave(r, random() < 0.5, random() < 0.5);
        } else if (roll < 0.07) {
          m.clear(r.sequence);
          note(`clear(${r.sequence})`);
          if (random() < 0.5) {
            running = running.filter((x) => x !== r); // retired: its sequence is a spare
            spares.push(r.sequence);
          } else {
            r.known = Math.max(r.known, position);
          }
        } else if (roll < 0.13) {
          const spare = position > 0 && spares.length > 0 && random() < 0.6;
          const destination = position === 0 ? null : spare ? spares.pop()! : m.acquire();
          if (position > 0 && !spare) note(`acquire() -> ${destination}`);
          if (destination !== null) {
            h.apply();
            h.verify();
            const ok = m.fork(r.sequence, destination);
            note(`fork(${r.sequence}, ${destination}) -> ${ok}`);
            if (ok) {
              assert.deepEqual(m.tokensOf(destination), m.tokensOf(r.sequence));
              const all = r.all.slice(0, position);
              for (let i = below(6); i > 0 && all.length < maxLength; i--) all.push(1 + below(3));
              running.push({ all, known: position, sequence: destination });
            } else {
              assert.deepEqual(m.tokensOf(destination), []);
              if (spare) {
                spares.push(destination);
              } else {
                m.release(destination, false);
                note(`release(${destination}, false)`);
              }
            }
          }
        } else if (roll < 0.95) {
          const end =
            position < r.known ? Math.min(r.known, position + 1 + below(6)) : position + 1;
          const tokens = r.all.slice(position, end);
          const ok = h.schedule(r.sequence, tokens);
          note(`grow+append(${r.sequence}, ${JSON.stringify(tokens)}) -> ${ok}`);
          if (!ok) {
            assert.ok(c.sharedCells, 'per-sequence growth cannot fail');
            leave(r, random() < 0.7, true); // preempted
          }
        }
        h.apply();
        h.verify();
        if (random() < 0.1) {
          const w = waiting[0] ?? fresh();
          const prompt = w.all.slice(0, w.known);
          checkLookup(prompt, Math.max(prompt.length - 1, 0));
        }
      }

      // Preempted after its chunk was planned: the chunk leaves the batch.
      for (const r of [...running]) {
        if (h.chunks.has(r.sequence) && random() < 0.03) leave(r, random() < 0.7, true);
      }
      if (spares.length > 0 && random() < 0.05) {
        const id = spares.shift()!;
        m.release(id, random() < 0.5);
        note(`release spare(${id})`);
      }
      h.apply();
      h.verify();

      // -- the decode is in flight: aborts only; their operations wait for the decode --
      h.apply();
      for (const r of [...running]) {
        if (h.chunks.has(r.sequence) && random() < 0.08) {
          const keep = random() < 0.5;
          m.release(r.sequence, keep);
          note(`release in flight(${r.sequence}, ${keep})`);
          running = running.filter((x) => x !== r);
          m.checkInvariants();
        }
      }
      h.decode();
      h.apply();
      m.commitStep();
      note('commitStep()');
      h.verify();

      if (random() < 0.01) {
        h.drainAll();
        note('drainAll()');
        running = [];
        spares.length = 0;
      }
    }
    h.drainAll();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `seed ${seed}, after ${count} operations: ${message}\nlast operations:\n  ${trail.join('\n  ')}`,
      { cause: error },
    );
  }
  return count;
}

describe('KvCacheManager randomized against the fake KV cache', () => {
  const configs: [string, KvCacheConfig][] = [];
  for (const prefixCaching of [true, false]) {
    const caching = prefixCaching ? 'prefix caching' : 'no prefix caching';
    configs.push(
      [
        `unified, ${caching}`,
        config({ sequences: 5, totalCells: 50, cellsPerSequence: 50, prefixCaching }),
      ],
      [
        `per-sequence, ${caching}`,
        config({
          sharedCells: false,
          sequences: 5,
          totalCells: 150,
          cellsPerSequence: 30,
          prefixCaching,
        }),
      ],
    );
  }
  configs.push(
    [
      'unified, blocks of 3, a tight pool',
      config({ blockSize: 3, sequences: 6, totalCells: 38, cellsPerSequence: 38 }),
    ],
    ['unified, blocks of 1', config({ blockSize: 1, sequences: 4, totalCells: 30 })],
    [
      'per-sequence, blocks of 3',
      config({ blockSize: 3, sharedCells: false, sequences: 4, cellsPerSequence: 20 }),
    ],
  );
  for (const [name, c] of configs) {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      it(`${name}, seed ${seed}`, () => {
        assert.ok(simulate(c, seed, 4000) >= 4000, 'too few operations');
      });
    }
  }
});
