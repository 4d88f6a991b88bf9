import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvLayout } from '../backend/model-backend.ts';
import type { EngineConfig } from './engine-config.ts';
import type { RequestOutput } from './engine-types.ts';
import {
  collect,
  params,
  StrictBackend,
  successorChain,
  successorLogits,
  textOf,
} from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';

function setup(config: EngineConfig, kvLayout: Partial<KvLayout>) {
  const backend = new StrictBackend({ logits: successorLogits(), kvLayout });
  return { backend, engine: new LlmEngine(backend, config) };
}

/** Prompt i: tokens 40+i, 41+i, ... (length 1..20); its greedy output is the successor chain. */
function prompt(i: number, length = 1 + ((i * 7) % 20)): number[] {
  return Array.from({ length }, (_, k) => 40 + i + k);
}

/** Nothing runs or waits; once the prefix cache is dropped, no KV cell is left in use. */
async function assertClean(engine: LlmEngine, backend: StrictBackend): Promise<void> {
  await engine.whenIdle();
  engine.resetPrefixCache();
  assert.deepEqual(engine.stats(), {
    ...engine.stats(),
    running: 0,
    waiting: 0,
    kvUsage: 0,
    kvBlocksUsed: 0,
    cachedSequences: 0,
  });
  assert.equal(backend.fake.kv.usedCells(), 0);
  assert.deepEqual(backend.violations, []);
}

/** One decode per step, within the token budget and maxNumSeqs. */
function assertSteps(engine: LlmEngine, backend: StrictBackend, config: EngineConfig): void {
  const stats = engine.stats();
  assert.equal(backend.decodeLog.length, stats.steps);
  assert.equal(stats.decodes, stats.steps);
  for (const step of backend.decodeLog) {
    const tokens = step.chunks.reduce((n, c) => n + c.tokens.length, 0);
    assert.ok(tokens <= config.maxNumBatchedTokens, `${tokens} tokens in one step`);
    assert.ok(
      step.chunks.length <= config.maxNumSeqs,
      `${step.chunks.length} sequences in one step`,
    );
  }
}

const layouts: [string, Partial<KvLayout>][] = [
  ['unified', { unified: true, totalCells: 4096, maxSequences: 16 }],
  ['per-sequence', { unified: false, cellsPerSequence: 64, totalCells: 1024, maxSequences: 16 }],
];

describe('LlmEngine continuous batching', { timeout: 10_000 }, () => {
  for (const [name, layout] of layouts) {
    it(`serves 32 concurrent requests with maxNumSeqs 8, one decode per step (${name} KV)`, async () => {
      const config = { maxModelLen: 64, maxNumSeqs: 8, maxNumBatchedTokens: 16 };
      const { backend, engine } = setup(config, layout);
      const maxTokens = (i: number) => 1 + ((i * 5) % 12);
      const streams = Array.from({ length: 32 }, (_, i) =>
        collect(
          engine.add({
            id: `r${i}`,
            promptTokens: prompt(i),
            params: params({ maxTokens: maxTokens(i) }),
          }),
        ),
      );
      const results = await Promise.all(streams);
      results.forEach((r, i) => {
        const expected = successorChain(prompt(i).at(-1)!, maxTokens(i));
        assert.deepEqual(r.tokenIds, expected, `request ${i}`);
        assert.equal(r.text, textOf(expected));
        assert.equal(r.final.finishReason, 'length');
        assert.equal(r.final.completionTokens, maxTokens(i));
        assert.equal(r.final.promptTokens, prompt(i).length);
      });
      assertSteps(engine, backend, config);
      const stats = engine.stats();
      const sum = (f: (i: number) => number) => results.reduce((n, _, i) => n + f(i), 0);
      assert.equal(
        stats.promptTokens,
        sum((i) => prompt(i).length),
      );
      assert.equal(stats.generationTokens, sum(maxTokens));
      const timing = engine.drainStepTiming();
      // Every step but the loop's first has a predecessor, so it is timed.
      assert.equal(timing.steps, stats.steps - 1);
      assert.ok(timing.meanRows > 0 && timing.meanRows <= 8, `mean rows ${timing.meanRows}`);
      assert.ok(timing.hostMsP50 > 0 && timing.hostMsP99 >= timing.hostMsP50);
      assert.ok(timing.loopActiveMsPerStep > 0);
      assert.equal(engine.drainStepTiming().steps, 0, 'a drain starts a new window');
      const log = backend.decodeLog;
      assert.ok(
        log.some((s) => s.chunks.length === 8),
        'the batch fills up to maxNumSeqs',
      );
      assert.ok(
        log.some((s) => s.chunks.some((c) => c.rows.length === 0)),
        'some prompt is split into chunks over several steps',
      );
      assert.ok(
        log.some(
          (s) =>
            s.chunks.some((c) => c.startPosition > 0 && c.tokens.length === 1) &&
            s.chunks.some((c) => c.startPosition === 0),
        ),
        'a new request joins a step with running decodes',
      );
      // Every step's chunks are in ascending sequence id (llama.cpp decodes that order fastest).
      for (const step of log) {
        const ids = step.chunks.map((c) => c.sequenceId);
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => a - b),
          'chunks in sequence order',
        );
      }
      await assertClean(engine, backend);
    });
  }

  it('preempts when the unified pool runs short, and every request still completes right', async () => {
    const config = { maxModelLen: 64, maxNumSeqs: 8, maxNumBatchedTokens: 32, blockSize: 8 };
    const { backend, engine } = setup(config, { unified: true, totalCells: 64, maxSequences: 8 });
    // Each needs 10 + 20 = 30 cells (4 blocks of 8) at its end; the pool has 8 blocks. Requests
    // are admitted by their first chunk, so the pool runs out while they decode. (The fake
    // backend refuses a decode without free cells, so no step ever overflows the pool.)
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        collect(
          engine.add({
            id: `r${i}`,
            promptTokens: prompt(i, 10),
            params: params({ maxTokens: 20 }),
          }),
        ),
      ),
    );
    results.forEach((r, i) =>
      assert.deepEqual(r.tokenIds, successorChain(prompt(i, 10).at(-1)!, 20)),
    );
    const stats = engine.stats();
    assert.ok(stats.preemptions > 0, 'the pool ran out and requests were preempted');
    const widest = Math.max(...backend.decodeLog.map((s) => s.chunks.length));
    assert.ok(widest > 2, `${widest} requests ran together (more than their full size allows)`);
    await assertClean(engine, backend);
  });
});

describe('LlmEngine abort, failure and shutdown', { timeout: 10_000 }, () => {
  it('aborts 50 queued, prefilling and decoding requests and frees everything', async () => {
    const config = { maxModelLen: 128, maxNumSeqs: 8, maxNumBatchedTokens: 16 };
    const { backend, engine } = setup(config, { unified: false, cellsPerSequence: 128 });
    const received = new Map<number, RequestOutput[]>();
    let reached!: () => void;
    const threeTokens = new Promise<void>((resolve) => (reached = resolve));
    const streams = Array.from({ length: 50 }, (_, i) => {
      const outputs: RequestOutput[] = [];
      received.set(i, outputs);
      return (async () => {
        for await (const o of engine.add({
          id: `r${i}`,
          promptTokens: prompt(i, 24),
          params: params({ maxTokens: 100 }),
        })) {
          outputs.push(o);
          if (i === 0 && outputs.length === 3) reached();
        }
      })();
    });
    await threeTokens;
    const stats = engine.stats();
    const decoding = [...received.values()].filter((o) => o.length > 0).length;
    assert.ok(stats.waiting > 0, 'some are queued');
    assert.ok(decoding > 0, 'some are decoding');
    assert.ok(stats.running - decoding > 0, 'some are prefilling');
    for (let i = 0; i < 50; i++) engine.abort(`r${i}`);
    assert.equal(engine.stats().running, 0);
    assert.equal(engine.stats().waiting, 0);
    await Promise.all(streams);
    for (const outputs of received.values()) {
      assert.equal(outputs.at(-1)!.finishReason, 'abort');
      assert.equal(outputs.filter((o) => o.finishReason !== null).length, 1);
    }
    await assertClean(engine, backend);
    assertSteps(engine, backend, config);
    // The freed sequences are reusable: a new request runs from position 0 and is right.
    const again = await collect(
      engine.add({ id: 'r0', promptTokens: [1, 2], params: params({ maxTokens: 3 }) }),
    );
    assert.deepEqual(again.tokenIds, [3, 4, 5]);
    await assertClean(engine, backend);
  });

  it('an abort during an in-flight decode frees KV only after the decode returns', async () => {
    const config = { maxModelLen: 64, maxNumSeqs: 4, maxNumBatchedTokens: 16 };
    const { backend, engine } = setup(config, {});
    backend.onDecode = (n) => {
      if (n === 3) engine.abort('a');
    };
    const a = collect(
      engine.add({ id: 'a', promptTokens: [1, 2], params: params({ maxTokens: 10 }) }),
    );
    const b = collect(
      engine.add({ id: 'b', promptTokens: [5, 6], params: params({ maxTokens: 10 }) }),
    );
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.final.finishReason, 'abort');
    assert.deepEqual(ra.tokenIds, [3, 4]);
    assert.deepEqual(rb.tokenIds, successorChain(6, 10));
    await assertClean(engine, backend);
  });

  for (const mode of ['before', 'after'] as const) {
    it(`a failed decode (${mode} writing KV) fails only that step's requests`, async () => {
      const config = { maxModelLen: 64, maxNumSeqs: 2, maxNumBatchedTokens: 16 };
      const { backend, engine } = setup(config, {});
      backend.failures.set(3, mode);
      const run = (i: number) =>
        collect(
          engine.add({ id: `r${i}`, promptTokens: prompt(i, 3), params: params({ maxTokens: 5 }) }),
        );
      const settled = await Promise.allSettled([0, 1, 2, 3].map(run));
      for (const i of [0, 1]) {
        const s = settled[i]!;
        assert.ok(s.status === 'rejected');
        assert.match(String(s.reason), /decode failed: injected failure of decode 3/);
      }
      for (const i of [2, 3]) {
        const s = settled[i]!;
        assert.ok(s.status === 'fulfilled');
        assert.deepEqual(s.value.tokenIds, successorChain(prompt(i, 3).at(-1)!, 5));
      }
      await assertClean(engine, backend);
      const after = await run(9);
      assert.deepEqual(after.tokenIds, successorChain(prompt(9, 3).at(-1)!, 5));
      await assertClean(engine, backend);
    });
  }

  it('a consumer that stops reading aborts its request', async () => {
    const { backend, engine } = setup(
      { maxModelLen: 64, maxNumSeqs: 4, maxNumBatchedTokens: 16 },
      {},
    );
    let seen = 0;
    for await (const output of engine.add({
      id: 'a',
      promptTokens: [1],
      params: params({ maxTokens: 50 }),
    })) {
      assert.equal(output.finishReason, null);
      if (++seen === 2) break;
    }
    await assertClean(engine, backend);
    assert.ok(engine.stats().steps < 10);
  });

  it('shutdown aborts everything, waits for the step in flight and refuses new requests', async () => {
    const { backend, engine } = setup(
      { maxModelLen: 64, maxNumSeqs: 2, maxNumBatchedTokens: 16 },
      {},
    );
    const streams = [0, 1, 2].map((i) =>
      collect(
        engine.add({ id: `r${i}`, promptTokens: prompt(i, 3), params: params({ maxTokens: 40 }) }),
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    await engine.shutdown();
    for (const r of await Promise.all(streams)) assert.equal(r.final.finishReason, 'abort');
    // Nothing left in the backend, cached prefixes included: another engine may use it.
    assert.equal(backend.fake.kv.usedCells(), 0);
    await assertClean(engine, backend);
    assert.throws(() => engine.add({ id: 'x', promptTokens: [1], params: params() }), /shut down/);
    await engine.shutdown();
  });
});
