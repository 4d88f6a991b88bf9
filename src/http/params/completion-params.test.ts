import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, BadRequestError } from '../errors.ts';
import { completionRequestSchema } from '../schemas/completion-request.ts';
import { parseRequest } from '../schemas/parse-request.ts';
import { PLAN_LIMITS, testTokenizer } from '../testing/test-app.ts';
import { toCompletionPlan, type PlanContext } from './completion-params.ts';
import { resolveMaxTokens } from './context-limit.ts';

const context: PlanContext = {
  tokenizer: testTokenizer(),
  vocabSize: 259,
  maxModelLen: 32,
  ...PLAN_LIMITS,
};

function plan(body: unknown, planContext: PlanContext = context) {
  return toCompletionPlan(parseRequest(completionRequestSchema, body), planContext);
}

function rejects(body: unknown, message: string | RegExp, param: string | null): void {
  assert.throws(
    () => plan(body),
    (error: unknown) => {
      assert.ok(error instanceof ApiError && error.status === 400, String(error));
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      assert.equal(error.param, param);
      return true;
    },
  );
}

describe('toCompletionPlan: prompts', () => {
  it('makes one request per prompt, in order, for all four prompt forms', () => {
    const bytes = (text: string) => [...Buffer.from(text)];
    assert.deepEqual(
      plan({ prompt: 'hi' }).requests.map((r) => r.promptTokens),
      [bytes('hi')],
    );
    assert.deepEqual(
      plan({ prompt: ['a', 'bc'] }).requests.map((r) => r.promptTokens),
      [bytes('a'), bytes('bc')],
    );
    assert.deepEqual(
      plan({ prompt: [5, 6, 7] }).requests.map((r) => r.promptTokens),
      [[5, 6, 7]],
    );
    assert.deepEqual(
      plan({ prompt: [[1], [2, 3]] }).requests.map((r) => r.promptTokens),
      [[1], [2, 3]],
    );
  });

  it('parses special-token text in prompts', () => {
    assert.deepEqual(plan({ prompt: '<|im_start|>x' }).requests[0]!.promptTokens, [257, 120]);
  });

  it("refuses empty and malformed prompts with vLLM's messages", () => {
    const empty = 'Value error, Either prompt or prompt_embeds must be provided and non-empty.';
    rejects({}, empty, 'prompt');
    rejects({ prompt: '' }, empty, 'prompt');
    rejects({ prompt: [] }, empty, 'prompt');
    rejects({ prompt: [[]] }, 'The decoder prompt cannot be empty', 'prompt');
    rejects({ prompt: [-1] }, /greater than or equal to 0/, 'prompt');
    rejects({ prompt: [[1, -1]] }, /greater than or equal to 0/, 'prompt');
    rejects({ prompt: [300] }, 'Token id 300 is out of vocabulary', 'prompt');
    rejects({ prompt: 5 }, /prompt must be a string, array of strings, array of tokens/, 'prompt');
    rejects({ prompt: ['a', [1]] }, /prompt must be a string/, 'prompt');
  });

  it('builds the infill prompt around each prompt when the model has fill-in-the-middle tokens', () => {
    // Test ids: 256 as BOS, 257/258 standing in for FIM_PRE/FIM_SUF, 10 for FIM_MID.
    const infill = { prefix: 257, suffix: 258, middle: 10, bos: 256 };
    const fim: PlanContext = { ...context, infill };
    const prompts = (body: Record<string, unknown>, planContext: PlanContext = fim) =>
      plan(body, planContext).requests.map((r) => r.promptTokens);
    const bytes = (text: string) => [...Buffer.from(text)];
    assert.deepEqual(prompts({ prompt: 'ab', suffix: 'yz' }), [
      [256, 257, ...bytes('ab'), 258, ...bytes('yz'), 10],
    ]);
    assert.deepEqual(
      prompts({ prompt: 'ab', suffix: 'yz', add_special_tokens: false }),
      [[257, ...bytes('ab'), 258, ...bytes('yz'), 10]],
      'no BOS without add_special_tokens',
    );
    assert.deepEqual(
      prompts({ prompt: 'ab', suffix: '' }, { ...context, infill: { ...infill, bos: null } }),
      [[257, ...bytes('ab'), 258, 10]],
      'no BOS for a model that adds none',
    );
    assert.deepEqual(
      prompts({ prompt: [[1, 2], [3]], suffix: '<|im_end|>' }),
      [
        [256, 257, 1, 2, 258, ...bytes('<|im_end|>'), 10],
        [256, 257, 3, 258, ...bytes('<|im_end|>'), 10],
      ],
      'token prompts as given; special-token text stays text',
    );
    assert.deepEqual(
      prompts({ prompt: 'abcd', suffix: 'z', truncate_prompt_tokens: 2 }),
      [[256, 257, ...bytes('cd'), 258, ...bytes('z'), 10]],
      'truncation shortens the prompt, not the layout',
    );
    const echoed = plan({ prompt: 'ab', suffix: 'z', echo: true, max_tokens: 1 }, fim);
    assert.equal(echoed.echo[0]!.text, '<|endoftext|><|im_start|>ab<|im_end|>z\n');
    assert.deepEqual(echoed.echo[0]!.tokens, echoed.requests[0]!.promptTokens);
  });

  it("refuses suffix and bad logprobs counts with vLLM's messages", () => {
    rejects({ prompt: 'x', suffix: 's' }, 'suffix is not currently supported', 'suffix');
    rejects(
      { prompt: 'x', logprobs: -1 },
      'Value error, `logprobs` must be a positive value.',
      'logprobs',
    );
    rejects(
      { prompt: 'x', logprobs: 21 },
      'Requested sample logprobs of 21, which is greater than max allowed: 20',
      'logprobs',
    );
    rejects(
      { prompt: 'x', prompt_logprobs: -2 },
      'Value error, `prompt_logprobs` must be a positive value or -1.',
      'prompt_logprobs',
    );
    rejects(
      { prompt: 'x', prompt_logprobs: 0, stream: true, logprobs: 30 },
      'Requested sample logprobs of 30, which is greater than max allowed: 20',
      'logprobs',
    );
  });

  it('resolves logprobs and echo: prompt logprobs default to logprobs when echoing', () => {
    const plain = plan({ prompt: 'ab', logprobs: 2 });
    assert.deepEqual(plain.logprobs, { topCount: 2, asIds: false });
    assert.deepEqual(plain.echo, [null]);
    assert.equal(plain.requests[0]!.params.logprobs, 2);
    assert.equal(plain.requests[0]!.params.promptLogprobs, null);

    const echoed = plan({
      prompt: [
        [97, 98],
        [99, 258],
      ],
      logprobs: 1,
      echo: true,
      max_tokens: 3,
    });
    assert.deepEqual(echoed.echo, [
      { text: 'ab', tokens: [97, 98], only: false },
      { text: 'c<|im_end|>', tokens: [99, 258], only: false },
    ]);
    assert.equal(plan({ prompt: 'hi', echo: true }).echo[0]!.text, 'hi', 'a text prompt as given');
    assert.deepEqual(
      echoed.requests.map((r) => [r.params.logprobs, r.params.promptLogprobs, r.params.maxTokens]),
      [
        [1, 1],
        [1, 1],
      ].map((pair) => [...pair, 3]),
    );
    const own = plan({ prompt: 'ab', logprobs: 1, echo: true, prompt_logprobs: 4 });
    assert.equal(own.requests[0]!.params.promptLogprobs, 4, 'an explicit prompt_logprobs wins');
    const noLogprobs = plan({ prompt: 'ab', echo: true });
    assert.equal(noLogprobs.requests[0]!.params.promptLogprobs, null);
  });

  it('answers echo with max_tokens 0 from one generated token, and refuses max_tokens 0 alone', () => {
    const only = plan({ prompt: 'ab', echo: true, max_tokens: 0 });
    assert.equal(only.requests[0]!.params.maxTokens, 1);
    assert.equal(only.echo[0]!.only, true);
    rejects({ prompt: 'ab', max_tokens: 0 }, 'max_tokens must be at least 1, got 0.', 'max_tokens');
  });
});

describe('toCompletionPlan: max_tokens and the context', () => {
  it('defaults to 16 tokens; explicit null fills the context', () => {
    assert.equal(plan({ prompt: 'abc' }).requests[0]!.params.maxTokens, 16);
    assert.equal(plan({ prompt: 'abc', max_tokens: null }).requests[0]!.params.maxTokens, 29);
    assert.equal(plan({ prompt: 'abc', max_tokens: 29 }).requests[0]!.params.maxTokens, 29);
  });

  it('resolves the budget per prompt', () => {
    const { requests } = plan({ prompt: ['a', 'abcd'], max_tokens: null });
    assert.deepEqual(
      requests.map((r) => r.params.maxTokens),
      [31, 28],
    );
  });

  it("refuses what does not fit with vLLM's messages, truncating nothing", () => {
    rejects(
      { prompt: 'abcd', max_tokens: 29 },
      "This model's maximum context length is 32 tokens. However, you requested 29 output tokens " +
        'and your prompt contains 4 input tokens, for a total of 33 tokens. Please reduce the ' +
        'length of the input prompt or the number of requested output tokens.',
      'input_tokens',
    );
    rejects(
      { prompt: 'a', max_tokens: 33 },
      'max_tokens=33 cannot be greater than max_model_len=max_total_tokens=32. Please request ' +
        'fewer output tokens.',
      'max_tokens',
    );
    rejects({ prompt: 'a', max_tokens: 0 }, 'max_tokens must be at least 1, got 0.', 'max_tokens');
  });
});

describe('resolveMaxTokens', () => {
  const limit = { param: 'max_tokens', maxModelLen: 100 } as const;
  it('fills the rest of the context when nothing is requested (vLLM: 7-token prompt -> 93)', () => {
    assert.equal(resolveMaxTokens({ ...limit, requested: null, promptTokens: 7 }), 93);
    assert.equal(resolveMaxTokens({ ...limit, requested: 10, promptTokens: 7 }), 10);
    assert.equal(resolveMaxTokens({ ...limit, requested: 93, promptTokens: 7 }), 93);
  });

  it('refuses prompts that leave no room', () => {
    assert.throws(
      () => resolveMaxTokens({ ...limit, requested: null, promptTokens: 100 }),
      /^BadRequestError: The decoder prompt \(length 100\) plus the number of requested output tokens \(at least 1\) is longer than the maximum model length of 100\./,
    );
    assert.throws(
      () => resolveMaxTokens({ ...limit, requested: null, promptTokens: 101 }),
      /^BadRequestError: The decoder prompt \(length 101\) is longer than the maximum model length of 100\. Make sure that `max_model_len` is no smaller than the number of text tokens\.$/,
    );
  });

  it('names max_completion_tokens when that is what was sent', () => {
    assert.throws(
      () =>
        resolveMaxTokens({
          param: 'max_completion_tokens',
          maxModelLen: 10,
          requested: 11,
          promptTokens: 1,
        }),
      (error: unknown) =>
        error instanceof BadRequestError &&
        error.param === 'max_completion_tokens' &&
        error.message.startsWith('max_completion_tokens=11 cannot be greater than'),
    );
  });
});
