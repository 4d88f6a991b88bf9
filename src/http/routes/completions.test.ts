import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineRequestError } from '../../engine/engine-types.ts';
import { ScriptedEngine } from '../testing/scripted-engine.ts';
import { sseEvents, testApp } from '../testing/test-app.ts';
import type { ErrorBody } from '../errors.ts';
import type { CompletionChunk, CompletionResponse } from '../wire-types.ts';

const URL = '/v1/completions';

describe('POST /v1/completions', () => {
  it('answers a non-streaming completion with vLLM fields and exact usage', async () => {
    const { app, engine } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { model: 'test-model', prompt: 'hello', max_tokens: 3 },
    });
    assert.equal(response.statusCode, 200);
    const body = response.json<CompletionResponse>();
    assert.match(body.id, /^cmpl-[0-9a-f]{16}$/);
    assert.equal(body.object, 'text_completion');
    assert.equal(typeof body.created, 'number');
    assert.equal(body.model, 'test-model');
    assert.deepEqual(body.choices, [
      {
        index: 0,
        text: 'aaa',
        logprobs: null,
        finish_reason: 'length',
        stop_reason: null,
        token_ids: null,
        prompt_logprobs: null,
        prompt_token_ids: null,
      },
    ]);
    assert.deepEqual(body.usage, {
      prompt_tokens: 5,
      total_tokens: 8,
      completion_tokens: 3,
      prompt_tokens_details: null,
    });
    assert.equal(body.system_fingerprint, 'servellm-0.1.0-test');
    assert.equal(engine.added.length, 1);
    assert.deepEqual(engine.added[0]!.promptTokens, [...Buffer.from('hello')]);
    assert.equal(engine.added[0]!.params.maxTokens, 3);
    assert.equal(engine.added[0]!.params.temperature, 1);
    assert.deepEqual(engine.aborted, [], 'a finished request is not aborted');
  });

  it('answers n choices per prompt, prompt-major, each prompt counted once', async () => {
    const { app, engine } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { prompt: ['hello', 'hi'], n: 3, max_tokens: 2, seed: 5 },
    });
    assert.equal(response.statusCode, 200);
    const body = response.json<CompletionResponse>();
    assert.deepEqual(
      body.choices.map((choice) => [choice.index, choice.text]),
      [0, 1, 2, 3, 4, 5].map((index) => [index, 'aa']),
    );
    assert.deepEqual(body.usage, {
      prompt_tokens: 5 + 2,
      total_tokens: 7 + 12,
      completion_tokens: 12,
      prompt_tokens_details: null,
    });
    assert.deepEqual(
      engine.added.map((r) => [r.promptTokens.length, r.params.seed]),
      [
        [5, 5n],
        [5, 6n],
        [5, 7n],
        [2, 5n],
        [2, 6n],
        [2, 7n],
      ],
    );
    const ids = engine.added.map((r) => r.id);
    assert.deepEqual(
      engine.added.map((r) => r.sharesPromptWith),
      [undefined, ids[0], ids[0], undefined, ids[3], ids[3]],
    );
  });

  it('returns token ids when asked, streamed and whole, and truncates the prompt when asked', async () => {
    const { app, engine } = testApp();
    const payload = {
      prompt: 'hello',
      max_tokens: 2,
      return_token_ids: true,
      truncate_prompt_tokens: 3,
      truncation_side: 'right',
    };
    const whole = await app.inject({ method: 'POST', url: URL, payload });
    assert.equal(whole.statusCode, 200);
    const choice = whole.json<CompletionResponse>().choices[0]!;
    assert.deepEqual(choice.prompt_token_ids, [...Buffer.from('hel')]);
    assert.deepEqual(choice.token_ids, [97, 97]);
    assert.deepEqual(engine.added[0]!.promptTokens, [...Buffer.from('hel')]);
    const streamed = await app.inject({
      method: 'POST',
      url: URL,
      payload: { ...payload, stream: true, truncation_side: 'left' },
    });
    const chunks = sseEvents(streamed.body).slice(0, -1) as CompletionChunk[];
    assert.deepEqual(
      chunks.map((c) => [c.choices[0].prompt_token_ids, c.choices[0].token_ids]),
      [
        [[...Buffer.from('llo')], [97]],
        [null, [97]],
      ],
    );
    const plain = await app.inject({
      method: 'POST',
      url: URL,
      payload: { prompt: 'x', max_tokens: 1 },
    });
    const plainChoice = plain.json<CompletionResponse>().choices[0]!;
    assert.equal(plainChoice.token_ids, null);
    assert.equal(plainChoice.prompt_token_ids, null);
  });

  it('runs a beam search of width n per prompt, and refuses to stream one', async () => {
    const { app, engine } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: {
        prompt: ['ab', 'c'],
        return_token_ids: true,
        n: 2,
        temperature: 0,
        use_beam_search: true,
        length_penalty: 0.5,
        early_stopping: true,
        max_tokens: 2,
      },
    });
    assert.equal(response.statusCode, 200);
    const body = response.json<CompletionResponse>();
    assert.deepEqual(
      body.choices.map((choice) => choice.index),
      [0, 1, 2, 3],
    );
    assert.equal(body.usage.prompt_tokens, 3, 'each prompt once');
    assert.deepEqual(
      body.choices.map((choice) => choice.prompt_token_ids),
      [[97, 98], [97, 98], [99], [99]],
    );
    assert.deepEqual(
      engine.beamSearches.map((b) => [
        b.request.promptTokens.length,
        b.width,
        b.lengthPenalty,
        b.earlyStopping,
      ]),
      [
        [2, 2, 0.5, true],
        [1, 2, 0.5, true],
      ],
    );
    const streamed = await app.inject({
      method: 'POST',
      url: URL,
      payload: { prompt: 'ab', n: 2, use_beam_search: true, stream: true },
    });
    assert.equal(streamed.statusCode, 400);
    assert.equal(
      streamed.json<ErrorBody>().error.message,
      'Streaming is not currently supported with beam search',
    );
  });

  it('defaults max_tokens to 16 and answers any served name with the primary one', async () => {
    const { app, engine } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { model: 'alias', prompt: 'x' },
    });
    assert.equal(response.statusCode, 200);
    assert.equal(engine.added[0]!.params.maxTokens, 16);
    assert.equal(response.json<CompletionResponse>().model, 'test-model');
    assert.equal(response.json<CompletionResponse>().usage.completion_tokens, 16);
  });

  it('sends a batch of prompts as one engine request each, choices in prompt order', async () => {
    const engine = new ScriptedEngine({
      maxModelLen: 64,
      script: (r) => ({
        pieces: [`<${r.promptTokens.length}>`],
        finishReason: 'stop',
        stopReason: 258,
      }),
    });
    const { app } = testApp(engine);
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { prompt: ['a', 'bb', 'ccc'] },
    });
    const body = response.json<CompletionResponse>();
    assert.deepEqual(
      body.choices.map((c) => [c.index, c.text, c.stop_reason]),
      [
        [0, '<1>', 258],
        [1, '<2>', 258],
        [2, '<3>', 258],
      ],
    );
    assert.deepEqual(body.usage, {
      prompt_tokens: 6,
      total_tokens: 9,
      completion_tokens: 3,
      prompt_tokens_details: null,
    });
    assert.equal(new Set(engine.added.map((r) => r.id)).size, 3);
  });

  it('streams text_completion chunks, one choice each, one finish per choice, then [DONE]', async () => {
    const { app } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { prompt: ['a', 'b'], max_tokens: 2, stream: true },
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    const events = sseEvents(response.body);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1) as {
      id: string;
      object: string;
      choices: { index: number; text: string; finish_reason: string | null }[];
      usage?: unknown;
    }[];
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'text_completion');
      assert.equal(chunk.choices.length, 1);
      assert.equal(chunk.usage, undefined);
    }
    for (const index of [0, 1]) {
      const mine = chunks.filter((c) => c.choices[0]!.index === index);
      assert.equal(mine.map((c) => c.choices[0]!.text).join(''), 'aa');
      assert.deepEqual(
        mine.map((c) => c.choices[0]!.finish_reason),
        [null, 'length'],
      );
    }
  });

  it('ends the stream with a usage chunk when include_usage is set', async () => {
    const { app } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: {
        prompt: 'abc',
        max_tokens: 2,
        stream: true,
        stream_options: { include_usage: true },
      },
    });
    const events = sseEvents(response.body);
    const usageChunk = events.at(-2) as { choices: unknown[]; usage: unknown; object: string };
    assert.deepEqual(usageChunk.choices, []);
    assert.equal(usageChunk.object, 'text_completion');
    assert.deepEqual(usageChunk.usage, {
      prompt_tokens: 3,
      total_tokens: 5,
      completion_tokens: 2,
      prompt_tokens_details: null,
    });
  });

  it('honours X-Request-Id for the response id', async () => {
    const { app } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      headers: { 'x-request-id': 'abc123' },
      payload: { prompt: 'x', max_tokens: 1 },
    });
    assert.equal(response.json<CompletionResponse>().id, 'cmpl-abc123');
  });

  it('answers validation errors with 400 and nothing reaches the engine', async () => {
    const { app, engine } = testApp();
    const cases: [unknown, RegExp, string | null][] = [
      [
        { prompt: 'x', temperature: -0.5 },
        /^temperature must be non-negative, got -0.5\.$/,
        'temperature',
      ],
      [{ prompt: 'x', top_p: 2 }, /^top_p must be in \(0, 1\], got 2.0\.$/, 'top_p'],
      [
        { prompt: 'x', n: 2, temperature: 0 },
        /^n must be 1 when using greedy sampling, got 2\.$/,
        'n',
      ],
      [{ prompt: 'x', n: 0 }, /^n must be at least 1, got 0\.$/, 'n'],
      [
        { prompt: 'x', n: 16385 },
        /^n must be at most 16384, got 16385\. To increase this limit, set the VLLM_MAX_N_SEQUENCES environment variable\.$/,
        'n',
      ],
      [
        { prompt: 'x', max_tokens: 70 },
        /^max_tokens=70 cannot be greater than max_model_len=max_total_tokens=64/,
        'max_tokens',
      ],
      [
        { prompt: 'x'.repeat(60), max_tokens: 10 },
        /^This model's maximum context length is 64 tokens\. However, you requested 10 output tokens and your prompt contains 60 input tokens/,
        'input_tokens',
      ],
      [
        { prompt: 'x', presence_penalty: 2.5 },
        /^presence_penalty must be in \[-2, 2\], got 2\.5\.$/,
        'presence_penalty',
      ],
      [
        { prompt: 'x', logprobs: 21 },
        /^Requested sample logprobs of 21, which is greater than max allowed: 20$/,
        'logprobs',
      ],
    ];
    for (const [payload, message, param] of cases) {
      const response = await app.inject({ method: 'POST', url: URL, payload: payload as object });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      const { error } = response.json<ErrorBody>();
      assert.equal(error.type, 'BadRequestError');
      assert.equal(error.code, 400);
      assert.equal(error.param, param);
      assert.match(error.message, message);
    }
    assert.equal(engine.added.length, 0);
  });

  it("answers schema failures with vLLM's request-validation type", async () => {
    const { app, engine } = testApp();
    const cases: [object | string, string | null][] = [
      [{ prompt: 'x', temperature: 'hot' }, 'temperature'],
      [{ prompt: 'x', max_tokens: 1.5 }, 'max_tokens'],
      ['{"prompt": ', null],
    ];
    for (const [payload, param] of cases) {
      const response = await app.inject({
        method: 'POST',
        url: URL,
        headers: { 'content-type': 'application/json' },
        payload:
          typeof payload === 'string'
            ? payload
            : JSON.stringify({ model: 'test-model', ...payload }),
      });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      const { error } = response.json<ErrorBody>();
      assert.equal(error.type, 'Bad Request');
      assert.equal(error.code, 400);
      if (param !== null) assert.equal(error.param, param);
    }
    assert.equal(engine.added.length, 0);
  });

  it('ignores unknown fields', async () => {
    const { app } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { prompt: 'x', max_tokens: 1, some_future_field: { a: 1 }, best_of: 3 },
    });
    assert.equal(response.statusCode, 200);
  });

  it("answers an unknown model with vLLM's 404", async () => {
    const { app } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { model: 'gpt-9', prompt: 'x' },
    });
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json(), {
      error: {
        message: 'The model `gpt-9` does not exist.',
        type: 'NotFoundError',
        param: 'model',
        code: 404,
      },
    });
  });

  it('answers invalid JSON and other media types with 400', async () => {
    const { app } = testApp();
    const bad = await app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'application/json' },
      payload: '{"prompt": ',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json<ErrorBody>().error.message, /^JSON decode error/);
    const form = await app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'prompt=x',
    });
    assert.equal(form.statusCode, 400);
    assert.equal(
      form.json<ErrorBody>().error.message,
      "Unsupported Media Type: Only 'application/json' is allowed",
    );
    const charset = await app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'Application/JSON; charset=utf-8' },
      payload: '{"prompt":"x","max_tokens":1}',
    });
    assert.equal(charset.statusCode, 200);
  });

  it('keeps an int64 seed exact and refuses one outside int64', async () => {
    const { app, engine } = testApp();
    const send = (seed: string) =>
      app.inject({
        method: 'POST',
        url: URL,
        headers: { 'content-type': 'application/json' },
        payload: `{"prompt":"x","max_tokens":1,"seed":${seed}}`,
      });
    assert.equal((await send('9223372036854775807')).statusCode, 200);
    assert.equal(engine.added[0]!.params.seed, 9223372036854775807n);
    const over = await send('9223372036854775808');
    assert.equal(over.statusCode, 400);
    assert.match(over.json<ErrorBody>().error.message, /less_than_equal/);
    const under = await send('-9223372036854775809');
    assert.equal(under.statusCode, 400);
    assert.match(under.json<ErrorBody>().error.message, /greater_than_equal/);
    assert.equal((await send('1.5')).statusCode, 400);
  });

  it('maps an engine refusal to 400 with its parameter', async () => {
    const engine = new ScriptedEngine({
      maxModelLen: 64,
      refuse: () => new EngineRequestError('queue is full', 'prompt'),
    });
    const { app } = testApp(engine);
    const response = await app.inject({ method: 'POST', url: URL, payload: { prompt: 'x' } });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      error: { message: 'queue is full', type: 'BadRequestError', param: 'prompt', code: 400 },
    });
  });

  it('answers an engine failure with 500, or with an error event once streaming', async () => {
    const engine = new ScriptedEngine({
      maxModelLen: 64,
      script: () => ({ pieces: ['a', 'b'], error: new Error('decode failed'), failAfter: 1 }),
    });
    const { app } = testApp(engine);
    const plain = await app.inject({ method: 'POST', url: URL, payload: { prompt: 'x' } });
    assert.equal(plain.statusCode, 500);
    assert.deepEqual(plain.json(), {
      error: { message: 'decode failed', type: 'InternalServerError', param: null, code: 500 },
    });
    const streamed = await app.inject({
      method: 'POST',
      url: URL,
      payload: { prompt: 'x', stream: true },
    });
    assert.equal(streamed.statusCode, 200);
    const events = sseEvents(streamed.body);
    assert.deepEqual(events.slice(-2), [
      { error: { message: 'decode failed', type: 'InternalServerError', param: null, code: 500 } },
      '[DONE]',
    ]);
  });
});
