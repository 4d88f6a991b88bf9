import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestOutput } from '../../engine/engine-types.ts';
import type { ChatCompletionChunk } from '../wire-types.ts';
import { TokenTexts } from '../logprobs/token-texts.ts';
import { testTokenizer } from '../testing/test-app.ts';
import { assembleChat, ChatStreamState, type ChatResponseOptions } from './chat-stream.ts';
import type { StreamEvent } from './stream-events.ts';

const header = { id: 'chatcmpl-1', created: 1700000000, model: 'm' };

function chatOptions(role: string, choiceCount: number): ChatResponseOptions {
  return { role, choiceCount, logprobs: null, texts: new TokenTexts(testTokenizer()) };
}

function output(
  text: string,
  completionTokens: number,
  finish: RequestOutput['finishReason'] = null,
  stop: RequestOutput['stopReason'] = null,
): RequestOutput {
  return {
    requestId: 'r',
    text,
    tokenIds: text === '' ? [] : [1],
    promptTokens: 5,
    completionTokens,
    cachedTokens: 0,
    finishReason: finish,
    stopReason: stop,
    logprobs: null,
    promptLogprobs: null,
  };
}

function feed(
  state: ChatStreamState,
  outputs: RequestOutput[],
): StreamEvent<ChatCompletionChunk>[] {
  const events: StreamEvent<ChatCompletionChunk>[] = outputs.flatMap((o) => state.push(0, o));
  return [...events, { type: 'usage', usage: state.usage() }];
}

async function* replay<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

describe('ChatStreamState', () => {
  it('echo: after the role chunks, one chunk per choice with the echoed text', async () => {
    const state = new ChatStreamState(header, { ...chatOptions('assistant', 2), echo: 'Pre' });
    const events = [
      ...state.push(1, output('x', 1)),
      ...state.push(0, output('y', 1, 'stop')),
      ...state.push(1, output('', 1, 'length')),
    ];
    const chunks = events.flatMap((event) => (event.type === 'chunk' ? [event.chunk] : []));
    assert.deepEqual(
      chunks.map((chunk) => [chunk.choices[0].index, chunk.choices[0].delta]),
      [
        [0, { role: 'assistant', content: '' }],
        [1, { role: 'assistant', content: '' }],
        [0, { content: 'Pre' }],
        [1, { content: 'Pre' }],
        [1, { content: 'x' }],
        [0, { content: 'y' }],
        [1, { content: '' }],
      ],
    );
    assert.deepEqual(chunks[2]!.choices[0], {
      index: 0,
      delta: { content: 'Pre' },
      logprobs: null,
      finish_reason: null,
    });
    assert.equal('prompt_token_ids' in chunks[2]!, false, 'only role chunks carry prompt ids');
    const response = await assembleChat(
      replay([...events, { type: 'usage', usage: state.usage() }]),
      state,
      header,
      'fp',
    );
    assert.deepEqual(
      response.choices.map((choice) => choice.message.content),
      ['Prey', 'Prex'],
    );
  });

  it('sends the role chunk first, then content, then exactly one finish', () => {
    const state = new ChatStreamState(header, chatOptions('assistant', 1));
    const chunks = [
      output('Hel', 1),
      output('', 2),
      output('lo', 3),
      output('!', 4, 'stop', '!'),
    ].flatMap((o) => state.push(0, o).map((event) => event.chunk));
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]),
      [
        {
          index: 0,
          delta: { role: 'assistant', content: '' },
          logprobs: null,
          finish_reason: null,
        },
        {
          index: 0,
          delta: { content: 'Hel' },
          logprobs: null,
          finish_reason: null,
          token_ids: null,
        },
        {
          index: 0,
          delta: { content: 'lo' },
          logprobs: null,
          finish_reason: null,
          token_ids: null,
        },
        {
          index: 0,
          delta: { content: '!' },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: '!',
          token_ids: null,
        },
      ],
    );
    for (const chunk of chunks) {
      assert.equal(chunk.id, 'chatcmpl-1');
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.created, 1700000000);
      assert.equal(chunk.model, 'm');
    }
    assert.equal(chunks[0]!.prompt_token_ids, null);
    assert.ok(!('prompt_token_ids' in chunks[1]!));
    assert.deepEqual(state.usage(), {
      prompt_tokens: 5,
      total_tokens: 9,
      completion_tokens: 4,
      prompt_tokens_details: null,
    });
  });

  it('finishes on an empty final update and counts usage per chunk', () => {
    const state = new ChatStreamState(header, chatOptions('assistant', 1));
    const events = [output('a', 1), output('', 1, 'length')].flatMap((o) => state.push(0, o));
    assert.equal(events.length, 3);
    assert.deepEqual(events[2]!.chunk.choices[0].delta, { content: '' });
    assert.equal(events[2]!.chunk.choices[0].finish_reason, 'length');
    assert.deepEqual(
      events.map((event) => event.usage.completion_tokens),
      [0, 1, 1],
    );
  });

  it('gives every choice its role chunk on the first output', () => {
    const state = new ChatStreamState(header, chatOptions('bot', 2));
    const first = state.push(1, output('x', 1));
    assert.deepEqual(
      first.map((event) => [event.chunk.choices[0].index, event.chunk.choices[0].delta]),
      [
        [0, { role: 'bot', content: '' }],
        [1, { role: 'bot', content: '' }],
        [1, { content: 'x' }],
      ],
    );
  });
});

describe('assembleChat', () => {
  it('joins the deltas into one message with vLLM fields', async () => {
    const state = new ChatStreamState(header, chatOptions('assistant', 1));
    const events = feed(state, [output('Hel', 1), output('lo', 2, 'stop', null)]);
    const response = await assembleChat(replay(events), state, header, 'fp');
    assert.deepEqual(response, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'm',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Hello',
            refusal: null,
            annotations: null,
            audio: null,
            function_call: null,
            tool_calls: [],
            reasoning: null,
          },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: null,
          token_ids: null,
        },
      ],
      service_tier: null,
      system_fingerprint: 'fp',
      usage: {
        prompt_tokens: 5,
        total_tokens: 7,
        completion_tokens: 2,
        prompt_tokens_details: null,
      },
      prompt_logprobs: null,
      prompt_token_ids: null,
      kv_transfer_params: null,
    });
  });

  it('refuses a stream whose choice never finished', async () => {
    const state = new ChatStreamState(header, chatOptions('assistant', 1));
    const events = feed(state, [output('Hel', 1)]);
    await assert.rejects(assembleChat(replay(events), state, header, 'fp'), /did not finish/);
  });
});

describe('chat logprobs', () => {
  it('puts each token in its chunk and joins them, with prompt_logprobs at the top level', async () => {
    const texts = new TokenTexts(testTokenizer());
    const state = new ChatStreamState(header, {
      role: 'assistant',
      choiceCount: 1,
      logprobs: { topCount: 1, texts, asIds: false },
      texts,
    });
    const at = (token: number, logprob: number) => ({
      token,
      logprob,
      rank: 1,
      top: [{ token, logprob }],
    });
    const withLogprobs = (
      token: number,
      text: string,
      n: number,
      finish: RequestOutput['finishReason'] = null,
    ): RequestOutput => ({
      ...output(text, n, finish),
      tokenIds: [token],
      logprobs: [at(token, -n)],
      promptLogprobs: n === 1 ? [null, at(0x62, -2)] : null,
    });
    const events = feed(state, [
      withLogprobs(0x68, 'h', 1),
      withLogprobs(0xe2, '', 2),
      withLogprobs(258, '', 3, 'stop'),
    ]);
    const contents = events.flatMap((e) =>
      e.type === 'chunk' ? [e.chunk.choices[0].logprobs?.content.map((c) => c.token) ?? null] : [],
    );
    assert.deepEqual(contents, [null, ['h'], ['\ufffd'], ['<|im_end|>']], 'role chunk first');
    const response = await assembleChat(replay(events), state, header, 'fp');
    assert.deepEqual(response.choices[0]!.logprobs?.content[0], {
      token: 'h',
      logprob: -1,
      bytes: [0x68],
      top_logprobs: [{ token: 'h', logprob: -1, bytes: [0x68] }],
    });
    assert.equal(response.choices[0]!.logprobs?.content.length, 3);
    assert.deepEqual(response.prompt_logprobs, [
      null,
      { '98': { logprob: -2, rank: 1, decoded_token: 'b' } },
    ]);
  });
});
