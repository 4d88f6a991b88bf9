import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScriptedLogits } from '../backend/fake-backend.ts';
import type { KvLayout } from '../backend/model-backend.ts';
import { EngineRequestError, type SamplingParams } from './engine-types.ts';
import {
  bytesOf,
  collect,
  EOS,
  IM_START,
  params,
  scriptedLogits,
  StrictBackend,
  successorLogits,
  VOCAB,
} from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';
import { deriveRowSeed } from './row-sampling.ts';

function setup(logits: ScriptedLogits = successorLogits(), kvLayout: Partial<KvLayout> = {}) {
  const backend = new StrictBackend({ logits, kvLayout });
  const engine = new LlmEngine(backend, {
    maxModelLen: 64,
    maxNumSeqs: 4,
    maxNumBatchedTokens: 32,
  });
  return { backend, engine };
}

/** Run one request to its end; check the engine and KV are clean afterwards. */
async function generate(
  prompt: string,
  overrides: Partial<SamplingParams>,
  logits: ScriptedLogits = successorLogits(),
) {
  const { backend, engine } = setup(logits);
  const result = await collect(
    engine.add({ id: 'r', promptTokens: bytesOf(prompt), params: params(overrides) }),
  );
  await engine.whenIdle();
  engine.resetPrefixCache();
  assert.equal(backend.fake.kv.usedCells(), 0);
  assert.deepEqual(backend.violations, []);
  return result;
}

describe('LlmEngine outputs', { timeout: 10_000 }, () => {
  it('greedy "abc" -> "defgh", finish length, exact counts and deltas', async () => {
    const r = await generate('abc', { maxTokens: 5 });
    assert.equal(r.text, 'defgh');
    assert.deepEqual(r.tokenIds, bytesOf('defgh'));
    assert.deepEqual(
      r.outputs.map((o) => [o.text, o.tokenIds.length, o.completionTokens, o.finishReason]),
      [
        ['d', 1, 1, null],
        ['e', 1, 2, null],
        ['f', 1, 3, null],
        ['g', 1, 4, null],
        ['h', 1, 5, 'length'],
      ],
    );
    assert.equal(r.final.stopReason, null);
    assert.equal(r.final.promptTokens, 3);
    assert.ok(r.outputs.every((o) => o.requestId === 'r'));
  });

  it('stops at EOS with stopReason null, counting EOS but not emitting its text', async () => {
    const r = await generate(
      'abc',
      { maxTokens: 10, skipSpecialTokens: false },
      successorLogits(0x66),
    );
    assert.equal(r.text, 'def');
    assert.deepEqual(r.tokenIds, [...bytesOf('def'), EOS]);
    assert.equal(r.final.finishReason, 'stop');
    assert.equal(r.final.stopReason, null);
    assert.equal(r.final.completionTokens, 4);
  });

  it('generates past EOS with ignoreEos', async () => {
    const r = await generate('abc', { maxTokens: 5, ignoreEos: true }, successorLogits(0x66));
    assert.equal(r.text, 'defX');
    assert.deepEqual(r.tokenIds, [...bytesOf('def'), EOS, 0x58]);
    assert.equal(r.final.finishReason, 'length');
  });

  it('stops on a stop token id with stopReason = the id', async () => {
    const r = await generate('abc', { maxTokens: 10, stopTokenIds: [0x66] });
    assert.equal(r.text, 'de');
    assert.deepEqual(r.tokenIds, bytesOf('def'));
    assert.equal(r.final.finishReason, 'stop');
    assert.equal(r.final.stopReason, 0x66);
    assert.equal(r.final.completionTokens, 3);
  });

  it('stop string "fg" -> "de", held back while it may still match', async () => {
    const r = await generate('abc', { maxTokens: 10, stop: ['fg'] });
    assert.deepEqual(
      r.outputs.map((o) => o.text),
      ['d', 'e', '', ''],
    );
    assert.equal(r.final.finishReason, 'stop');
    assert.equal(r.final.stopReason, 'fg');
    assert.equal(r.final.completionTokens, 4);
    const included = await generate('abc', {
      maxTokens: 10,
      stop: ['xyz', 'fg'],
      includeStopStrInOutput: true,
    });
    assert.equal(included.text, 'defg');
  });

  it('releases held-back text when the request ends by length', async () => {
    const r = await generate('abc', { maxTokens: 5, stop: ['hz'] });
    assert.deepEqual(
      r.outputs.map((o) => o.text),
      ['d', 'e', 'f', 'g', 'h'],
    );
  });

  it('streams multi-byte characters whole, never a partial one', async () => {
    const text = 'né €😀!';
    const r = await generate('p', { maxTokens: 50 }, scriptedLogits(1, [...bytesOf(text), EOS]));
    assert.equal(r.text, text);
    for (const o of r.outputs) assert.ok(!o.text.includes('\uFFFD'));
    assert.deepEqual(
      r.outputs.map((o) => o.text).filter((t) => t !== ''),
      ['n', 'é', ' ', '€', '😀', '!'],
    );
  });

  it('skips special tokens unless skipSpecialTokens is false', async () => {
    const script = [0x61, IM_START, 0x62, EOS];
    assert.equal((await generate('p', {}, scriptedLogits(1, script))).text, 'ab');
    const kept = await generate('p', { skipSpecialTokens: false }, scriptedLogits(1, script));
    assert.equal(kept.text, 'a<|im_start|>b');
  });

  it('refuses at add() a request that can never run, naming the parameter', () => {
    const { engine } = setup();
    const add = (promptTokens: number[], overrides: Partial<SamplingParams> = {}) =>
      engine.add({ id: 'x', promptTokens, params: params(overrides) });
    const refused = (parameter: string | null, fn: () => unknown) =>
      assert.throws(
        fn,
        (e: unknown) => e instanceof EngineRequestError && e.parameter === parameter,
      );
    refused('prompt', () => add([]));
    refused('prompt', () => add([1, 9999]));
    refused('max_tokens', () => add([1], { maxTokens: 0 }));
    refused('max_tokens', () => add([1, 2, 3, 4], { maxTokens: 61 }));
    refused('temperature', () => add([1], { temperature: -1 }));
    add([1, 2, 3, 4], { maxTokens: 60 });
    refused(null, () => add([1]));
    assert.equal(engine.stats().waiting, 1);
  });

  it('refuses a config the KV layout cannot honour', () => {
    const backend = new StrictBackend({
      logits: successorLogits(),
      kvLayout: { unified: false, cellsPerSequence: 32 },
    });
    assert.throws(
      () => new LlmEngine(backend, { maxModelLen: 33, maxNumSeqs: 4, maxNumBatchedTokens: 32 }),
      /maxModelLen/,
    );
    assert.throws(
      () => new LlmEngine(backend, { maxModelLen: 32, maxNumSeqs: 17, maxNumBatchedTokens: 32 }),
      /maxNumSeqs/,
    );
  });

  it('passes each row its sampling settings and the per-token seed', async () => {
    const { backend, engine } = setup();
    const p = params({ temperature: 0.5, topK: 3, topP: 0.8, minP: 0.1, seed: 77n, maxTokens: 3 });
    await collect(engine.add({ id: 'r', promptTokens: [1, 2], params: p }));
    const rows = backend.decodeLog.flatMap((d) => d.chunks.flatMap((c) => c.rows));
    assert.equal(rows.length, 3);
    rows.forEach((row, i) => {
      assert.deepEqual(row.sampling, {
        temperature: 0.5,
        topK: 3,
        topP: 0.8,
        minP: 0.1,
        seed: deriveRowSeed(77n, i),
        allowedTokens: null,
        logitBias: null,
        penalties: null,
      });
      assert.equal(row.topLogprobs, 0);
      assert.equal(row.returnLogits, false);
    });
  });

  it("passes the request's logit_bias to every row, and refuses out-of-vocabulary ids", async () => {
    const { backend, engine } = setup();
    const logitBias = new Map([
      [120, 100],
      [7, -100],
    ]);
    await collect(
      engine.add({ id: 'b', promptTokens: [1, 2], params: params({ maxTokens: 2, logitBias }) }),
    );
    const rows = backend.decodeLog.flatMap((d) => d.chunks.flatMap((c) => c.rows));
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.deepEqual([...row.sampling!.logitBias!.tokens], [120, 7]);
      assert.deepEqual([...row.sampling!.logitBias!.values], [100, -100]);
    }
    assert.throws(
      () =>
        engine.add({
          id: 'c',
          promptTokens: [1],
          params: params({ logitBias: new Map([[VOCAB, 1]]) }),
        }),
      (error: unknown) =>
        error instanceof EngineRequestError &&
        error.parameter === 'logit_bias' &&
        error.message.includes(`[${VOCAB}]`) &&
        error.message.includes(`Vocabulary size: ${VOCAB}`),
    );
  });

  it('stops the loop when idle (no polling) and restarts it for a new request', async () => {
    const { engine } = setup();
    await collect(engine.add({ id: 'a', promptTokens: [1], params: params({ maxTokens: 2 }) }));
    await engine.whenIdle();
    const steps = engine.stats().steps;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(engine.stats().steps, steps);
    const r = await collect(
      engine.add({ id: 'a', promptTokens: [1], params: params({ maxTokens: 2 }) }),
    );
    assert.deepEqual(r.tokenIds, [2, 3]);
  });

  it('lets the backend idle once its work runs out, never between steps', async () => {
    const { backend, engine } = setup();
    const a = collect(engine.add({ id: 'a', promptTokens: [1], params: params({ maxTokens: 4 }) }));
    const b = collect(engine.add({ id: 'b', promptTokens: [7], params: params({ maxTokens: 2 }) }));
    await Promise.all([a, b]);
    await engine.whenIdle();
    const first = backend.decodeLog.length;
    assert.ok(first >= 4, `${first} decodes`);
    assert.deepEqual(backend.fake.idleLog, [first]);
    await collect(engine.add({ id: 'c', promptTokens: [1], params: params({ maxTokens: 3 }) }));
    await engine.whenIdle();
    assert.deepEqual(backend.fake.idleLog, [first, backend.decodeLog.length]);
    assert.deepEqual(backend.violations, []);
  });
});
