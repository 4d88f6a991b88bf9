import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../errors.ts';
import { truncatePrompt } from './prompt-truncation.ts';

const limit = { maxModelLen: 20, maxTokens: 5, maxTokensParam: 'max_tokens' } as const;
const tokens = [1, 2, 3, 4, 5, 6, 7, 8];

describe('truncatePrompt', () => {
  it('keeps the last k tokens by default, the first k with truncation_side right', () => {
    assert.deepEqual(truncatePrompt(tokens, { truncate_prompt_tokens: 3 }, limit), [6, 7, 8]);
    assert.deepEqual(
      truncatePrompt(tokens, { truncate_prompt_tokens: 3, truncation_side: 'right' }, limit),
      [1, 2, 3],
    );
    assert.equal(truncatePrompt(tokens, { truncate_prompt_tokens: 10 }, limit), tokens);
    assert.equal(truncatePrompt(tokens, {}, limit), tokens, 'not asked: untouched');
  });

  it('takes -1 as all that fits beside the output budget (one token when there is none)', () => {
    const long = Array.from({ length: 30 }, (_, i) => i);
    assert.deepEqual(truncatePrompt(long, { truncate_prompt_tokens: -1 }, limit), long.slice(-15));
    assert.equal(
      truncatePrompt(long, { truncate_prompt_tokens: -1 }, { ...limit, maxTokens: null }).length,
      19,
    );
  });

  it("refuses a size above max_model_len - max_tokens with vLLM's message", () => {
    assert.throws(
      () =>
        truncatePrompt(
          tokens,
          { truncate_prompt_tokens: 16 },
          {
            ...limit,
            maxTokensParam: 'max_completion_tokens',
          },
        ),
      (error: unknown) =>
        error instanceof BadRequestError &&
        error.param === 'truncate_prompt_tokens' &&
        error.message ===
          'truncate_prompt_tokens=16 cannot be greater than max_model_len - max_completion_tokens = 15. ' +
            'Please request a smaller truncation size.',
    );
  });
});
