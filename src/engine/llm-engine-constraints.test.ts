/**
 * min_tokens, allowed_token_ids and bad_words through the engine, on a scripted successor model
 * (logit 5 on the successor of the last token, 0 elsewhere) where the greedy choice under each
 * mask is worked out by hand: a masked successor leaves only zeros, and greedy takes the lowest
 * allowed id.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineRequestError, type SamplingParams } from './engine-types.ts';
import {
  bytesOf,
  collect,
  EOS,
  params,
  StrictBackend,
  successorLogits,
} from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';

async function generate(
  prompt: string,
  overrides: Partial<SamplingParams>,
  eosAfter: number | null = null,
) {
  const backend = new StrictBackend({ logits: successorLogits(eosAfter) });
  const engine = new LlmEngine(backend, {
    maxModelLen: 64,
    maxNumSeqs: 2,
    maxNumBatchedTokens: 16,
  });
  const result = await collect(
    engine.add({ id: 'r', promptTokens: bytesOf(prompt), params: params(overrides) }),
  );
  await engine.whenIdle();
  engine.resetPrefixCache();
  assert.equal(backend.fake.kv.usedCells(), 0);
  return result;
}

const C = 0x63;

describe('LlmEngine sampling constraints', { timeout: 10_000 }, () => {
  it('min_tokens: EOS is masked until then, so greedy takes the lowest other token', async () => {
    const free = await generate('ab', { maxTokens: 5 }, C);
    assert.deepEqual(free.tokenIds, [C, EOS]);
    const held = await generate('ab', { maxTokens: 5, minTokens: 3 }, C);
    // After 'c' EOS is masked: every other logit is 0, so token 0; then 0 -> 1 -> 2 -> 3.
    assert.deepEqual(held.tokenIds, [C, 0, 1, 2, 3]);
    assert.equal(held.final.finishReason, 'length');
    const reached = await generate('a', { maxTokens: 5, minTokens: 2 }, C);
    assert.deepEqual(
      reached.tokenIds,
      [0x62, C, EOS],
      'EOS allowed once min_tokens were generated',
    );
    assert.equal(reached.final.finishReason, 'stop');
  });

  it('min_tokens holds stop strings back until more tokens than that were generated', async () => {
    const early = await generate('a', { maxTokens: 4, stop: ['b'] });
    assert.equal(early.text, '');
    const late = await generate('a', { maxTokens: 4, stop: ['b'], minTokens: 1 });
    // 'b' is token 1 (not more than min_tokens): no stop; 'c', 'd', 'e' follow.
    assert.equal(late.text, 'bcde');
    const straddling = await generate('a', { maxTokens: 4, stop: ['bc'], minTokens: 1 });
    assert.equal(straddling.text, '', 'a stop string that completes after min_tokens still stops');
    assert.equal(straddling.final.stopReason, 'bc');
  });

  it('allowed_token_ids: greedy over the allowed tokens only', async () => {
    const result = await generate('a', { maxTokens: 3, allowedTokenIds: [0x78, 0x62] });
    // 'b' is the successor of 'a'; after 'b' the successor 'c' is not allowed: lowest allowed id.
    assert.equal(result.text, 'bbb');
  });

  it('bad_words: the last token of a word is masked after the rest of it', async () => {
    const pair = await generate('ab', { maxTokens: 3, badWords: [[C, 0x64]] });
    assert.deepEqual(pair.tokenIds, [C, 0, 1], "'d' after 'c' is masked");
    const single = await generate('ab', { maxTokens: 2, badWords: [[C]] });
    assert.deepEqual(single.tokenIds, [0, 1]);
  });

  it('penalties: greedy follows the penalized logits worked out by hand', async () => {
    // Logits 1.0, 0.9, 0.8 on tokens 0, 1, 2 and 0 elsewhere, whatever the history.
    const fixed = () => {
      const logits = new Float32Array(259);
      logits.set([1.0, 0.9, 0.8]);
      return logits;
    };
    const run = async (overrides: Partial<SamplingParams>, prompt = [7]) => {
      const backend = new StrictBackend({ logits: fixed });
      const engine = new LlmEngine(backend, {
        maxModelLen: 64,
        maxNumSeqs: 2,
        maxNumBatchedTokens: 16,
      });
      const result = await collect(
        engine.add({
          id: 'r',
          promptTokens: prompt,
          params: params({ maxTokens: 6, ...overrides }),
        }),
      );
      return result.tokenIds;
    };
    assert.deepEqual(await run({}), [0, 0, 0, 0, 0, 0]);
    // Frequency 0.15 per occurrence: 0 (1.0), 1 (0.9 > 0.85), 0 (0.85), 2 (0.8 > 0.75 > 0.7),
    // 1 (0.75), 0 (0.7 > 0.65 > 0.6).
    assert.deepEqual(await run({ frequencyPenalty: 0.15 }), [0, 1, 0, 2, 1, 0]);
    // Presence 0.15 once: 0, then 1 (0.9 > 0.85), then 0 for good (0.85 > 0.8 > 0.75).
    assert.deepEqual(await run({ presencePenalty: 0.15 }), [0, 1, 0, 0, 0, 0]);
    // Repetition 2 over prompt and output: token 0 is in the prompt (0.5), so 1, then 2
    // (1 became 0.45), then 0 (0.5 beats 0.45 and 0.4) for good.
    assert.deepEqual(await run({ repetitionPenalty: 2 }, [0]), [1, 2, 0, 0, 0, 0]);
  });
});

describe('LlmEngine scheduling policy', { timeout: 10_000 }, () => {
  async function finishOrder(policy: 'fcfs' | 'priority'): Promise<string[]> {
    const backend = new StrictBackend({ logits: successorLogits() });
    const engine = new LlmEngine(backend, {
      maxModelLen: 64,
      maxNumSeqs: 1,
      maxNumBatchedTokens: 16,
      schedulingPolicy: policy,
    });
    const order: string[] = [];
    const requests: [string, number][] = [
      ['a', 5],
      ['b', 1],
      ['c', 5],
      ['d', 0],
    ];
    await Promise.all(
      requests.map(async ([id, priority]) => {
        await collect(
          engine.add({
            id,
            promptTokens: bytesOf(id),
            params: params({ maxTokens: 2 }),
            priority: policy === 'priority' ? priority : 0,
          }),
        );
        order.push(id);
      }),
    );
    return order;
  }

  it('admits by priority (lower first, then arrival) under the priority policy', async () => {
    assert.deepEqual(await finishOrder('fcfs'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(await finishOrder('priority'), ['d', 'b', 'a', 'c']);
  });

  it("refuses a priority without the priority policy, with vLLM's message", () => {
    const engine = new LlmEngine(new StrictBackend({ logits: successorLogits() }), {
      maxModelLen: 64,
      maxNumSeqs: 1,
      maxNumBatchedTokens: 16,
    });
    assert.throws(
      () => engine.add({ id: 'x', promptTokens: [1], params: params(), priority: 3 }),
      (error: unknown) =>
        error instanceof EngineRequestError &&
        error.parameter === 'priority' &&
        error.message === 'Got priority 3 but Priority scheduling is not enabled.',
    );
  });
});
