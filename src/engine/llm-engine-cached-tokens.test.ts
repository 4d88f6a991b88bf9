/**
 * Every output reports the prompt tokens its request found in the prefix cache (vLLM's
 * num_cached_tokens, usage's cached_tokens): 0 for a cold prompt; all but the last token for a
 * prompt computed before (the last is always fed, so the request samples); 0 for a sibling that
 * copied its leader's KV; a beam search's answers report their first beam's; 0 with prefix
 * caching off. The engine's counters agree: evaluated + cached = the prompt. Both KV layouts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineRequest } from './engine-types.ts';
import {
  bytesOf,
  collect,
  params,
  StrictBackend,
  successorLogits,
  type Collected,
} from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';

/** 40 tokens: two full blocks of 16 and a partial one. */
const PROMPT = bytesOf('a prompt of forty tokens, shared by all!');

function engineFor(unified: boolean, enablePrefixCaching = true) {
  const backend = new StrictBackend({ logits: successorLogits(), kvLayout: { unified } });
  const engine = new LlmEngine(backend, {
    maxModelLen: 64,
    maxNumSeqs: 4,
    maxNumBatchedTokens: 16,
    blockSize: 16,
    enablePrefixCaching,
  });
  return { backend, engine };
}

function request(id: string, sharesPromptWith?: string): EngineRequest {
  return { id, promptTokens: PROMPT, params: params({ maxTokens: 3 }), sharesPromptWith };
}

/** The cachedTokens of every output of a stream (one value expected throughout). */
function cachedOf(collected: Collected): number[] {
  return [...new Set(collected.outputs.map((output) => output.cachedTokens))];
}

for (const unified of [false, true]) {
  describe(`RequestOutput.cachedTokens (${unified ? 'unified' : 'per-sequence'} KV)`, () => {
    it('is 0 for a cold prompt and all but its last token when it comes again', async () => {
      const { engine } = engineFor(unified);
      const first = await collect(engine.add(request('a')));
      await engine.whenIdle();
      const before = engine.stats().promptTokens;
      const second = await collect(engine.add(request('b')));
      await engine.whenIdle();
      assert.deepEqual(cachedOf(first), [0]);
      assert.deepEqual(cachedOf(second), [PROMPT.length - 1]);
      assert.equal(engine.stats().promptTokens - before, 1, 'evaluated + cached = the prompt');
    });

    it('is 0 for a sibling that copied its leader, which reports what it found', async () => {
      const { engine } = engineFor(unified);
      // The leader finds the first 35 tokens (two full blocks, then matching token by token).
      const warm = bytesOf('a prompt of forty tokens, shared by:-)');
      await collect(
        engine.add({ id: 'warm', promptTokens: warm, params: params({ maxTokens: 1 }) }),
      );
      await engine.whenIdle();
      const streams = [engine.add(request('s0')), engine.add(request('s1', 's0'))];
      const [leader, sibling] = await Promise.all(streams.map((stream) => collect(stream)));
      assert.deepEqual(cachedOf(leader!), [35]);
      assert.deepEqual(cachedOf(sibling!), [0]);
      assert.equal(engine.stats().forkedPromptTokens, PROMPT.length - 1);
    });

    // A leader whose prompt is cached but for its last token has nothing to compute before its
    // siblings fork: the engine forks them and plans again instead of planning an empty step.
    it('reports all but the last token for n samples of a prompt computed before', async () => {
      const { engine } = engineFor(unified);
      await collect(engine.add(request('warm')));
      await engine.whenIdle();
      const streams = [engine.add(request('s0')), engine.add(request('s1', 's0'))];
      const [leader, sibling] = await Promise.all(streams.map((stream) => collect(stream)));
      assert.equal(leader!.final.finishReason, 'length');
      assert.deepEqual(cachedOf(leader!), [PROMPT.length - 1]);
      assert.deepEqual(cachedOf(sibling!), [0]);
    });

    it("reports a beam search's first beam on every answer", async () => {
      const { engine } = engineFor(unified);
      await collect(engine.add(request('warm')));
      await engine.whenIdle();
      const streams = engine.addBeamSearch(request('beam'), {
        width: 2,
        lengthPenalty: 1,
        earlyStopping: false,
      });
      const answers = await Promise.all(streams.map((stream) => collect(stream)));
      assert.deepEqual(
        answers.map((answer) => cachedOf(answer)),
        [[PROMPT.length - 1], [PROMPT.length - 1]],
      );
    });

    it('is 0 with prefix caching off', async () => {
      const { engine } = engineFor(unified, false);
      await collect(engine.add(request('a')));
      await engine.whenIdle();
      assert.deepEqual(cachedOf(await collect(engine.add(request('b')))), [0]);
    });
  });
}
