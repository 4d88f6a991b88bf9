import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { params } from '../../engine/engine-test-fixtures.ts';
import { BadRequestError } from '../errors.ts';
import { completionRequestSchema } from '../schemas/completion-request.ts';
import { parseRequest } from '../schemas/parse-request.ts';
import { PLAN_LIMITS, testTokenizer } from '../testing/test-app.ts';
import { toCompletionPlan } from './completion-params.ts';
import { resolveBestOf, resolveN, samplesOf } from './n-samples.ts';

describe('n samples', () => {
  it("bounds n with vLLM's messages", () => {
    assert.equal(resolveN(undefined, 4), 1);
    assert.equal(resolveN(null, 4), 1);
    assert.equal(resolveN(4, 4), 4);
    assert.throws(() => resolveN(0, 4), /n must be at least 1, got 0\./);
    assert.throws(
      () => resolveN(5, 4),
      (error: unknown) =>
        error instanceof BadRequestError &&
        error.param === 'n' &&
        error.message ===
          'n must be at most 4, got 5. To increase this limit, set the VLLM_MAX_N_SEQUENCES environment variable.',
    );
  });

  it('gives sample j the seed + j and the first sample as the prompt to share', () => {
    const seeded = samplesOf([1, 2], params({ temperature: 1, seed: 40n }), 3, 6);
    assert.deepEqual(
      seeded.map((s) => [s.params.seed, s.sharesPromptWith]),
      [
        [40n, null],
        [41n, 6],
        [42n, 6],
      ],
    );
    const unseeded = samplesOf([1, 2], params({ temperature: 1 }), 2, 0);
    assert.deepEqual(
      unseeded.map((s) => s.params.seed),
      [null, null],
    );
    assert.throws(
      () => samplesOf([1], params({ temperature: 0 }), 2, 0),
      /n must be 1 when using greedy sampling, got 2\./,
    );
    assert.equal(samplesOf([1], params({ temperature: 0 }), 1, 0).length, 1);
  });

  it('orders completions choices prompt-major, echoing each prompt n times', () => {
    const plan = toCompletionPlan(
      parseRequest(completionRequestSchema, {
        prompt: ['ab', 'cde'],
        n: 2,
        seed: 7,
        echo: true,
        max_tokens: 2,
      }),
      { tokenizer: testTokenizer(), vocabSize: 259, maxModelLen: 32, ...PLAN_LIMITS },
    );
    assert.equal(plan.choicesPerPrompt, 2);
    assert.deepEqual(
      plan.requests.map((r) => [r.promptTokens.length, r.params.seed, r.sharesPromptWith]),
      [
        [2, 7n, null],
        [2, 8n, 0],
        [3, 7n, null],
        [3, 8n, 2],
      ],
    );
    assert.deepEqual(
      plan.echo.map((e) => e?.text),
      ['ab', 'ab', 'cde', 'cde'],
    );
  });

  it("bounds the legacy best_of with vLLM's messages", () => {
    assert.equal(resolveBestOf(undefined, 2, false, 16), 2);
    assert.equal(resolveBestOf(2, 2, true, 16), 2, 'best_of = n streams as n does');
    assert.equal(resolveBestOf(5, 2, false, 16), 5);
    const refuses = (run: () => unknown, message: string | RegExp) =>
      assert.throws(
        run,
        (error: unknown) =>
          error instanceof BadRequestError &&
          error.param === 'best_of' &&
          (typeof message === 'string' ? error.message === message : message.test(error.message)),
      );
    refuses(
      () => resolveBestOf(1, 2, false, 16),
      'best_of must be greater than or equal to n, got n=2 and best_of=1.',
    );
    refuses(() => resolveBestOf(3, 2, true, 16), /^best_of > n cannot be streamed/);
    refuses(() => resolveBestOf(17, 2, false, 16), 'best_of must be at most 16, got 17.');
    refuses(
      () => samplesOf([1], params({ temperature: 0 }), 3, 0, 'best_of'),
      'best_of must be 1 when using greedy sampling.Got 3.',
    );
  });
});
