/**
 * `usage.prompt_tokens_details.cached_tokens` through the whole server (in-process, the
 * successor model, the official `openai` client), with and without
 * --enable-prompt-tokens-details. The prefix cache reuses the longest prefix of full 16-token
 * blocks found by block hash, extended token by token, and always leaves the last prompt token
 * to compute (the request samples after it): a prompt of L tokens sent a second time finds
 * L - 1 cached. Each test uses prompts of its own, so no test finds another's cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';

const MODEL = 'successor';

/** A prompt of `length` byte tokens (the successor model's tokenizer: one token per byte). */
function promptOf(seed: string, length: number): string {
  return seed.repeat(Math.ceil(length / seed.length)).slice(0, length);
}

function clientOf(server: RunningServer): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

describe('prompt_tokens_details through the server', () => {
  let withDetails: RunningServer;
  let withoutDetails: RunningServer;

  before(async () => {
    withDetails = await startServer(await testServeOptions({ enablePromptTokensDetails: true }));
    withoutDetails = await startServer(await testServeOptions());
  });
  after(async () => {
    await withDetails.close();
    await withoutDetails.close();
  });

  it('reports L - 1 cached tokens for a prompt of L tokens sent again', async () => {
    const client = clientOf(withDetails);
    const prompt = promptOf('The quick brown fox. ', 100);
    const request = { model: MODEL, prompt, max_tokens: 3, temperature: 0 };
    const first = await client.completions.create(request);
    assert.deepEqual(first.usage, {
      prompt_tokens: 100,
      completion_tokens: 3,
      total_tokens: 103,
      prompt_tokens_details: null,
    });
    const second = await client.completions.create(request);
    assert.deepEqual(second.usage?.prompt_tokens_details, { cached_tokens: 99 });
    assert.equal(second.choices[0]!.text, first.choices[0]!.text);

    // Streamed: the usage chunk carries it too.
    const stream = await client.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.deepEqual(usage?.prompt_tokens_details, { cached_tokens: 99 });
  });

  it('reports it for chat: the rendered prompt less its last token', async () => {
    const client = clientOf(withDetails);
    const messages = [{ role: 'user' as const, content: promptOf('Tell me more. ', 60) }];
    const first = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 2 });
    assert.equal(first.usage?.prompt_tokens_details, null);
    const second = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 2 });
    const promptTokens = second.usage!.prompt_tokens;
    assert.equal(promptTokens, first.usage.prompt_tokens);
    assert.deepEqual(second.usage?.prompt_tokens_details, { cached_tokens: promptTokens - 1 });
  });

  it('counts the prompt once with n = 2: what the leader found', async () => {
    const client = clientOf(withDetails);
    // The second prompt shares the first one's 96 tokens (six full blocks), then differs: the
    // leader finds 96 cached and its sibling copies the leader's KV (finding nothing itself).
    const shared = promptOf('Pack my box with five dozen liquor jugs. ', 96);
    await client.completions.create({ model: MODEL, prompt: `${shared}ab`, max_tokens: 2 });
    const both = await client.completions.create({
      model: MODEL,
      prompt: `${shared}cd`,
      max_tokens: 2,
      n: 2,
      seed: 1,
    });
    assert.equal(both.choices.length, 2);
    assert.deepEqual(both.usage, {
      prompt_tokens: 98,
      completion_tokens: 4,
      total_tokens: 102,
      prompt_tokens_details: { cached_tokens: 96 },
    });
  });

  it('reports null without --enable-prompt-tokens-details, though the cache was used', async () => {
    const client = clientOf(withoutDetails);
    const prompt = promptOf('Sphinx of black quartz, judge my vow. ', 80);
    const request = { model: MODEL, prompt, max_tokens: 2, temperature: 0 };
    await client.completions.create(request);
    const hitsBefore = withoutDetails.engine.stats().prefixCacheHits;
    const second = await client.completions.create(request);
    assert.equal(withoutDetails.engine.stats().prefixCacheHits - hitsBefore, 79);
    assert.equal(second.usage?.prompt_tokens_details, null);
  });
});
