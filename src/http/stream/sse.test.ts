import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../errors.ts';
import type { StreamMode } from '../params/request-checks.ts';
import type { Usage } from '../wire-types.ts';
import { DONE_FRAME, httpChunk, sseFrames } from './sse.ts';
import { usageOf, type StreamEvent } from './stream-events.ts';

async function* events(
  items: readonly StreamEvent<{ n: number }>[],
  failure?: Error,
): AsyncGenerator<StreamEvent<{ n: number }>> {
  for (const item of items) yield await Promise.resolve(item);
  if (failure !== undefined) throw failure;
}

async function frames(
  source: AsyncIterable<StreamEvent<{ n: number }>>,
  mode: StreamMode,
  errors: unknown[] = [],
): Promise<string[]> {
  const out: string[] = [];
  const usageChunk = (usage: Usage) =>
    ({
      id: 'x',
      object: 'text_completion',
      created: 1,
      model: 'm',
      choices: [],
      usage,
      system_fingerprint: 'f',
    }) as const;
  for await (const frame of sseFrames(source, {
    mode,
    usageChunk,
    onError: (e) => errors.push(e),
  })) {
    out.push(frame);
  }
  return out;
}

const plain: StreamMode = { stream: true, includeUsage: false, continuousUsage: false };
const withUsage: StreamMode = { stream: true, includeUsage: true, continuousUsage: false };
const continuous: StreamMode = { stream: true, includeUsage: true, continuousUsage: true };
const items: StreamEvent<{ n: number }>[] = [
  { type: 'chunk', chunk: { n: 1 }, usage: usageOf(2, 1) },
  { type: 'chunk', chunk: { n: 2 }, usage: usageOf(2, 2) },
  { type: 'usage', usage: usageOf(2, 2) },
];

describe('sseFrames', () => {
  it('frames each chunk as data: <json> and ends with [DONE]', async () => {
    assert.deepEqual(await frames(events(items), plain), [
      'data: {"n":1}\n\n',
      'data: {"n":2}\n\n',
      DONE_FRAME,
    ]);
    assert.equal(DONE_FRAME, 'data: [DONE]\n\n');
  });

  it('adds the usage chunk with include_usage, and usage on every chunk with continuous stats', async () => {
    const usage =
      '{"prompt_tokens":2,"total_tokens":4,"completion_tokens":2,"prompt_tokens_details":null}';
    const last = `data: {"id":"x","object":"text_completion","created":1,"model":"m","choices":[],"usage":${usage},"system_fingerprint":"f"}\n\n`;
    assert.deepEqual(await frames(events(items), withUsage), [
      'data: {"n":1}\n\n',
      'data: {"n":2}\n\n',
      last,
      DONE_FRAME,
    ]);
    const all = await frames(events(items), continuous);
    assert.equal(all[1], `data: {"n":2,"usage":${usage}}\n\n`);
    assert.equal(all.length, 4);
  });

  it('sends an error after the 200 as one error event, then [DONE]', async () => {
    const errors: unknown[] = [];
    const out = await frames(
      events(items.slice(0, 1), new BadRequestError('nope', 'x')),
      plain,
      errors,
    );
    assert.deepEqual(out, [
      'data: {"n":1}\n\n',
      'data: {"error":{"message":"nope","type":"BadRequestError","param":"x","code":400}}\n\n',
      DONE_FRAME,
    ]);
    assert.equal(errors.length, 1);
    const internal = await frames(events([], new Error('kaput')), plain);
    assert.equal(
      internal[0],
      'data: {"error":{"message":"kaput","type":"InternalServerError","param":null,"code":500}}\n\n',
    );
  });
});

describe('httpChunk', () => {
  it('frames data as one HTTP/1.1 chunk sized in UTF-8 bytes, in hex', () => {
    assert.equal(httpChunk('data: x\n\n'), '9\r\ndata: x\n\n\r\n');
    // 6 ASCII bytes, "é" twice at 2 bytes, "€" at 3, 2 newlines: 15 bytes = 0xf.
    assert.equal(httpChunk('data: éé€\n\n'), 'f\r\ndata: éé€\n\n\r\n');
    const long = `data: ${'a'.repeat(300)}\n\n`;
    assert.equal(httpChunk(long).slice(0, 5), '134\r\n');
  });
});
