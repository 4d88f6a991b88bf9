/**
 * The chat stream with tool modes: named and required choices turn the output into tool-call
 * deltas and the assembled message's tool_calls, with vLLM's finish reasons and content.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestOutput } from '../../engine/engine-types.ts';
import { TokenTexts } from '../logprobs/token-texts.ts';
import { testTokenizer } from '../testing/test-app.ts';
import type { ToolMode } from '../tools/tool-choice.ts';
import type { ChatCompletionChunk, ChatToolCallDelta } from '../wire-types.ts';
import { assembleChat, ChatStreamState } from './chat-stream.ts';
import type { StreamEvent } from './stream-events.ts';

const header = { id: 'chatcmpl-1', created: 1700000000, model: 'm' };

function output(text: string, finish: RequestOutput['finishReason'] = null): RequestOutput {
  return {
    requestId: 'r',
    text,
    tokenIds: text === '' ? [] : [1],
    promptTokens: 5,
    completionTokens: 1,
    cachedTokens: 0,
    finishReason: finish,
    stopReason: null,
    logprobs: null,
    promptLogprobs: null,
  };
}

function run(mode: ToolMode, texts: readonly string[], finish: 'stop' | 'length', parallel = true) {
  const state = new ChatStreamState(header, {
    role: 'assistant',
    choiceCount: 1,
    logprobs: null,
    texts: new TokenTexts(testTokenizer()),
    tools: { mode, parallelToolCalls: parallel },
  });
  const events: StreamEvent<ChatCompletionChunk>[] = texts.flatMap((text, i) =>
    state.push(0, output(text, i === texts.length - 1 ? finish : null)),
  );
  events.push({ type: 'usage', usage: state.usage() });
  const chunks = events.flatMap((e) => (e.type === 'chunk' ? [e.chunk.choices[0]] : []));
  return { state, events, chunks };
}

async function* replay<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

function toolDeltas(chunks: ReturnType<typeof run>['chunks']): ChatToolCallDelta[] {
  return chunks.flatMap((c) => c.delta.tool_calls ?? []);
}

describe('ChatStreamState with tools', () => {
  it('named: the output streams as the arguments of one call; content stays empty; finish stop', async () => {
    const { state, events, chunks } = run(
      { kind: 'named', name: 'get_weather' },
      ['{"city"', ': "Paris"', '}'],
      'stop',
    );
    const deltas = toolDeltas(chunks);
    assert.equal(deltas.length, 3);
    assert.match(deltas[0]!.id!, /^chatcmpl-tool-[0-9a-f]{16}$/);
    assert.deepEqual(
      { ...deltas[0], id: 'x' },
      {
        index: 0,
        id: 'x',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city"' },
      },
    );
    assert.deepEqual(deltas.slice(1), [
      { index: 0, function: { arguments: ': "Paris"' } },
      { index: 0, function: { arguments: '}' } },
    ]);
    for (const chunk of chunks.slice(1)) assert.equal(chunk.delta.content, undefined);
    assert.equal(chunks.at(-1)!.finish_reason, 'stop');
    const response = await assembleChat(replay(events), state, header, 'fp');
    const message = response.choices[0]!.message;
    assert.equal(message.content, '');
    assert.deepEqual(
      message.tool_calls.map((c) => [c.type, c.function.name, c.function.arguments]),
      [['function', 'get_weather', '{"city": "Paris"}']],
    );
    assert.equal(message.tool_calls[0]!.id, deltas[0]!.id);
  });

  it('required: the JSON array becomes calls at the end; finish tool_calls, or length when cut', async () => {
    const text = '[{"name": "f", "parameters": {"x": 1}}, {"name": "g", "parameters": {}}]';
    const { state, events, chunks } = run(
      { kind: 'required' },
      [text.slice(0, 20), text.slice(20)],
      'stop',
    );
    assert.equal(chunks.at(-1)!.finish_reason, 'tool_calls');
    const response = await assembleChat(replay(events), state, header, 'fp');
    assert.deepEqual(
      response.choices[0]!.message.tool_calls.map((c) => [c.function.name, c.function.arguments]),
      [
        ['f', '{"x":1}'],
        ['g', '{}'],
      ],
    );
    assert.equal(response.choices[0]!.finish_reason, 'tool_calls');
    const single = run({ kind: 'required' }, [text], 'stop', false);
    assert.deepEqual(
      toolDeltas(single.chunks).map((d) => d.function.name),
      ['f'],
    );
    const cut = run({ kind: 'required' }, [text.slice(0, 30)], 'length');
    assert.equal(cut.chunks.at(-1)!.finish_reason, 'length');
    assert.deepEqual(toolDeltas(cut.chunks), []);
  });

  it('none: the text is content as before', async () => {
    const { state, events, chunks } = run({ kind: 'none' }, ['Hel', 'lo'], 'stop');
    assert.deepEqual(
      chunks.slice(1).map((c) => c.delta),
      [{ content: 'Hel' }, { content: 'lo' }],
    );
    const response = await assembleChat(replay(events), state, header, 'fp');
    assert.equal(response.choices[0]!.message.content, 'Hello');
    assert.deepEqual(response.choices[0]!.message.tool_calls, []);
  });
});
