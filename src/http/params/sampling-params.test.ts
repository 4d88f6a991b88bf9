import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, BadRequestError } from '../errors.ts';
import type { CommonRequest } from '../schemas/common-fields.ts';
import { rejectUnsupportedCommon, resolveStreamMode } from './request-checks.ts';
import { resolveLogitBias, resolveSamplingParams } from './sampling-params.ts';

function rejects(run: () => unknown, message: string, param: string | null): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ApiError && error.status === 400, String(error));
    assert.equal(error.message, message);
    assert.equal(error.param, param);
    return true;
  });
}

describe('resolveSamplingParams', () => {
  it("resolves vLLM's defaults", () => {
    assert.deepEqual(resolveSamplingParams({}, 16, 259), {
      temperature: 1,
      topP: 1,
      topK: 0,
      minP: 0,
      seed: null,
      maxTokens: 16,
      stop: [],
      stopTokenIds: [],
      includeStopStrInOutput: false,
      ignoreEos: false,
      skipSpecialTokens: true,
      logitBias: null,
      logprobs: null,
      promptLogprobs: null,
      presencePenalty: 0,
      frequencyPenalty: 0,
      repetitionPenalty: 1,
      minTokens: 0,
      allowedTokenIds: null,
      badWords: [],
      structuredOutput: null,
    });
  });

  it("resolves penalties, min_tokens and allowed_token_ids with vLLM's ranges and messages", () => {
    const p = resolveSamplingParams(
      {
        presence_penalty: 0.5,
        frequency_penalty: -2,
        repetition_penalty: 1.3,
        min_tokens: 4,
        allowed_token_ids: [3, 1],
      },
      4,
      259,
    );
    assert.deepEqual(
      [p.presencePenalty, p.frequencyPenalty, p.repetitionPenalty, p.minTokens, p.allowedTokenIds],
      [0.5, -2, 1.3, 4, [3, 1]],
    );
    const cases: [CommonRequest, string, string][] = [
      [
        { presence_penalty: 3 },
        'presence_penalty must be in [-2, 2], got 3.0.',
        'presence_penalty',
      ],
      [
        { frequency_penalty: -2.5 },
        'frequency_penalty must be in [-2, 2], got -2.5.',
        'frequency_penalty',
      ],
      [
        { repetition_penalty: 0 },
        'repetition_penalty must be greater than zero, got 0.0.',
        'repetition_penalty',
      ],
      [{ min_tokens: -1 }, 'min_tokens must be greater than or equal to 0, got -1.', 'min_tokens'],
      [
        { min_tokens: 5 },
        'min_tokens must be less than or equal to max_tokens=4, got 5.',
        'min_tokens',
      ],
      [{ allowed_token_ids: [] }, 'allowed_token_ids is not None and empty!', 'allowed_token_ids'],
      [
        { allowed_token_ids: [1, 259] },
        'allowed_token_ids contains out-of-vocab token id!',
        'allowed_token_ids',
      ],
    ];
    for (const [request, message, param] of cases) {
      rejects(() => resolveSamplingParams(request, 4, 259), message, param);
    }
  });

  it('keeps repetition_penalty and top_p inside what the float32 samplers take (found by the fuzzer: 500s)', () => {
    // 5e-324 and 1e39 are not positive finite float32s; 1e-40 overflows a logit of 5 to +Infinity.
    const repetition = (value: number) =>
      resolveSamplingParams({ repetition_penalty: value }, 4, 259).repetitionPenalty;
    assert.equal(repetition(5e-324), 1e-30);
    assert.equal(repetition(1e-40), 1e-30);
    assert.equal(repetition(1e39), 1e30);
    assert.equal(repetition(1.3), 1.3);
    const topP = resolveSamplingParams({ top_p: 5e-324 }, 4, 259).topP;
    assert.ok(Math.fround(topP) > 0, `top_p ${topP} is 0 as a float32`);
    assert.equal(resolveSamplingParams({ top_p: 0.3 }, 4, 259).topP, 0.3);
  });

  it('treats null like absent', () => {
    const request: CommonRequest = { temperature: null, top_p: null, top_k: null, seed: null };
    assert.deepEqual(resolveSamplingParams(request, 4, 259), resolveSamplingParams({}, 4, 259));
  });

  it('passes explicit values through', () => {
    const params = resolveSamplingParams(
      {
        temperature: 0.7,
        top_p: 0.9,
        top_k: 40,
        min_p: 0.05,
        seed: 1234567890123456789n,
        stop: ['\n', 'END'],
        stop_token_ids: [7],
        include_stop_str_in_output: true,
        ignore_eos: true,
        skip_special_tokens: false,
      },
      8,
      259,
    );
    assert.equal(params.temperature, 0.7);
    assert.equal(params.topP, 0.9);
    assert.equal(params.topK, 40);
    assert.equal(params.minP, 0.05);
    assert.equal(params.seed, 1234567890123456789n);
    assert.deepEqual(params.stop, ['\n', 'END']);
    assert.deepEqual(params.stopTokenIds, [7]);
    assert.equal(params.includeStopStrInOutput, true);
    assert.equal(params.ignoreEos, true);
    assert.equal(params.skipSpecialTokens, false);
  });

  it('maps top_k -1 to 0, a single stop string to a list, seed -1 to none', () => {
    const params = resolveSamplingParams({ top_k: -1, stop: 'x', seed: -1n }, 1, 259);
    assert.equal(params.topK, 0);
    assert.deepEqual(params.stop, ['x']);
    assert.equal(params.seed, null);
  });

  it('raises tiny positive temperatures to 0.01 and makes 0 greedy', () => {
    assert.equal(resolveSamplingParams({ temperature: 0.001 }, 1, 259).temperature, 0.01);
    const greedy = resolveSamplingParams(
      { temperature: 0, top_p: 0.5, top_k: 3, min_p: 0.2 },
      1,
      259,
    );
    assert.deepEqual([greedy.temperature, greedy.topP, greedy.topK, greedy.minP], [0, 1, 0, 0]);
  });

  it("refuses out-of-range values with vLLM's messages", () => {
    rejects(
      () => resolveSamplingParams({ temperature: -1 }, 1, 259),
      'temperature must be non-negative, got -1.0.',
      'temperature',
    );
    rejects(
      () => resolveSamplingParams({ top_p: 0 }, 1, 259),
      'top_p must be in (0, 1], got 0.0.',
      'top_p',
    );
    rejects(
      () => resolveSamplingParams({ top_p: 1.5 }, 1, 259),
      'top_p must be in (0, 1], got 1.5.',
      'top_p',
    );
    rejects(
      () => resolveSamplingParams({ top_k: -2 }, 1, 259),
      'top_k must be 0 (disable), or at least 1, got -2.',
      'top_k',
    );
    rejects(
      () => resolveSamplingParams({ min_p: 2 }, 1, 259),
      'min_p must be in [0, 1], got 2.0.',
      'min_p',
    );
    rejects(
      () => resolveSamplingParams({}, 0, 259),
      'max_tokens must be at least 1, got 0.',
      'max_tokens',
    );
    rejects(
      () => resolveSamplingParams({ stop: ['a', ''] }, 1, 259),
      'stop cannot contain an empty string.',
      'stop',
    );
  });
});

describe('resolveLogitBias', () => {
  it('maps token-id keys to values clamped to [-100, 100]', () => {
    const bias = resolveLogitBias({ '5': 10, '7': -250, '258': 101 }, 259);
    assert.deepEqual(
      [...bias!],
      [
        [5, 10],
        [7, -100],
        [258, 100],
      ],
    );
    assert.equal(resolveLogitBias({}, 259), null);
    assert.equal(resolveLogitBias(null, 259), null);
  });

  it("refuses out-of-vocabulary ids with vLLM's message, and keys that are not ids", () => {
    assert.throws(
      () => resolveLogitBias({ '258': 1, '260': 1, '-1': 2 }, 259),
      (error: unknown) =>
        error instanceof BadRequestError &&
        error.param === 'logit_bias' &&
        error.message ===
          'token_id(s) [260, -1] in logit_bias contain out-of-vocab token ids. Vocabulary size: 259',
    );
    assert.throws(
      () => resolveLogitBias({ hello: 1 }, 259),
      (error: unknown) => error instanceof BadRequestError && error.param === 'logit_bias',
    );
  });
});

describe('resolveStreamMode', () => {
  it('needs stream=true for any stream option, but allows {}', () => {
    rejects(
      () => resolveStreamMode({ stream_options: { include_usage: null } }),
      'Value error, Stream options can only be defined when `stream=True`.',
      'stream_options',
    );
    assert.deepEqual(resolveStreamMode({ stream_options: {} }), {
      stream: false,
      includeUsage: false,
      continuousUsage: false,
    });
  });

  it('takes continuous usage only together with include_usage', () => {
    const only = resolveStreamMode({
      stream: true,
      stream_options: { continuous_usage_stats: true },
    });
    assert.deepEqual(only, { stream: true, includeUsage: false, continuousUsage: false });
    const both = resolveStreamMode({
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    assert.deepEqual(both, { stream: true, includeUsage: true, continuousUsage: true });
  });

  it('forces usage on every chunk of a stream under --enable-force-include-usage', () => {
    const full = { stream: true, includeUsage: true, continuousUsage: true };
    assert.deepEqual(resolveStreamMode({ stream: true }, true), full);
    assert.deepEqual(
      resolveStreamMode({ stream: true, stream_options: { include_usage: false } }, true),
      full,
    );
    assert.deepEqual(resolveStreamMode({}, true), {
      stream: false,
      includeUsage: false,
      continuousUsage: false,
    });
  });
});

describe('rejectUnsupportedCommon', () => {
  it('accepts defaults and output-neutral fields', () => {
    rejectUnsupportedCommon({
      n: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      repetition_penalty: 1,
      logit_bias: {},
      use_beam_search: false,
      min_tokens: 0,
      spaces_between_special_tokens: true,
      response_format: { type: 'text' },
      priority: 0,
      return_token_ids: false,
      echo: false,
      user: 'someone',
      cache_salt: 'salt',
      length_penalty: 2,
    });
  });

  it('refuses non-default values it cannot honour yet, naming the parameter', () => {
    const cases: [CommonRequest, string][] = [
      [{ repetition_detection: { min_count: 2 } }, 'repetition_detection'],
      [{ thinking_token_budget: 10 }, 'thinking_token_budget'],
    ];
    for (const [request, param] of cases) {
      assert.throws(
        () => rejectUnsupportedCommon(request),
        (error: unknown) =>
          error instanceof BadRequestError &&
          error.param === param &&
          error.message.includes('not supported yet'),
        param,
      );
    }
  });

  it("validates before refusing, with vLLM's messages", () => {
    rejects(
      () => rejectUnsupportedCommon({ response_format: { type: 'json_schema' } }),
      "Value error, When response_format type is 'json_schema', the 'json_schema' field must be provided.",
      'response_format',
    );
    rejects(
      () => rejectUnsupportedCommon({ cache_salt: '' }),
      "Value error, Parameter 'cache_salt' must be a non-empty string if provided.",
      'cache_salt',
    );
  });
});
