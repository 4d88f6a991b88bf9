/**
 * Admission control in the engine (admission.ts, `maxWaitingRequests`): the engine holds at
 * most maxNumSeqs + maxWaitingRequests requests, refuses the next with EngineOverloadedError
 * (reported to the metrics sink), takes requests again once some leave, counts a beam search
 * as its width, refuses a call that could never fit with an EngineRequestError, and reports
 * where each request is (`requestPhase`, `liveRequests`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAdmission } from './admission.ts';
import { validateEngineConfig } from './engine-config.ts';
import { EngineOverloadedError, EngineRequestError, type RequestOutput } from './engine-types.ts';
import {
  bytesOf,
  collect,
  params,
  StrictBackend,
  successorLogits,
} from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';
import type { EngineMetricsSink } from './request-clock.ts';

function setup(maxWaitingRequests: number) {
  const backend = new StrictBackend({ logits: successorLogits() });
  let rejected = 0;
  const metrics: EngineMetricsSink = {
    step: () => {},
    timeToFirstToken: () => {},
    interTokenLatency: () => {},
    finished: () => {},
    rejected: () => rejected++,
  };
  const engine = new LlmEngine(
    backend,
    { maxModelLen: 64, maxNumSeqs: 2, maxNumBatchedTokens: 32, maxWaitingRequests },
    metrics,
  );
  return { backend, engine, rejections: () => rejected };
}

function request(id: string, maxTokens = 8, siblings = 1) {
  return { id, promptTokens: bytesOf('abc'), params: params({ maxTokens }), siblings };
}

describe('LlmEngine admission control', { timeout: 10_000 }, () => {
  it('holds maxNumSeqs + maxWaitingRequests, refuses the next, admits again once one leaves', async () => {
    const { engine, backend, rejections } = setup(3);
    const streams = ['a', 'b', 'c', 'd', 'e'].map((id) => engine.add(request(id)));
    assert.equal(engine.liveRequests, 5);
    assert.throws(() => engine.add(request('f')), EngineOverloadedError);
    assert.equal(rejections(), 1);
    assert.equal(engine.liveRequests, 5, 'a refusal leaves nothing behind');
    assert.equal(engine.requestPhase('f'), null);
    // Once a queued request leaves, there is a place again.
    engine.abort('e');
    const g = engine.add(request('g'));
    assert.throws(() => engine.add(request('h')), EngineOverloadedError);
    assert.equal(rejections(), 2);
    const done = await Promise.all([...streams.slice(0, 4), g].map(collect));
    assert.deepEqual(
      done.map((r) => r.text),
      ['defghijk', 'defghijk', 'defghijk', 'defghijk', 'defghijk'],
    );
    await engine.whenIdle();
    assert.deepEqual(
      [engine.stats().running, engine.stats().waiting, engine.liveRequests],
      [0, 0, 0],
    );
    engine.resetPrefixCache();
    assert.equal(backend.fake.kv.usedCells(), 0);
  });

  it('reports each request as waiting, prefilling or decoding, and null once gone', async () => {
    const { engine } = setup(8);
    const a = engine.add(request('a', 4));
    // 60 prompt tokens, 32 a step: "a" (3) and 29 of them in the first step, then 31 more.
    const long = engine.add({
      id: 'long',
      promptTokens: bytesOf('a'.repeat(60)),
      params: params({ maxTokens: 4 }),
    });
    const queued = engine.add(request('q', 4));
    const ids = ['a', 'long', 'q'];
    assert.deepEqual(
      ids.map((id) => engine.requestPhase(id)),
      ['waiting', 'waiting', 'waiting'],
    );
    // After the first step: "a" decodes, "long" still prefills, "q" waits for a place
    // (maxNumSeqs 2).
    const first = await a[Symbol.asyncIterator]().next();
    assert.equal((first.value as RequestOutput).text, 'd');
    assert.deepEqual(
      ids.map((id) => engine.requestPhase(id)),
      ['decoding', 'prefilling', 'waiting'],
    );
    engine.abort('q');
    assert.equal(engine.requestPhase('q'), null);
    assert.equal((await collect(queued)).outputs.at(-1)?.finishReason, 'abort');
    assert.equal((await collect(long)).outputs.at(-1)?.finishReason, 'length');
    engine.abort('a');
    await engine.whenIdle();
    assert.deepEqual(
      ids.map((id) => engine.requestPhase(id)),
      [null, null, null],
    );
    assert.equal(engine.liveRequests, 0);
  });

  it('counts a beam search as its width', () => {
    const { engine } = setup(2);
    engine.add(request('a'));
    engine.add(request('b'));
    // 2 held, capacity 4: a beam search of width 2 fits, the next of width 2 does not.
    engine.addBeamSearch(request('beams'), { width: 2, lengthPenalty: 1, earlyStopping: false });
    assert.throws(
      () =>
        engine.addBeamSearch(request('more'), { width: 2, lengthPenalty: 1, earlyStopping: false }),
      EngineOverloadedError,
    );
    assert.equal(engine.requestPhase('beams'), 'waiting');
    assert.equal(engine.liveRequests, 3);
  });

  it('refuses a call that could never fit with a 400-style error naming n', () => {
    const { engine } = setup(3);
    // maxNumSeqs 2 + maxWaitingRequests 3: a call of 6 requests never fits, even idle.
    assert.throws(
      () => engine.add(request('big', 8, 6)),
      (error: unknown) => error instanceof EngineRequestError && error.parameter === 'n',
    );
    assert.equal(engine.liveRequests, 0);
    engine.add(request('fits', 8, 5));
  });

  it('checks the rule and the configuration', () => {
    const state = { running: 2, waiting: 3, maxNumSeqs: 2, maxWaitingRequests: 4 };
    checkAdmission(state, 1, 1);
    assert.throws(() => checkAdmission(state, 2, 2), EngineOverloadedError);
    assert.throws(() => checkAdmission(state, 1, 7), EngineRequestError);
    const layout = new StrictBackend({ logits: successorLogits() }).kvLayout;
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () =>
          validateEngineConfig(
            { maxModelLen: 64, maxNumSeqs: 2, maxNumBatchedTokens: 32, maxWaitingRequests: bad },
            layout,
          ),
        /maxWaitingRequests/,
      );
    }
  });
});
