import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineRequestError, type SamplingParams } from './engine-types.ts';
import { params } from './engine-test-fixtures.ts';
import { validateEngineRequest } from './request-validation.ts';

const limits = { vocabSize: 259, maxModelLen: 32 };

function check(promptTokens: number[], overrides: Partial<SamplingParams> = {}): void {
  validateEngineRequest({ id: 'r', promptTokens, params: params(overrides) }, limits);
}

function refusedFor(parameter: string, message: RegExp, fn: () => void): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof EngineRequestError);
    assert.equal(error.parameter, parameter);
    assert.match(error.message, message);
    return true;
  });
}

describe('validateEngineRequest', () => {
  it('accepts a request that fits exactly', () => {
    check([1, 2], { maxTokens: 30 });
    check([258], { maxTokens: 1, temperature: 2, topK: 5, topP: 0.5, minP: 1 });
  });

  it('refuses an empty prompt and out-of-vocabulary prompt tokens', () => {
    refusedFor('prompt', /prompt cannot be empty/, () => check([]));
    refusedFor('prompt', /Token id 259 is out of vocabulary/, () => check([1, 259]));
    refusedFor('prompt', /Token id -1/, () => check([-1]));
    refusedFor('prompt', /Token id 1.5/, () => check([1.5]));
  });

  it('refuses maxTokens < 1', () => {
    refusedFor('max_tokens', /max_tokens must be at least 1, got 0/, () =>
      check([1], { maxTokens: 0 }),
    );
  });

  it("refuses prompt + maxTokens over maxModelLen with vLLM's numbers", () => {
    refusedFor(
      'max_tokens',
      /maximum context length is 32 tokens\. However, you requested 33 tokens \(2 in the messages, 31 in the completion\)/,
      () => check([1, 2], { maxTokens: 31 }),
    );
    refusedFor('prompt', /you requested 33 tokens/, () =>
      check(new Array<number>(32).fill(1), { maxTokens: 1 }),
    );
  });

  it('refuses sampling values the backend would reject for the whole batch', () => {
    refusedFor('temperature', /non-negative/, () => check([1], { temperature: -0.1 }));
    refusedFor('temperature', /non-negative/, () => check([1], { temperature: NaN }));
    refusedFor('top_p', /\(0, 1\]/, () => check([1], { topP: 0 }));
    refusedFor('top_p', /\(0, 1\]/, () => check([1], { topP: 1.5 }));
    refusedFor('top_k', /top_k/, () => check([1], { topK: -1 }));
    refusedFor('top_k', /top_k/, () => check([1], { topK: 2.5 }));
    refusedFor('min_p', /\[0, 1\]/, () => check([1], { minP: 2 }));
    refusedFor('stop', /empty string/, () => check([1], { stop: ['a', ''] }));
    refusedFor('stop_token_ids', /integers/, () => check([1], { stopTokenIds: [1.5] }));
  });
});
