/**
 * Conformance: the model-independent checklist of vLLM's OpenAI server
 * (../shared/reference/vllm-openai-contract.md, section 8.6), rule by rule, against the running
 * server (in-process, the successor model), through the official `openai` client where it
 * applies and raw HTTP where a client would hide the detail. Every 200 answer of the generation
 * endpoints, streamed chunks included, is validated against OpenAI's published response schema
 * (test/support/openai-schemas.ts). The successor model's greedy text is a formula: after "abc"
 * come "defgh...", after "5" come "6789." and EOS. Tools and structured outputs (items 22 and 23)
 * are checked for the refusals vLLM gives without a tool parser and before their issue lands.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';
import { assertOpenAiType, type OpenAiType } from './support/openai-schemas.ts';

const MODEL = 'successor';
const MAX_MODEL_LEN = 512;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

type Json = Record<string, unknown>;

describe('conformance with the vLLM OpenAI server checklist', () => {
  let server: RunningServer;
  let secured: RunningServer;
  let client: OpenAI;

  before(async () => {
    server = await startServer(
      await testServeOptions({ servedModelNames: [MODEL, 'alias'], maxModelLen: MAX_MODEL_LEN }),
    );
    secured = await startServer(
      await testServeOptions({ apiKeys: ['secret'], rootPath: '/llm', disableLogRequests: true }),
    );
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await server.close();
    await secured.close();
  });

  async function call(
    path: string,
    body?: unknown,
    options: { method?: string; headers?: Record<string, string>; base?: string } = {},
  ): Promise<Answer> {
    const response = await fetch(`${options.base ?? server.url}${path}`, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(body === undefined || typeof body === 'string'
          ? {}
          : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  /** A 200 JSON answer of `type`, validated against OpenAI's schema. */
  async function ok(path: string, body: Json, type: OpenAiType): Promise<Json> {
    const answer = await call(path, body);
    assert.equal(answer.status, 200, answer.text);
    assertOpenAiType(type, answer.json);
    return answer.json as Json;
  }

  /** The events of a streamed answer (validated chunk by chunk), after checking the SSE framing. */
  async function streamed(path: string, body: Json, type: OpenAiType): Promise<Json[]> {
    const answer = await call(path, { ...body, stream: true });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(answer.text.endsWith('data: [DONE]\n\n'), 'the stream ends with [DONE]');
    const frames = answer.text.slice(0, -2).split('\n\n');
    assert.equal(frames.pop(), 'data: [DONE]');
    return frames.map((frame, i) => {
      assert.ok(frame.startsWith('data: '), frame);
      const event = JSON.parse(frame.slice(6)) as Json;
      if (!('error' in event)) assertOpenAiType(type, event, `chunk ${i}`);
      return event;
    });
  }

  /** A 4xx answer in vLLM's error shape; returns the error object. */
  async function refused(path: string, body: unknown, status = 400): Promise<Json> {
    const answer = await call(path, body);
    assert.equal(answer.status, status, answer.text);
    const error = (answer.json as { error: Json }).error;
    assert.equal(typeof error.message, 'string');
    assert.equal(error.code, status);
    assert.ok('type' in error && 'param' in error);
    return error;
  }

  const completion = (body: Json) =>
    ok('/v1/completions', { model: MODEL, ...body }, 'CreateCompletionResponse');
  const chat = (body: Json) =>
    ok('/v1/chat/completions', { model: MODEL, ...body }, 'CreateChatCompletionResponse');
  const choices = (answer: Json) => answer.choices as Json[];
  const usage = (answer: Json) => answer.usage as Record<string, number>;
  const hi = [{ role: 'user', content: 'Hi' }];

  it('1: health, version, ping, load and metrics', async () => {
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/ping'],
      ['POST', '/ping'],
    ] as const) {
      const answer = await call(path, undefined, { method });
      assert.equal(answer.status, 200, path);
      assert.equal(answer.text, '');
    }
    assert.equal(typeof ((await call('/version')).json as Json).version, 'string');
    assert.deepEqual((await call('/load')).json, { server_load: 0 });
    const metrics = await call('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /vllm:num_requests_running/);
  });

  it('2: JSON bodies only; unknown model 404; missing or empty model is the first name', async () => {
    const form = await call('/v1/completions', 'prompt=abc', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 400);
    const error = await refused('/v1/completions', { model: 'gpt2', prompt: 'abc' }, 404);
    assert.equal(error.message, 'The model `gpt2` does not exist.');
    for (const model of [undefined, '', 'alias']) {
      const answer = await ok(
        '/v1/completions',
        { ...(model === undefined ? {} : { model }), prompt: 'abc', max_tokens: 1 },
        'CreateCompletionResponse',
      );
      assert.equal(answer.model, MODEL);
    }
    const models = await call('/v1/models');
    assertOpenAiType('ListModelsResponse', models.json);
    const card = await call(`/v1/models/${MODEL}`);
    assert.equal(card.status, 200);
    assertOpenAiType('Model', card.json);
    assert.equal((await call('/v1/models/gpt2')).status, 404);
  });

  it('3: validation errors are 400 {error: {message, type, param, code}}', async () => {
    const error = await refused('/v1/completions', { model: MODEL, prompt: 'abc', max_tokens: -1 });
    assert.equal(error.type, 'BadRequestError');
    assert.equal(error.param, 'max_tokens');
    assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
  });

  it('4: API keys guard /v1 (behind --root-path too); health, version, metrics stay open', async () => {
    for (const base of [`${secured.url}/v1`, `${secured.url}/llm/v1`]) {
      const wrong = await call('/models', undefined, {
        base,
        headers: { Authorization: 'Bearer abc' },
      });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.json, { error: 'Unauthorized' });
      const missing = await call('/models', undefined, { base });
      assert.equal(missing.status, 401);
      const keyed = new OpenAI({ baseURL: base, apiKey: 'secret', maxRetries: 0 });
      assert.equal((await keyed.models.list()).data[0]!.id, MODEL);
      await assert.rejects(
        new OpenAI({ baseURL: base, apiKey: 'abc', maxRetries: 0 }).models.list(),
        OpenAI.AuthenticationError,
      );
    }
    for (const path of ['/health', '/version', '/metrics']) {
      assert.equal((await call(path, undefined, { base: secured.url })).status, 200, path);
    }
  });

  it('5: max_tokens defaults to 16; length finish; usage adds up', async () => {
    const answer = await completion({ prompt: 'abc' });
    assert.equal(choices(answer)[0]!.finish_reason, 'length');
    assert.equal(usage(answer).completion_tokens, 16);
    assert.equal(usage(answer).prompt_tokens, 3);
    assert.equal(usage(answer).total_tokens, 19);
    const five = await client.completions.create({ model: MODEL, prompt: 'abc', max_tokens: 5 });
    assert.equal(five.usage?.completion_tokens, 5);
    assert.equal(five.choices[0]!.finish_reason, 'length');
  });

  it('6: the four prompt forms; P prompts x n choices, prompt-major', async () => {
    const forms: unknown[] = ['abc', ['abc'], [97, 98, 99], [[97, 98, 99]]];
    for (const prompt of forms) {
      const answer = await completion({ prompt, max_tokens: 3, temperature: 0 });
      assert.equal(choices(answer)[0]!.text, 'def', JSON.stringify(prompt));
    }
    const batch = await completion({
      prompt: ['abc', '5'],
      n: 2,
      max_tokens: 2,
      temperature: 1,
      seed: 7,
      echo: true,
    });
    const texts = choices(batch).map((c) => c.text as string);
    assert.deepEqual(
      choices(batch).map((c) => c.index),
      [0, 1, 2, 3],
    );
    assert.ok(texts[0]!.startsWith('abc') && texts[1]!.startsWith('abc'), texts.join('|'));
    assert.ok(texts[2]!.startsWith('5') && texts[3]!.startsWith('5'), texts.join('|'));
  });

  it('7: completions logprobs: null, 0, k, over the limit, negative', async () => {
    const none = await completion({ prompt: 'abc', max_tokens: 2 });
    assert.equal(choices(none)[0]!.logprobs, null);
    for (const k of [0, 3]) {
      const answer = await completion({ prompt: 'abc', max_tokens: 2, logprobs: k });
      const logprobs = choices(answer)[0]!.logprobs as { top_logprobs: Json[]; tokens: string[] };
      assert.equal(logprobs.tokens.length, 2);
      for (const top of logprobs.top_logprobs) {
        const size = Object.keys(top).length;
        assert.ok(size >= k && size <= k + 1, `logprobs=${k}: ${size} entries`);
      }
    }
    await refused('/v1/completions', { model: MODEL, prompt: 'abc', logprobs: 21 });
    await refused('/v1/completions', { model: MODEL, prompt: 'abc', logprobs: -1 });
  });

  it('8: echo puts the prompt first, its first logprob null; echo with max_tokens 0', async () => {
    const answer = await completion({ prompt: 'abc', max_tokens: 2, echo: true, logprobs: 1 });
    const choice = choices(answer)[0]!;
    assert.equal(choice.text, 'abcde');
    const logprobs = choice.logprobs as { token_logprobs: unknown[]; top_logprobs: unknown[] };
    assert.equal(logprobs.token_logprobs[0], null);
    assert.equal(logprobs.top_logprobs[0], null);
    const only = await completion({ prompt: 'abc', max_tokens: 0, echo: true });
    assert.equal(choices(only)[0]!.text, 'abc');
  });

  it('9: prompt_logprobs: first entry null, the prompt token always present; limits', async () => {
    const answer = await completion({ prompt: 'abc', max_tokens: 1, prompt_logprobs: 0 });
    const entries = choices(answer)[0]!.prompt_logprobs as (Record<string, Json> | null)[];
    assert.equal(entries.length, 3);
    assert.equal(entries[0], null);
    assert.ok('98' in entries[1]! && '99' in entries[2]!);
    assert.equal(typeof entries[1]['98'].logprob, 'number');
    assert.equal(entries[1]['98'].decoded_token, 'b');
    await refused('/v1/completions', { model: MODEL, prompt: 'abc', prompt_logprobs: -1 });
    await refused('/v1/completions', {
      model: MODEL,
      prompt: 'abc',
      prompt_logprobs: 1,
      stream: true,
    });
  });

  it('10: suffix, negative ids, ids outside the vocabulary and empty prompts are refused', async () => {
    // The successor model has no fill-in-the-middle tokens (test/fill-in-the-middle-e2e.test.ts).
    const suffix = await refused('/v1/completions', { model: MODEL, prompt: 'abc', suffix: 'x' });
    assert.equal(suffix.message, 'suffix is not currently supported');
    assert.equal(suffix.param, 'suffix');
    await refused('/v1/completions', { model: MODEL, prompt: [-1] });
    const outside = await refused('/v1/completions', { model: MODEL, prompt: [999999] });
    assert.match(outside.message as string, /out of vocabulary/);
    await refused('/v1/completions', { model: MODEL, prompt: '' });
  });

  it('11: streams one choice per event, one finish each, the same text, then [DONE]', async () => {
    const body = { model: MODEL, prompt: '5', max_tokens: 10, temperature: 0 };
    const whole = await completion(body);
    const events = await streamed('/v1/completions', body, 'CreateCompletionResponse');
    let text = '';
    let finishes = 0;
    for (const event of events) {
      assert.equal(choices(event).length, 1);
      text += choices(event)[0]!.text as string;
      if (choices(event)[0]!.finish_reason !== null) finishes++;
    }
    assert.equal(finishes, 1);
    assert.equal(text, choices(whole)[0]!.text);
    assert.equal(text, '6789.');
  });

  it('12: stream_options: usage chunk, continuous usage, {} allowed, needs stream', async () => {
    const body = { model: MODEL, prompt: 'abc', max_tokens: 3 };
    const withUsage = await streamed(
      '/v1/completions',
      { ...body, stream_options: { include_usage: true } },
      'CreateCompletionResponse',
    );
    const last = withUsage.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(usage(last).completion_tokens, 3);
    assert.ok(
      withUsage.slice(0, -1).every((event) => event.usage === undefined || event.usage === null),
    );
    const continuous = await streamed(
      '/v1/completions',
      { ...body, stream_options: { include_usage: true, continuous_usage_stats: true } },
      'CreateCompletionResponse',
    );
    assert.ok(continuous.every((event) => typeof usage(event).total_tokens === 'number'));
    await streamed('/v1/completions', { ...body, stream_options: {} }, 'CreateCompletionResponse');
    await refused('/v1/completions', { ...body, stream_options: { include_usage: true } });
  });

  it('13: n limits: greedy n > 1, n over VLLM_MAX_N_SEQUENCES, beam search streamed', async () => {
    await refused('/v1/completions', { model: MODEL, prompt: 'abc', n: 2, temperature: 0 });
    await refused('/v1/completions', { model: MODEL, prompt: 'abc', n: 16385, temperature: 1 });
    await refused('/v1/completions', {
      model: MODEL,
      prompt: 'abc',
      n: 2,
      use_beam_search: true,
      stream: true,
    });
  });

  it('14: truncate_prompt_tokens keeps the last (left) or first (right) ids', async () => {
    const prompt = [97, 98, 99, 100, 101, 102];
    const left = await completion({
      prompt,
      max_tokens: 1,
      truncate_prompt_tokens: 2,
      return_token_ids: true,
    });
    assert.deepEqual(choices(left)[0]!.prompt_token_ids ?? left.prompt_token_ids, [101, 102]);
    const right = await completion({
      prompt,
      max_tokens: 1,
      truncate_prompt_tokens: 2,
      truncation_side: 'right',
      return_token_ids: true,
    });
    assert.deepEqual(choices(right)[0]!.prompt_token_ids ?? right.prompt_token_ids, [97, 98]);
  });

  it('15: return_token_ids and return_tokens_as_token_ids', async () => {
    const plain = await completion({ prompt: 'abc', max_tokens: 2 });
    assert.equal(choices(plain)[0]!.token_ids, null);
    const ids = await completion({ prompt: 'abc', max_tokens: 2, return_token_ids: true });
    assert.deepEqual(choices(ids)[0]!.token_ids, [100, 101]);
    const named = await completion({
      prompt: 'abc',
      max_tokens: 1,
      logprobs: 0,
      return_tokens_as_token_ids: true,
    });
    assert.deepEqual((choices(named)[0]!.logprobs as { tokens: string[] }).tokens, [
      'token_id:100',
    ]);
  });

  it('16: chat streams the role first, one finish, the same content', async () => {
    const body = { model: MODEL, messages: hi, max_tokens: 20, temperature: 0 };
    const whole = await chat(body);
    const content = (choices(whole)[0]!.message as Json).content as string;
    assert.equal(content, '0123456789.');
    const events = await streamed(
      '/v1/chat/completions',
      body,
      'CreateChatCompletionStreamResponse',
    );
    const first = choices(events[0]!)[0]!.delta as Json;
    assert.equal(first.role, 'assistant');
    assert.equal(first.content, '');
    let text = '';
    let finishes = 0;
    for (const event of events) {
      for (const choice of choices(event)) {
        text += ((choice.delta as Json).content as string | undefined) ?? '';
        if (choice.finish_reason !== null && choice.finish_reason !== undefined) finishes++;
      }
    }
    assert.equal(finishes, 1);
    assert.equal(text, content);
  });

  it('17: chat logprobs: false, top 0, top k, -1 over the limit, top without logprobs', async () => {
    const none = await chat({ messages: hi, max_tokens: 2, logprobs: false });
    assert.equal(choices(none)[0]!.logprobs, null);
    const zero = await chat({ messages: hi, max_tokens: 2, logprobs: true, top_logprobs: 0 });
    const zeroContent = (choices(zero)[0]!.logprobs as { content: Json[] }).content;
    assert.ok(zeroContent.every((entry) => (entry.top_logprobs as unknown[]).length === 0));
    const three = await chat({ messages: hi, max_tokens: 2, logprobs: true, top_logprobs: 3 });
    const threeContent = (choices(three)[0]!.logprobs as { content: Json[] }).content;
    assert.ok(threeContent.every((entry) => (entry.top_logprobs as unknown[]).length === 3));
    await refused('/v1/chat/completions', { model: MODEL, messages: hi, top_logprobs: 2 });
    await refused('/v1/chat/completions', {
      model: MODEL,
      messages: hi,
      logprobs: true,
      top_logprobs: 21,
    });
  });

  it('18: max_completion_tokens wins; none fills the context; too long is 400', async () => {
    const both = await chat({ messages: hi, max_tokens: 9, max_completion_tokens: 2 });
    assert.equal(usage(both).completion_tokens, 2);
    await refused('/v1/chat/completions', {
      model: MODEL,
      messages: hi,
      max_tokens: MAX_MODEL_LEN,
    });
  });

  it('19: continue_final_message excludes add_generation_prompt; the role follows', async () => {
    await refused('/v1/chat/completions', {
      model: MODEL,
      messages: hi,
      continue_final_message: true,
      add_generation_prompt: true,
    });
    const custom = await chat({
      messages: [...hi, { role: 'narrator', content: 'Once' }],
      add_generation_prompt: false,
      max_tokens: 1,
    });
    assert.equal((choices(custom)[0]!.message as Json).role, 'narrator');
    // A prefilled answer is continued; echo puts the prefill in front of the continuation.
    const prefill = {
      messages: [...hi, { role: 'assistant', content: 'abc' }],
      add_generation_prompt: false,
      continue_final_message: true,
      max_tokens: 3,
      temperature: 0,
    };
    const plain = await chat(prefill);
    assert.equal((choices(plain)[0]!.message as Json).content, 'def');
    const echoed = await chat({ ...prefill, echo: true });
    assert.deepEqual(choices(echoed)[0]!.message, {
      ...(choices(plain)[0]!.message as Json),
      role: 'assistant',
      content: 'abcdef',
    });
    assert.equal(usage(echoed).completion_tokens, 3, 'the echo is no generated token');
    assert.ok(Array.isArray(echoed.prompt_logprobs), 'echo: prompt_logprobs default to 0');
    const events = await streamed(
      '/v1/chat/completions',
      { model: MODEL, ...prefill, echo: true },
      'CreateChatCompletionStreamResponse',
    );
    const deltas = events.map((event) => choices(event)[0]!.delta);
    assert.deepEqual(deltas.slice(0, 2), [{ role: 'assistant', content: '' }, { content: 'abc' }]);
    assert.equal(
      deltas.map((delta) => (delta as { content?: string }).content ?? '').join(''),
      'abcdef',
    );
  });

  it('20: unknown fields ignored; text parts equal strings; image_url string refused', async () => {
    const string = await chat({ messages: hi, max_tokens: 3, temperature: 0, unknown_field: 1 });
    const parts = await chat({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      max_tokens: 3,
      temperature: 0,
    });
    assert.equal(
      (choices(parts)[0]!.message as Json).content,
      (choices(string)[0]!.message as Json).content,
    );
    assert.equal(usage(parts).prompt_tokens, usage(string).prompt_tokens);
    await refused('/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'http://x/y.png' }] }],
    });
  });

  it('21: seed outside int64 and logit_bias outside the vocabulary are refused', async () => {
    await refused('/v1/chat/completions', { model: MODEL, messages: hi, seed: 2 ** 64 });
    const bias = await refused('/v1/chat/completions', {
      model: MODEL,
      messages: hi,
      logit_bias: { '999999': 1 },
    });
    assert.match(bias.message as string, /999999/);
  });

  it('22: tools refused as vLLM refuses them without a tool-call parser', async () => {
    const tool = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } };
    await refused('/v1/chat/completions', { model: MODEL, messages: hi, tools: [] });
    await refused('/v1/chat/completions', {
      model: MODEL,
      messages: hi,
      tool_choice: { type: 'function', function: { name: 'f' } },
    });
    await refused('/v1/chat/completions', {
      model: MODEL,
      messages: hi,
      tools: [tool],
      tool_choice: { type: 'function', function: { name: 'g' } },
    });
    await refused('/v1/chat/completions', {
      model: MODEL,
      messages: hi,
      tools: [tool],
      tool_choice: 'auto',
    });
  });

  it('23: structured outputs conform; several, invalid or empty constraints are 400s', async () => {
    const languages = ['Python', 'TypeScript', 'Rust'];
    const picked = await chat({ messages: hi, structured_outputs: { choice: languages } });
    assert.ok(languages.includes((choices(picked)[0]!.message as Json).content as string));
    const guided = await completion({ prompt: 'abc', guided_choice: languages, temperature: 1 });
    assert.ok(languages.includes(choices(guided)[0]!.text as string));
    const regex = await completion({
      prompt: 'abc',
      structured_outputs: { regex: '[0-9]{3}-[a-z]{2}' },
      temperature: 1,
      seed: 3,
    });
    assert.match(choices(regex)[0]!.text as string, /^[0-9]{3}-[a-z]{2}$/);
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' }, n: { type: 'integer', minimum: 0, maximum: 9 } },
      required: ['ok', 'n'],
    };
    for (const format of [
      { type: 'json_schema', json_schema: { name: 'r', schema } },
      { type: 'json_object' },
    ]) {
      const answer = await chat({ messages: hi, response_format: format, max_tokens: 64 });
      const value = JSON.parse((choices(answer)[0]!.message as Json).content as string) as Json;
      assert.equal(typeof value, 'object');
      if (format.type === 'json_schema') {
        assert.equal(typeof value.ok, 'boolean');
        assert.ok(Number.isInteger(value.n) && (value.n as number) <= 9);
      }
    }
    const refusals: [Json, string][] = [
      [{ structured_outputs: { json: schema, regex: 'a' } }, 'structured_outputs'],
      [{ structured_outputs: { regex: '[.*' } }, 'structured_outputs'],
      [{ structured_outputs: { grammar: '' } }, 'structured_outputs'],
      [{ structured_outputs: { grammar: 'root ::= nope' } }, 'structured_outputs'],
      [{ structured_outputs: { choice: [] } }, 'structured_outputs'],
      [
        { structured_outputs: { json: { type: 'object', properties: { a: 'bar' } } } },
        'structured_outputs',
      ],
      [{ response_format: { type: 'json_schema' } }, 'response_format'],
      [{ guided_json: 42 }, 'guided_json'],
    ];
    for (const [body, param] of refusals) {
      const error = await refused('/v1/chat/completions', { model: MODEL, messages: hi, ...body });
      assert.equal(error.param, param, JSON.stringify(body));
    }
  });

  it('24: ids, objects, created and system_fingerprint; X-Request-Id honoured', async () => {
    const text = await completion({ prompt: 'abc', max_tokens: 1 });
    assert.match(text.id as string, /^cmpl-/);
    assert.equal(text.object, 'text_completion');
    assert.ok(Number.isInteger(text.created));
    assert.equal(typeof text.system_fingerprint, 'string');
    const answer = await chat({ messages: hi, max_tokens: 1 });
    assert.match(answer.id as string, /^chatcmpl-/);
    assert.equal(answer.object, 'chat.completion');
    assert.equal(typeof answer.system_fingerprint, 'string');
    const events = await streamed(
      '/v1/chat/completions',
      { model: MODEL, messages: hi, max_tokens: 1 },
      'CreateChatCompletionStreamResponse',
    );
    assert.ok(events.every((event) => event.object === 'chat.completion.chunk'));
    const named = await call(
      '/v1/completions',
      { model: MODEL, prompt: 'abc', max_tokens: 1 },
      { headers: { 'X-Request-Id': 'my-id' } },
    );
    assert.equal((named.json as Json).id, 'cmpl-my-id');
  });

  it('25: a client that goes away aborts its request; the server stays responsive', async () => {
    const requests = Array.from({ length: 8 }, async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      await fetch(`${server.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, prompt: 'abc', max_tokens: 400, ignore_eos: true }),
        signal: controller.signal,
      }).catch(() => undefined);
    });
    await Promise.all(requests);
    const deadline = Date.now() + 10_000;
    while (server.engine.stats().running + server.engine.stats().waiting > 0) {
      assert.ok(Date.now() < deadline, 'aborted requests kept running');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const started = Date.now();
    const answer = await completion({ prompt: 'abc', max_tokens: 3 });
    assert.equal(usage(answer).completion_tokens, 3);
    assert.ok(Date.now() - started < 5000);
  });
});
