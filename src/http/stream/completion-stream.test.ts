import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestOutput } from '../../engine/engine-types.ts';
import type { CompletionChunk } from '../wire-types.ts';
import { assembleCompletion, CompletionStreamState } from './completion-stream.ts';
import type { StreamEvent } from './stream-events.ts';

const header = { id: 'cmpl-1', created: 1700000000, model: 'm' };

function output(
  prompt: number,
  text: string,
  completion: number,
  finish: RequestOutput['finishReason'] = null,
  stop: RequestOutput['stopReason'] = null,
): RequestOutput {
  return {
    requestId: 'r',
    text,
    tokenIds: [1],
    promptTokens: prompt,
    completionTokens: completion,
    finishReason: finish,
    stopReason: stop,
  };
}

async function* replay<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

describe('CompletionStreamState', () => {
  it('sends one chunk per output with text, finish only on the last, skipping empty updates', () => {
    const state = new CompletionStreamState(header);
    const chunks = [
      state.push(0, output(3, 'a', 1)),
      state.push(0, output(3, '', 2)),
      state.push(0, output(3, 'b', 3, 'stop', 7)),
    ].flat();
    assert.deepEqual(
      chunks.map((event) => event.chunk.choices[0]),
      [
        {
          index: 0,
          text: 'a',
          logprobs: null,
          finish_reason: null,
          stop_reason: null,
          prompt_token_ids: null,
          token_ids: null,
        },
        {
          index: 0,
          text: 'b',
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: 7,
          prompt_token_ids: null,
          token_ids: null,
        },
      ],
    );
    assert.equal(chunks[0]!.chunk.object, 'text_completion');
    assert.deepEqual(
      chunks.map((event) => event.usage.total_tokens),
      [4, 6],
    );
  });
});

describe('assembleCompletion', () => {
  it('orders choices by prompt index and sums usage over prompts', async () => {
    const state = new CompletionStreamState(header);
    const events: StreamEvent<CompletionChunk>[] = [
      ...state.push(1, output(2, 'x', 1)),
      ...state.push(0, output(4, 'p', 1)),
      ...state.push(1, output(2, 'y', 2, 'length')),
      ...state.push(0, output(4, 'q', 2, 'stop', 'END')),
      { type: 'usage', usage: state.usage() },
    ];
    const response = await assembleCompletion(replay(events), header, 'fp');
    assert.deepEqual(
      response.choices.map((c) => [c.index, c.text, c.finish_reason, c.stop_reason]),
      [
        [0, 'pq', 'stop', 'END'],
        [1, 'xy', 'length', null],
      ],
    );
    assert.deepEqual(response.usage, {
      prompt_tokens: 6,
      total_tokens: 10,
      completion_tokens: 4,
      prompt_tokens_details: null,
    });
    assert.equal(response.object, 'text_completion');
    assert.equal(response.system_fingerprint, 'fp');
    assert.deepEqual(Object.keys(response.choices[0]!), [
      'index',
      'text',
      'logprobs',
      'finish_reason',
      'stop_reason',
      'token_ids',
      'prompt_logprobs',
      'prompt_token_ids',
    ]);
  });

  it('keeps an empty text for a choice that finished without any', async () => {
    const state = new CompletionStreamState(header);
    const events: StreamEvent<CompletionChunk>[] = [
      ...state.push(0, output(2, '', 0, 'stop')),
      { type: 'usage', usage: state.usage() },
    ];
    const response = await assembleCompletion(replay(events), header, 'fp');
    assert.equal(response.choices[0]!.text, '');
  });
});
