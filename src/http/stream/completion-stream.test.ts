import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestOutput } from '../../engine/engine-types.ts';
import type { CompletionChunk } from '../wire-types.ts';
import { TokenTexts } from '../logprobs/token-texts.ts';
import { testTokenizer } from '../testing/test-app.ts';
import {
  assembleCompletion,
  CompletionStreamState,
  type CompletionResponseOptions,
} from './completion-stream.ts';
import type { StreamEvent } from './stream-events.ts';

const header = { id: 'cmpl-1', created: 1700000000, model: 'm' };
const PLAIN: CompletionResponseOptions = {
  logprobs: null,
  echo: [],
  texts: new TokenTexts(testTokenizer()),
};

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
    cachedTokens: 0,
    finishReason: finish,
    stopReason: stop,
    logprobs: null,
    promptLogprobs: null,
  };
}

async function* replay<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

describe('CompletionStreamState', () => {
  it('sends one chunk per output with text, finish only on the last, skipping empty updates', () => {
    const state = new CompletionStreamState(header, PLAIN);
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
    const state = new CompletionStreamState(header, PLAIN);
    const events: StreamEvent<CompletionChunk>[] = [
      ...state.push(1, output(2, 'x', 1)),
      ...state.push(0, output(4, 'p', 1)),
      ...state.push(1, output(2, 'y', 2, 'length')),
      ...state.push(0, output(4, 'q', 2, 'stop', 'END')),
      { type: 'usage', usage: state.usage() },
    ];
    const response = await assembleCompletion(replay(events), state, header, 'fp');
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
    const state = new CompletionStreamState(header, PLAIN);
    const events: StreamEvent<CompletionChunk>[] = [
      ...state.push(0, output(2, '', 0, 'stop')),
      { type: 'usage', usage: state.usage() },
    ];
    const response = await assembleCompletion(replay(events), state, header, 'fp');
    assert.equal(response.choices[0]!.text, '');
  });
});

describe('completions logprobs and echo', () => {
  const texts = new TokenTexts(testTokenizer());
  /** A position whose own token is the only top token. */
  const sure = (token: number, logprob: number) => ({
    token,
    logprob,
    rank: 1,
    top: [{ token, logprob }],
  });
  /** An output of one token 'x' or 'y' (text held back when `text` is ''). */
  function tokenOutput(
    token: number,
    text: string,
    completion: number,
    finish: RequestOutput['finishReason'] = null,
    promptLogprobs: RequestOutput['promptLogprobs'] = null,
  ): RequestOutput {
    return {
      ...output(2, text, completion, finish),
      tokenIds: [token],
      logprobs: [sure(token, -0.25 * completion)],
      promptLogprobs,
    };
  }
  const promptLogprobs = [null, sure(0x62, -1)];

  it('streams the echoed prompt first, a chunk per token, offsets continuing the text sent', async () => {
    const state = new CompletionStreamState(header, {
      logprobs: { topCount: 0, texts, asIds: false },
      echo: [{ text: 'ab', tokens: [0x61, 0x62], only: false }],
      texts,
    });
    const events: StreamEvent<CompletionChunk>[] = [
      ...state.push(0, tokenOutput(0x78, 'x', 1, null, promptLogprobs)),
      // A token whose text is held back still sends its logprobs.
      ...state.push(0, tokenOutput(0xe2, '', 2)),
      ...state.push(0, tokenOutput(0x79, 'y', 3, 'length')),
      { type: 'usage', usage: state.usage() },
    ];
    const choices = events.flatMap((e) => (e.type === 'chunk' ? [e.chunk.choices[0]] : []));
    assert.deepEqual(
      choices.map((c) => [c.text, c.logprobs]),
      [
        [
          'abx',
          {
            text_offset: [0, 1, 2],
            token_logprobs: [null, -1, -0.25],
            tokens: ['a', 'b', 'x'],
            top_logprobs: [null, { b: -1 }, { x: -0.25 }],
          },
        ],
        [
          '',
          {
            text_offset: [3],
            token_logprobs: [-0.5],
            tokens: ['\ufffd'],
            top_logprobs: [{ '\ufffd': -0.5 }],
          },
        ],
        [
          'y',
          {
            text_offset: [3],
            token_logprobs: [-0.75],
            tokens: ['y'],
            top_logprobs: [{ y: -0.75 }],
          },
        ],
      ],
    );
    const response = await assembleCompletion(replay(events), state, header, 'fp');
    const choice = response.choices[0]!;
    assert.equal(choice.text, 'abxy');
    assert.deepEqual(choice.logprobs?.text_offset, [0, 1, 2, 3, 4], 'offsets of the joined names');
    assert.deepEqual(choice.logprobs?.tokens, ['a', 'b', 'x', '\ufffd', 'y']);
    assert.deepEqual(choice.prompt_logprobs, [
      null,
      { '98': { logprob: -1, rank: 1, decoded_token: 'b' } },
    ]);
  });

  it('answers max_tokens 0 with the prompt alone', async () => {
    const state = new CompletionStreamState(header, {
      logprobs: { topCount: 0, texts, asIds: false },
      echo: [{ text: 'ab', tokens: [0x61, 0x62], only: true }],
      texts,
    });
    const events: StreamEvent<CompletionChunk>[] = [
      ...state.push(0, tokenOutput(0x78, 'x', 1, 'length', promptLogprobs)),
      { type: 'usage', usage: state.usage() },
    ];
    const response = await assembleCompletion(replay(events), state, header, 'fp');
    assert.equal(response.choices[0]!.text, 'ab');
    assert.deepEqual(response.choices[0]!.logprobs?.tokens, ['a', 'b']);
    assert.equal(response.choices[0]!.finish_reason, 'length');
    assert.equal(response.usage.completion_tokens, 1, 'vLLM counts the token it generated');
  });
});
