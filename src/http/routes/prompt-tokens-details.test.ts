/**
 * `usage.prompt_tokens_details` through both generation routes (vLLM's
 * --enable-prompt-tokens-details): `{cached_tokens: n}` with the flag on and n > 0, else null;
 * each prompt's cached tokens counted once (its first choice's), in the JSON answer, the
 * streamed usage chunk, every continuous_usage_stats chunk and a best_of answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineRequest } from '../../engine/engine-types.ts';
import { ScriptedEngine } from '../testing/scripted-engine.ts';
import { sseEvents, testApp } from '../testing/test-app.ts';
import type { ChatCompletionResponse, CompletionResponse, Usage } from '../wire-types.ts';

/** The choice index an engine request id carries (`<response id>-<index>-<8 hex>`). */
function choiceOf(request: EngineRequest): number {
  const match = /-(\d+)-[0-9a-f]{8}$/.exec(request.id);
  if (match === null) throw new Error(`unexpected engine request id ${request.id}`);
  return Number(match[1]);
}

/** An app whose engine reports `cached[choice]` cached prompt tokens (0 beyond the list). */
function appWith(cached: readonly number[], enablePromptTokensDetails: boolean) {
  const engine = new ScriptedEngine({
    maxModelLen: 64,
    script: (request) => ({
      pieces: Array.from({ length: request.params.maxTokens }, () => 'a'),
      cachedTokens: cached[choiceOf(request)] ?? 0,
    }),
  });
  return testApp(engine, { enablePromptTokensDetails }).app;
}

function usageOfChunks(body: string): (Usage | undefined)[] {
  return sseEvents(body)
    .slice(0, -1)
    .map((event) => (event as { usage?: Usage }).usage);
}

describe('usage.prompt_tokens_details', () => {
  it('reports the cached tokens with the flag on, null with it off or none cached', async () => {
    for (const [flag, cached, details] of [
      [true, [4], { cached_tokens: 4 }],
      [false, [4], null],
      [true, [0], null],
    ] as const) {
      const app = appWith(cached, flag);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/completions',
        payload: { prompt: 'hello', max_tokens: 2 },
      });
      assert.deepEqual(response.json<CompletionResponse>().usage, {
        prompt_tokens: 5,
        total_tokens: 7,
        completion_tokens: 2,
        prompt_tokens_details: details,
      });
    }
  });

  it("counts each prompt's cached tokens once with n > 1 (its first choice's)", async () => {
    // Prompts "hello" (choices 0-1) and "hi" (2-3): the leaders found 3 and 1 cached, their
    // siblings copied the leaders' KV and report 0 of their own.
    const app = appWith([3, 0, 1, 0], true);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/completions',
      payload: { prompt: ['hello', 'hi'], n: 2, max_tokens: 1 },
    });
    assert.deepEqual(response.json<CompletionResponse>().usage, {
      prompt_tokens: 7,
      total_tokens: 11,
      completion_tokens: 4,
      prompt_tokens_details: { cached_tokens: 4 },
    });
  });

  it("keeps the prompt's cached tokens in a best_of answer", async () => {
    const app = appWith([3, 0, 0], true);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/completions',
      payload: { prompt: 'hello', best_of: 3, max_tokens: 2 },
    });
    const body = response.json<CompletionResponse>();
    assert.equal(body.choices.length, 1);
    assert.deepEqual(body.usage, {
      prompt_tokens: 5,
      total_tokens: 7,
      completion_tokens: 2,
      prompt_tokens_details: { cached_tokens: 3 },
    });
  });

  it('reports them on the usage chunk and every continuous usage chunk of a stream', async () => {
    const app = appWith([3], true);
    for (const url of ['/v1/completions', '/v1/chat/completions']) {
      const response = await app.inject({
        method: 'POST',
        url,
        payload: {
          ...(url === '/v1/completions'
            ? { prompt: 'hello' }
            : { messages: [{ role: 'user', content: 'Hi' }] }),
          max_tokens: 2,
          stream: true,
          stream_options: { include_usage: true, continuous_usage_stats: true },
        },
      });
      const usages = usageOfChunks(response.body);
      assert.ok(usages.length >= 3, url);
      for (const usage of usages) {
        assert.deepEqual(usage?.prompt_tokens_details, { cached_tokens: 3 }, url);
      }
      assert.equal(usages.at(-1)?.completion_tokens, 2, `${url}: the usage chunk`);
    }
  });

  it('reports them in a chat answer', async () => {
    for (const [flag, details] of [
      [true, { cached_tokens: 9 }],
      [false, null],
    ] as const) {
      const app = appWith([9], flag);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 },
      });
      assert.deepEqual(
        response.json<ChatCompletionResponse>().usage.prompt_tokens_details,
        details,
      );
    }
  });
});
