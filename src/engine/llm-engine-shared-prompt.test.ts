/**
 * `n` samples of one prompt: the siblings copy the leader's prompt KV and compute only the last
 * prompt token themselves. Checked against the same requests run one by one without sharing
 * (same seeds, so the same tokens), in both KV layouts, with fewer sequences than samples, and
 * with the leader aborted before the fork; the engine must leave no KV cell behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScriptedLogits } from '../backend/fake-backend.ts';
import type { KvLayout } from '../backend/model-backend.ts';
import type { EngineRequest } from './engine-types.ts';
import { bytesOf, collect, params, StrictBackend, VOCAB } from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';

/** Smooth logits that depend on the whole history, so a wrong KV copy changes the draws. */
const historyLogits: ScriptedLogits = (tokens) => {
  let h = 0;
  for (const token of tokens) h = (h * 31 + token) % 9973;
  const logits = new Float32Array(VOCAB);
  for (let t = 0; t < VOCAB; t++) logits[t] = ((h * 17 + t * 29) % 101) / 25;
  return logits;
};

const PROMPT = bytesOf('a prompt of forty tokens, shared by all!');

function engineFor(kvLayout: Partial<KvLayout>, maxNumSeqs = 4, enablePrefixCaching = true) {
  const backend = new StrictBackend({ logits: historyLogits, kvLayout });
  const engine = new LlmEngine(backend, {
    maxModelLen: 64,
    maxNumSeqs,
    maxNumBatchedTokens: 16,
    enablePrefixCaching,
  });
  return { backend, engine };
}

function sample(index: number, leader: string | undefined): EngineRequest {
  return {
    id: `s${index}`,
    promptTokens: PROMPT,
    params: params({ temperature: 1, seed: BigInt(100 + index), maxTokens: 6 }),
    sharesPromptWith: leader,
  };
}

/** Each sample's tokens when it runs alone (no sharing). */
async function alone(count: number): Promise<number[][]> {
  const results: number[][] = [];
  for (let i = 0; i < count; i++) {
    const { engine } = engineFor({});
    results.push((await collect(engine.add(sample(i, undefined)))).tokenIds);
  }
  return results;
}

for (const unified of [true, false]) {
  describe(`n samples sharing a prompt (${unified ? 'unified' : 'per-sequence'} KV)`, () => {
    it('computes the prompt once and draws what each sample draws alone', async () => {
      const expected = await alone(3);
      const { backend, engine } = engineFor({ unified });
      const streams = [0, 1, 2].map((i) => engine.add(sample(i, i === 0 ? undefined : 's0')));
      const results = await Promise.all(streams.map((stream) => collect(stream)));
      await engine.whenIdle();
      assert.deepEqual(
        results.map((r) => r.tokenIds),
        expected,
      );
      const stats = engine.stats();
      assert.equal(stats.promptTokens, PROMPT.length - 1 + 3, 'the last prompt token per sample');
      assert.equal(stats.forkedPromptTokens, 2 * (PROMPT.length - 1));
      // The siblings' first chunks: the last prompt token alone, at its position.
      const firstChunks = backend.fake.decodeLog
        .flatMap((request) => request.chunks)
        .filter((chunk) => chunk.startPosition === PROMPT.length - 1);
      assert.equal(firstChunks.length, 3);
      assert.ok(firstChunks.every((chunk) => chunk.tokens.length === 1));
      engine.resetPrefixCache();
      assert.equal(backend.fake.kv.usedCells(), 0);
      assert.deepEqual(backend.violations, []);
    });

    for (const caching of [false, true]) {
      it(`lets samples beyond the free sequences prefill on their own (prefix caching ${caching ? 'on' : 'off'})`, async () => {
        const expected = await alone(3);
        const { backend, engine } = engineFor({ unified }, 2, caching);
        const streams = [0, 1, 2].map((i) => engine.add(sample(i, i === 0 ? undefined : 's0')));
        const results = await Promise.all(streams.map((stream) => collect(stream)));
        await engine.whenIdle();
        assert.deepEqual(
          results.map((r) => r.tokenIds),
          expected,
        );
        // The third sample waits for a sequence; by then the leader's prompt is cached (but for
        // the last token, which each sample feeds itself), or, without caching, it computes all.
        const third = caching ? 1 : PROMPT.length;
        assert.equal(engine.stats().promptTokens, PROMPT.length - 1 + 2 + third);
        assert.equal(engine.stats().prefixCacheHits, caching ? PROMPT.length - 1 : 0);
        engine.resetPrefixCache();
        assert.equal(backend.fake.kv.usedCells(), 0);
      });
    }

    it('lets the siblings prefill when the leader is aborted before the fork', async () => {
      const expected = await alone(3);
      const { backend, engine } = engineFor({ unified });
      const streams = [0, 1, 2].map((i) => engine.add(sample(i, i === 0 ? undefined : 's0')));
      engine.abort('s0');
      const results = await Promise.all(streams.map((stream) => collect(stream)));
      await engine.whenIdle();
      assert.equal(results[0]!.final.finishReason, 'abort');
      assert.deepEqual(
        results.slice(1).map((r) => r.tokenIds),
        expected.slice(1),
      );
      engine.resetPrefixCache();
      assert.equal(backend.fake.kv.usedCells(), 0);
      assert.deepEqual(backend.violations, []);
    });
  });
}

describe('n samples: what does not share', () => {
  it('shares nothing for a one-token prompt or a different prompt', async () => {
    const { engine } = engineFor({});
    const a = engine.add({ id: 'a', promptTokens: [5], params: params({ maxTokens: 2 }) });
    const b = engine.add({
      id: 'b',
      promptTokens: [5],
      params: params({ maxTokens: 2 }),
      sharesPromptWith: 'a',
    });
    const c = engine.add({
      id: 'c',
      promptTokens: [5, 6],
      params: params({ maxTokens: 2 }),
      sharesPromptWith: 'a',
    });
    await Promise.all([collect(a), collect(b), collect(c)]);
    assert.equal(engine.stats().forkedPromptTokens, 0);
    assert.equal(engine.stats().promptTokens, 4);
  });
});
