import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScriptedEngine } from '../testing/scripted-engine.ts';
import { sseEvents, testApp } from '../testing/test-app.ts';
import type { ErrorBody } from '../errors.ts';
import type { ChatCompletionResponse } from '../wire-types.ts';

const URL = '/v1/chat/completions';
const messages = [{ role: 'user', content: 'Hi' }];
/** Tokens of "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" (specials are one token). */
const PROMPT_TOKENS = 1 + 7 + 1 + 1 + 1 + 10;

interface Chunk {
  id: string;
  object: string;
  choices: {
    index: number;
    delta: { role?: string; content?: string };
    finish_reason: string | null;
    stop_reason?: unknown;
    token_ids?: number[] | null;
  }[];
  prompt_token_ids?: number[] | null;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe('POST /v1/chat/completions', () => {
  it('renders the template, fills the context by default and answers a chat.completion', async () => {
    const engine = new ScriptedEngine({
      maxModelLen: 64,
      script: () => ({ pieces: ['Hel', 'lo'], finishReason: 'stop' }),
    });
    const { app } = testApp(engine);
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { model: 'test-model', messages },
    });
    assert.equal(response.statusCode, 200);
    const added = engine.added[0]!;
    assert.equal(added.promptTokens.length, PROMPT_TOKENS);
    assert.deepEqual(added.promptTokens.slice(0, 2), [257, 117]);
    assert.equal(added.params.maxTokens, 64 - PROMPT_TOKENS);
    const body = response.json<ChatCompletionResponse>();
    assert.match(body.id, /^chatcmpl-[0-9a-f]{16}$/);
    assert.equal(body.object, 'chat.completion');
    assert.deepEqual(body.choices[0]!.message, {
      role: 'assistant',
      content: 'Hello',
      refusal: null,
      annotations: null,
      audio: null,
      function_call: null,
      tool_calls: [],
      reasoning: null,
    });
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    assert.equal(body.choices[0]!.stop_reason, null);
    assert.deepEqual(body.usage, {
      prompt_tokens: PROMPT_TOKENS,
      total_tokens: PROMPT_TOKENS + 2,
      completion_tokens: 2,
      prompt_tokens_details: null,
    });
  });

  it('streams a role chunk, content chunks, one finish, usage and [DONE]', async () => {
    const engine = new ScriptedEngine({
      maxModelLen: 64,
      script: () => ({ pieces: ['Hel', 'lo', '!'], finishReason: 'stop', stopReason: '###' }),
    });
    const { app } = testApp(engine);
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { messages, stream: true, stream_options: { include_usage: true } },
    });
    assert.equal(response.statusCode, 200);
    const events = sseEvents(response.body);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1) as Chunk[];
    const usage = chunks.pop()!;
    assert.deepEqual(usage.choices, []);
    assert.deepEqual(usage.usage, {
      prompt_tokens: PROMPT_TOKENS,
      total_tokens: PROMPT_TOKENS + 3,
      completion_tokens: 3,
      prompt_tokens_details: null,
    });
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
    assert.equal(chunks.map((c) => c.choices[0]!.delta.content).join(''), 'Hello!');
    assert.deepEqual(
      chunks.map((c) => c.choices[0]!.finish_reason),
      [null, null, null, 'stop'],
    );
    assert.equal(chunks.at(-1)!.choices[0]!.stop_reason, '###');
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.choices.length, 1);
      assert.equal(chunk.usage, undefined);
    }
  });

  it("streams n choices: a role chunk for each, then each one's content and finish", async () => {
    const { app, engine } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: {
        messages,
        n: 2,
        max_tokens: 2,
        stream: true,
        stream_options: { include_usage: true },
      },
    });
    assert.equal(response.statusCode, 200);
    const chunks = sseEvents(response.body).slice(0, -1) as Chunk[];
    const usage = chunks.pop()!;
    assert.deepEqual(
      chunks.slice(0, 2).map((c) => [c.choices[0]!.index, c.choices[0]!.delta.role]),
      [
        [0, 'assistant'],
        [1, 'assistant'],
      ],
    );
    for (const index of [0, 1]) {
      const own = chunks.filter((c) => c.choices[0]!.index === index);
      assert.equal(own.map((c) => c.choices[0]!.delta.content ?? '').join(''), 'aa');
      assert.equal(own.filter((c) => c.choices[0]!.finish_reason !== null).length, 1);
    }
    assert.equal(usage.usage!.prompt_tokens, PROMPT_TOKENS, 'the prompt counted once');
    assert.equal(usage.usage!.completion_tokens, 4);
    assert.equal(engine.added[1]!.sharesPromptWith, engine.added[0]!.id);
  });

  it('answers a beam search with n choices from one engine search', async () => {
    const { app, engine } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: {
        messages,
        n: 3,
        temperature: 0,
        use_beam_search: true,
        early_stopping: 'never',
        max_tokens: 2,
      },
    });
    assert.equal(response.statusCode, 200);
    const body = response.json<ChatCompletionResponse>();
    assert.deepEqual(
      body.choices.map((choice) => [choice.index, choice.message.content]),
      [
        [0, 'aa'],
        [1, 'aa'],
        [2, 'aa'],
      ],
    );
    assert.equal(body.usage.prompt_tokens, PROMPT_TOKENS, 'the prompt once');
    assert.deepEqual(
      engine.beamSearches.map((b) => [b.width, b.lengthPenalty, b.earlyStopping]),
      [[3, 1, false]],
    );
    assert.equal(engine.added.length, 3, "the scripted engine's three beams");
  });

  it('returns the prompt and answer token ids when asked', async () => {
    const { app } = testApp();
    const payload = { messages, max_tokens: 2, return_token_ids: true };
    const whole = await app.inject({ method: 'POST', url: URL, payload });
    const body = whole.json<ChatCompletionResponse>();
    assert.equal(body.prompt_token_ids?.length, PROMPT_TOKENS);
    assert.deepEqual(body.choices[0]!.token_ids, [97, 97]);
    const streamed = await app.inject({
      method: 'POST',
      url: URL,
      payload: { ...payload, stream: true },
    });
    const chunks = sseEvents(streamed.body).slice(0, -1) as Chunk[];
    assert.equal(chunks[0]!.prompt_token_ids?.length, PROMPT_TOKENS);
    assert.deepEqual(
      chunks.slice(1).map((c) => [c.prompt_token_ids, c.choices[0]!.token_ids]),
      [
        [undefined, [97]],
        [undefined, [97]],
      ],
    );
  });

  it('puts cumulative usage on every chunk with continuous_usage_stats', async () => {
    const { app } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: {
        messages,
        max_tokens: 3,
        stream: true,
        stream_options: { include_usage: true, continuous_usage_stats: true },
      },
    });
    const chunks = sseEvents(response.body).slice(0, -1) as Chunk[];
    assert.deepEqual(
      chunks.map((c) => c.usage!.completion_tokens),
      [0, 1, 2, 3, 3],
    );
    for (const chunk of chunks)
      assert.equal(
        chunk.usage!.total_tokens,
        chunk.usage!.prompt_tokens + chunk.usage!.completion_tokens,
      );
  });

  it('puts usage on every chunk of every stream under --enable-force-include-usage', async () => {
    const { app } = testApp(undefined, { forceIncludeUsage: true });
    const streamed = await app.inject({
      method: 'POST',
      url: URL,
      payload: { messages, max_tokens: 3, stream: true },
    });
    const chunks = sseEvents(streamed.body).slice(0, -1) as Chunk[];
    assert.deepEqual(
      chunks.map((c) => c.usage!.completion_tokens),
      [0, 1, 2, 3, 3],
    );
    assert.equal(chunks.at(-1)!.choices.length, 0);
    // Not streamed: the usage of the answer, as always.
    const whole = await app.inject({
      method: 'POST',
      url: URL,
      payload: { messages, max_tokens: 3 },
    });
    assert.equal(whole.json<ChatCompletionResponse>().usage.completion_tokens, 3);
  });

  it('passes the sampling parameters through, resolved', async () => {
    const { app, engine } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: {
        messages,
        max_completion_tokens: 4,
        max_tokens: 9,
        temperature: 0.5,
        top_p: 0.8,
        top_k: -1,
        min_p: 0.1,
        seed: 42,
        stop: 'END',
        stop_token_ids: [258],
        include_stop_str_in_output: true,
        ignore_eos: true,
        skip_special_tokens: false,
        logit_bias: { '97': 150, '98': -3 },
        logprobs: true,
        top_logprobs: 3,
        prompt_logprobs: 2,
        presence_penalty: 0.25,
        frequency_penalty: 0.5,
        repetition_penalty: 1.25,
        min_tokens: 2,
        allowed_token_ids: [97, 98, 258],
        bad_words: ['ab', ' <|im_end|>'],
      },
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(engine.added[0]!.params, {
      temperature: 0.5,
      topP: 0.8,
      topK: 0,
      minP: 0.1,
      seed: 42n,
      maxTokens: 4,
      stop: ['END'],
      stopTokenIds: [258],
      includeStopStrInOutput: true,
      ignoreEos: true,
      skipSpecialTokens: false,
      logitBias: new Map([
        [97, 100],
        [98, -3],
      ]),
      logprobs: 3,
      promptLogprobs: 2,
      presencePenalty: 0.25,
      frequencyPenalty: 0.5,
      repetitionPenalty: 1.25,
      minTokens: 2,
      allowedTokenIds: [97, 98, 258],
      // A byte tokenizer spells " ab" with one more token, so only the bare forms are banned.
      badWords: [[97, 98], [258]],
      structuredOutput: null,
    });
  });

  it('answers with the last message role when add_generation_prompt is false', async () => {
    const { app } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: { messages, add_generation_prompt: false, max_tokens: 1 },
    });
    assert.equal(response.json<ChatCompletionResponse>().choices[0]!.message.role, 'user');
  });

  it("answers vLLM's 400 when there is no chat template", async () => {
    const { app } = testApp(undefined, { chatTemplate: null });
    const response = await app.inject({ method: 'POST', url: URL, payload: { messages } });
    assert.equal(response.statusCode, 400);
    assert.match(
      response.json<ErrorBody>().error.message,
      /^As of transformers v4\.44, default chat template is no longer allowed/,
    );
  });

  it('answers a template that does not parse with 400 on chat requests only', async () => {
    const { app } = testApp(undefined, { chatTemplate: '{% if %}' });
    const chat = await app.inject({ method: 'POST', url: URL, payload: { messages } });
    assert.equal(chat.statusCode, 400);
    assert.match(chat.json<ErrorBody>().error.message, /^The chat template could not be parsed/);
    const completion = await app.inject({
      method: 'POST',
      url: '/v1/completions',
      payload: { prompt: 'x', max_tokens: 1 },
    });
    assert.equal(completion.statusCode, 200);
  });

  it('answers bad messages with 400 naming the field', async () => {
    const { app, engine } = testApp();
    const missing = await app.inject({
      method: 'POST',
      url: URL,
      payload: { model: 'test-model' },
    });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json<ErrorBody>().error.param, 'messages');
    const image = await app.inject({
      method: 'POST',
      url: URL,
      payload: {
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
      },
    });
    assert.equal(image.statusCode, 400);
    const logprobs = await app.inject({
      method: 'POST',
      url: URL,
      payload: { messages, logprobs: true, top_logprobs: 30 },
    });
    assert.equal(logprobs.statusCode, 400);
    assert.equal(
      logprobs.json<ErrorBody>().error.message,
      'Requested sample logprobs of 30, which is greater than max allowed: 20',
    );
    assert.equal(engine.added.length, 0);
  });

  it('accepts custom roles, list content and unknown fields', async () => {
    const { app, engine } = testApp();
    const response = await app.inject({
      method: 'POST',
      url: URL,
      payload: {
        messages: [{ role: 'narrator', content: [{ type: 'text', text: 'Hi' }], extra: 1 }],
        max_tokens: 1,
        mystery: true,
      },
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(engine.added[0]!.promptTokens.slice(1, 9), [...Buffer.from('narrator')]);
  });

  it('echo: the prefilled answer leads the content, streamed as the first content delta', async () => {
    const engine = new ScriptedEngine({
      maxModelLen: 64,
      script: () => ({ pieces: [' it', 's'], finishReason: 'stop' }),
    });
    const { app } = testApp(engine);
    const payload = {
      messages: [...messages, { role: 'assistant', content: 'Said' }],
      add_generation_prompt: false,
      continue_final_message: true,
      echo: true,
    };
    const whole = await app.inject({ method: 'POST', url: URL, payload });
    assert.equal(whole.statusCode, 200, whole.body);
    const body = whole.json<ChatCompletionResponse>();
    assert.equal(body.choices[0]!.message.role, 'assistant');
    assert.equal(body.choices[0]!.message.content, 'Said its');
    assert.equal(body.usage.completion_tokens, 2);
    // The prefill is open: the prompt ends with its text, no end-of-turn token.
    assert.deepEqual(engine.added[0]!.promptTokens.slice(-5), [10, ...Buffer.from('Said')]);
    const streamed = await app.inject({
      method: 'POST',
      url: URL,
      payload: { ...payload, stream: true, stream_options: { include_usage: true } },
    });
    const chunks = (sseEvents(streamed.body).slice(0, -2) as Chunk[]).map((c) => c.choices[0]!);
    assert.deepEqual(
      chunks.map((choice) => choice.delta),
      [
        { role: 'assistant', content: '' },
        { content: 'Said' },
        { content: ' it' },
        { content: 's' },
      ],
    );
    const unechoed = await app.inject({
      method: 'POST',
      url: URL,
      payload: { ...payload, echo: false },
    });
    assert.equal(unechoed.json<ChatCompletionResponse>().choices[0]!.message.content, ' its');
  });

  it('refuses a request chat_template unless the server trusts them', async () => {
    const own = '{% for m in messages %}<{{ m.content }}>{% endfor %}';
    const { app } = testApp();
    const refused = await app.inject({
      method: 'POST',
      url: URL,
      payload: { messages, chat_template: own },
    });
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(refused.json<ErrorBody>().error, {
      message:
        'Chat template is passed with request, but --trust-request-chat-template is not set. ' +
        'Refused request with untrusted chat template.',
      type: 'BadRequestError',
      param: 'chat_template',
      code: 400,
    });
    const viaKwargs = await app.inject({
      method: 'POST',
      url: URL,
      payload: { messages, chat_template_kwargs: { chat_template: own } },
    });
    assert.equal(viaKwargs.statusCode, 400);
    const trusted = testApp(undefined, { trustRequestChatTemplate: true });
    const answered = await trusted.app.inject({
      method: 'POST',
      url: URL,
      payload: { messages, chat_template: own, max_tokens: 1 },
    });
    assert.equal(answered.statusCode, 200, answered.body);
    assert.deepEqual(trusted.engine.added[0]!.promptTokens, [...Buffer.from('<Hi>')]);
  });
});
