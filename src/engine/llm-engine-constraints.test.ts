/**
 * min_tokens, allowed_token_ids and bad_words through the engine, on a scripted successor model
 * (logit 5 on the successor of the last token, 0 elsewhere) where the greedy choice under each
 * mask is worked out by hand: a masked successor leaves only zeros, and greedy takes the lowest
 * allowed id.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SamplingParams } from './engine-types.ts';
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
});
