/**
 * The OpenAI schema check of test/support/openai-schemas.ts can fail: a vLLM-shaped answer passes
 * with its known deviations aligned, and any other departure from OpenAI's schema is caught,
 * also next to the aligned places.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertOpenAiType } from './support/openai-schemas.ts';

const ANSWER = {
  id: 'cmpl-1',
  object: 'text_completion',
  created: 1,
  model: 'm',
  choices: [
    {
      index: 0,
      text: 'abc',
      logprobs: { tokens: ['a'], token_logprobs: [null], top_logprobs: [null], text_offset: [0] },
      finish_reason: 'length',
      stop_reason: null,
    },
  ],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, prompt_tokens_details: null },
};

describe('OpenAI schema check', () => {
  it('passes a vLLM answer, its known deviations aligned', () => {
    assertOpenAiType('CreateCompletionResponse', ANSWER);
  });

  for (const [what, broken] of [
    ['a wrong object', { ...ANSWER, object: 'completion' }],
    ['a missing id', { ...ANSWER, id: undefined }],
    ['a string created', { ...ANSWER, created: '1' }],
    [
      'details of the wrong type',
      { ...ANSWER, usage: { ...ANSWER.usage, prompt_tokens_details: 'x' } },
    ],
    [
      'an unknown finish reason',
      { ...ANSWER, choices: [{ ...ANSWER.choices[0], finish_reason: 'eos' }] },
    ],
  ] as const) {
    it(`catches ${what}`, () => {
      const body = JSON.parse(JSON.stringify(broken)) as unknown;
      assert.throws(() => assertOpenAiType('CreateCompletionResponse', body), /not a valid/);
    });
  }
});
