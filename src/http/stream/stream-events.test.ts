import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestOutput } from '../../engine/engine-types.ts';
import { UsageCounter, usageOf } from './stream-events.ts';

function output(promptTokens: number, completionTokens: number, cachedTokens: number) {
  const result: RequestOutput = {
    requestId: 'r',
    text: 'x',
    tokenIds: [1],
    promptTokens,
    completionTokens,
    cachedTokens,
    finishReason: null,
    stopReason: null,
    logprobs: null,
    promptLogprobs: null,
  };
  return result;
}

describe('usageOf', () => {
  it("reports prompt_tokens_details only for a positive count, as vLLM's usage does", () => {
    assert.deepEqual(usageOf(10, 2, 7), {
      prompt_tokens: 10,
      total_tokens: 12,
      completion_tokens: 2,
      prompt_tokens_details: { cached_tokens: 7 },
    });
    assert.equal(usageOf(10, 2, 0).prompt_tokens_details, null);
    assert.equal(usageOf(10, 2).prompt_tokens_details, null);
  });
});

describe('UsageCounter', () => {
  it('reports no details without --enable-prompt-tokens-details', () => {
    const counter = new UsageCounter();
    counter.record(0, output(40, 3, 39));
    assert.equal(counter.total().prompt_tokens_details, null);
    assert.equal(counter.choice(0).prompt_tokens_details, null);
    assert.equal(counter.promptOnly(0).prompt_tokens_details, null);
  });

  it("counts each prompt's cached tokens once: its first choice's (the leader of n samples)", () => {
    const counter = new UsageCounter({ choicesPerPrompt: 3, promptTokensDetails: true });
    // Prompt 0 (choices 0-2): the leader found 32 cached, its siblings copied its KV (0).
    // Prompt 1 (choices 3-5): nothing cached. Prompt 2 (choices 6-8): 17 cached.
    // Outputs arrive in any order: a sibling's first.
    counter.record(1, output(40, 1, 0));
    assert.equal(counter.choice(1).prompt_tokens_details, null, 'only the sibling reported yet');
    counter.record(0, output(40, 1, 32));
    counter.record(2, output(40, 1, 0));
    for (const index of [3, 4, 5]) counter.record(index, output(20, 2, 0));
    counter.record(8, output(30, 1, 0));
    counter.record(6, output(30, 1, 17));
    counter.record(7, output(30, 1, 0));
    counter.record(1, output(40, 2, 0));
    assert.deepEqual(counter.total(), {
      prompt_tokens: 90,
      total_tokens: 90 + 13,
      completion_tokens: 13,
      prompt_tokens_details: { cached_tokens: 32 + 17 },
    });
    // Per choice (continuous_usage_stats): its prompt's cached tokens.
    assert.deepEqual(counter.choice(1), {
      prompt_tokens: 40,
      total_tokens: 42,
      completion_tokens: 2,
      prompt_tokens_details: { cached_tokens: 32 },
    });
    assert.equal(counter.choice(4).prompt_tokens_details, null);
    assert.deepEqual(counter.promptOnly(7), {
      prompt_tokens: 30,
      total_tokens: 30,
      completion_tokens: 0,
      prompt_tokens_details: { cached_tokens: 17 },
    });
  });

  it('reports null when no prompt token was cached', () => {
    const counter = new UsageCounter({ promptTokensDetails: true });
    counter.record(0, output(5, 1, 0));
    assert.equal(counter.total().prompt_tokens_details, null);
  });
});
