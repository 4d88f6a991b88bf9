/**
 * An engine error in one request fails that request only, over HTTP: the real engine on the
 * fake backend, whose detokenizer throws on one token that only some requests draw. Those
 * answer 500 in the OpenAI error body (not streamed) or an SSE error event followed by
 * `data: [DONE]` (streamed); the requests batched with them complete with their whole text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeBackend } from '../src/backend/fake-backend.ts';
import { successorLogits } from '../src/engine/engine-test-fixtures.ts';
import { LlmEngine } from '../src/engine/llm-engine.ts';
import { createApp } from '../src/http/app.ts';
import { sseEvents } from '../src/http/testing/test-app.ts';

/** '~' follows '}' in the successor model: a prompt ending with '}' draws it first. */
const POISON = 0x7e;

function faultyServer() {
  const backend = new FakeBackend({ logits: successorLogits() });
  const tokenizer = backend.tokenizer;
  const tokenBytes = tokenizer.tokenBytes.bind(tokenizer);
  tokenizer.tokenBytes = (token) => {
    if (token === POISON) throw new Error('detokenizer failure on token 126');
    return tokenBytes(token);
  };
  const engine = new LlmEngine(backend, {
    maxModelLen: 64,
    maxNumSeqs: 8,
    maxNumBatchedTokens: 64,
  });
  const app = createApp({
    engine,
    tokenizer,
    model: backend.info,
    servedModelNames: ['fake'],
    chatTemplate: null,
    maxModelLen: 64,
    version: '0.0.0-test',
  });
  return { app, engine };
}

interface Choice {
  readonly text: string;
  readonly finish_reason: string | null;
}

describe('engine errors over HTTP', () => {
  it('fail only their own request: 500 body, or an SSE error event then [DONE]', async () => {
    const { app, engine } = faultyServer();
    const complete = (prompt: string, stream: boolean) =>
      app.inject({
        method: 'POST',
        url: '/v1/completions',
        payload: { model: 'fake', prompt, max_tokens: 6, temperature: 0, stream },
      });
    // All in one turn: they join the engine's first step together.
    const [badPlain, badStream, goodPlain, goodStream] = await Promise.all([
      complete('{|}', false),
      complete('xy}', true),
      complete('abc', false),
      complete('klm', true),
    ]);

    assert.equal(badPlain.statusCode, 500);
    assert.deepEqual(badPlain.json(), {
      error: {
        message: 'detokenizer failure on token 126',
        type: 'InternalServerError',
        param: null,
        code: 500,
      },
    });

    assert.equal(badStream.statusCode, 200);
    const badEvents = sseEvents(badStream.body);
    assert.equal(badEvents.at(-1), '[DONE]');
    assert.deepEqual(badEvents.at(-2), {
      error: {
        message: 'detokenizer failure on token 126',
        type: 'InternalServerError',
        param: null,
        code: 500,
      },
    });

    assert.equal(goodPlain.statusCode, 200);
    const plainChoice = goodPlain.json<{ choices: Choice[] }>().choices[0]!;
    assert.equal(plainChoice.text, 'defghi');
    assert.equal(plainChoice.finish_reason, 'length');

    assert.equal(goodStream.statusCode, 200);
    const goodEvents = sseEvents(goodStream.body);
    assert.equal(goodEvents.at(-1), '[DONE]');
    const chunks = goodEvents.slice(0, -1) as { choices: Choice[] }[];
    assert.equal(chunks.map((chunk) => chunk.choices[0]!.text).join(''), 'nopqrs');
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');

    await engine.whenIdle();
    assert.equal(engine.stats().running, 0);
    await app.close();
    await engine.shutdown();
  });
});
