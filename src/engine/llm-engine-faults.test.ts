/**
 * A failure in one request's own work fails that request alone: the other requests of the same
 * batch run to their normal end and no KV cell is left behind. The failures: the detokenizer
 * throwing on the request's token, the backend returning a bad row for one sequence, and
 * building the request's rows (its constraints or structured output) throwing. (A failed decode
 * fails its whole batch: llm-engine-batching.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  bytesOf,
  collect,
  params,
  StrictBackend,
  successorChain,
  successorLogits,
} from './engine-test-fixtures.ts';
import { LiveRequest } from './live-request.ts';
import { LlmEngine } from './llm-engine.ts';
import type { ScheduledChunk } from './scheduler.ts';

const CONFIG = { maxModelLen: 64, maxNumSeqs: 4, maxNumBatchedTokens: 64 };

function setup() {
  const backend = new StrictBackend({ logits: successorLogits() });
  return { backend, engine: new LlmEngine(backend, CONFIG) };
}

/** Nothing runs or waits, no KV cell is in use once cached prefixes are dropped, no violation. */
async function assertClean(engine: LlmEngine, backend: StrictBackend): Promise<void> {
  await engine.whenIdle();
  engine.resetPrefixCache();
  const stats = engine.stats();
  assert.equal(stats.running, 0);
  assert.equal(stats.waiting, 0);
  assert.equal(backend.fake.kv.usedCells(), 0);
  assert.deepEqual(backend.violations, []);
}

/** Two healthy requests and the failing one, added in the same turn (one batch). */
function runBatch(engine: LlmEngine, failingPrompt: number[]) {
  const add = (id: string, prompt: number[]) =>
    collect(engine.add({ id, promptTokens: prompt, params: params({ maxTokens: 8 }) }));
  return Promise.allSettled([
    add('good-1', bytesOf('abc')),
    add('bad', failingPrompt),
    add('good-2', bytesOf('klm')),
  ]);
}

type RowsFor = (this: LiveRequest, chunk: ScheduledChunk) => ReturnType<LiveRequest['rowsFor']>;

/** Makes `LiveRequest.rowsFor` throw `message` on the calls `fails` picks (until the test ends). */
function failRowsFor(t: TestContext, fails: (request: LiveRequest) => boolean, message: string) {
  const original = Object.getOwnPropertyDescriptor(LiveRequest.prototype, 'rowsFor')!
    .value as RowsFor;
  t.mock.method(
    LiveRequest.prototype,
    'rowsFor',
    function (this: LiveRequest, chunk: ScheduledChunk) {
      if (fails(this)) throw new Error(message);
      return original.call(this, chunk);
    },
  );
}

function assertOnlyBadFailed(
  settled: Awaited<ReturnType<typeof runBatch>>,
  reason: RegExp,
  backend: StrictBackend,
): void {
  const [good1, bad, good2] = settled;
  assert.ok(bad?.status === 'rejected', 'the failing request fails');
  assert.match(String(bad.reason), reason);
  assert.ok(good1?.status === 'fulfilled' && good2?.status === 'fulfilled');
  assert.deepEqual(good1.value.tokenIds, successorChain(bytesOf('c')[0]!, 8));
  assert.equal(good1.value.final.finishReason, 'length');
  assert.deepEqual(good2.value.tokenIds, successorChain(bytesOf('m')[0]!, 8));
  // They really shared the batch with the failing request.
  assert.equal(backend.decodeLog[0]!.chunks.length, 3);
}

describe('engine fault isolation', () => {
  it('a detokenizer failure on one request fails that request only', async () => {
    const { backend, engine } = setup();
    const tokenizer = backend.fake.tokenizer;
    const tokenBytes = tokenizer.tokenBytes.bind(tokenizer);
    // '~' follows '}': only the request whose prompt ends with '}' draws it.
    tokenizer.tokenBytes = (token) => {
      if (token === 0x7e) throw new Error('detokenizer exploded on ~');
      return tokenBytes(token);
    };
    const settled = await runBatch(engine, bytesOf('{|}'));
    assertOnlyBadFailed(settled, /detokenizer exploded on ~/, backend);
    await assertClean(engine, backend);
  });

  it('a bad row the backend returns for one sequence fails that request only', async () => {
    const { backend, engine } = setup();
    backend.onResult = (decode, request, result) => {
      if (decode !== 3) return result;
      // The second request's row (one sampling row per chunk): no token drawn.
      const rows = [...result.rows];
      const index = request.chunks.findIndex((chunk) => chunk.sequenceId === 1);
      rows[index] = { ...rows[index]!, token: null };
      return { ...result, rows };
    };
    const settled = await runBatch(engine, bytesOf('xyz'));
    assertOnlyBadFailed(settled, /the backend sampled no token/, backend);
    await assertClean(engine, backend);
  });

  it("building one request's rows throwing fails that request only, and frees its KV", async (t) => {
    const { backend, engine } = setup();
    let calls = 0;
    failRowsFor(
      t,
      (live) => live.request.id === 'bad' && ++calls === 3,
      'the structured output could not compute a mask',
    );
    const settled = await runBatch(engine, bytesOf('xyz'));
    assertOnlyBadFailed(settled, /could not compute a mask/, backend);
    // The step that failed it went on with the two others.
    assert.equal(backend.decodeLog[2]!.chunks.length, 2);
    await assertClean(engine, backend);
    // The engine serves on.
    const after = await collect(
      engine.add({ id: 'after', promptTokens: bytesOf('xyz'), params: params({ maxTokens: 3 }) }),
    );
    assert.equal(after.text, '{|}');
    await assertClean(engine, backend);
  });

  it('a step whose every request fails building its rows decodes nothing and leaves no KV', async (t) => {
    const { backend, engine } = setup();
    let calls = 0;
    failRowsFor(t, () => ++calls === 2, 'no rows');
    const only = collect(
      engine.add({ id: 'only', promptTokens: bytesOf('abc'), params: params({ maxTokens: 5 }) }),
    );
    await assert.rejects(only, /no rows/);
    assert.equal(backend.decodeLog.length, 1);
    await assertClean(engine, backend);
  });
});
