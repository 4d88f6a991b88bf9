import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ErrorBody } from '../errors.ts';
import { ScriptedEngine } from '../testing/scripted-engine.ts';
import { sseEvents, testApp } from '../testing/test-app.ts';

const GENERATION_TYPES = "['ChatCompletionRequest', 'CompletionRequest']";

async function post(app: FastifyInstance, url: string, payload: unknown) {
  return app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
}

/** An answer without what differs between two calls (its id and creation time). */
function stable(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([key]) => key !== 'id' && key !== 'created'),
  );
}

function scriptedApp(options: Parameters<typeof testApp>[1] = {}) {
  const engine = new ScriptedEngine({
    maxModelLen: 64,
    script: (request) => ({
      pieces: ['He', 'llo', String(request.promptTokens.length)],
      finishReason: 'stop',
    }),
  });
  return testApp(engine, options);
}

describe('POST /invocations', () => {
  it('serves a chat body exactly as /v1/chat/completions: same keys, same choices', async () => {
    const { app, engine } = scriptedApp();
    const body = { model: 'test-model', messages: [{ role: 'user', content: 'Hi' }] };
    const direct = await post(app, '/v1/chat/completions', body);
    const invoked = await post(app, '/invocations', body);
    assert.equal(direct.statusCode, 200);
    assert.equal(invoked.statusCode, 200);
    const a = direct.json<Record<string, unknown>>();
    const b = invoked.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    assert.equal(b.object, 'chat.completion');
    assert.match(String(b.id), /^chatcmpl-/);
    assert.deepEqual(b.choices, a.choices);
    assert.deepEqual(stable(b), stable(a));
    assert.deepEqual(engine.added[1]!.promptTokens, engine.added[0]!.promptTokens);
  });

  it('serves a completion body exactly as /v1/completions, streaming included', async () => {
    const { app } = scriptedApp();
    const body = { prompt: ['hello', 'hi'], max_tokens: 3 };
    const direct = await post(app, '/v1/completions', body);
    const invoked = await post(app, '/invocations', body);
    assert.equal(invoked.statusCode, 200);
    const a = direct.json<Record<string, unknown>>();
    const b = invoked.json<Record<string, unknown>>();
    assert.equal(b.object, 'text_completion');
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    assert.deepEqual(b.choices, a.choices);

    const streaming = { ...body, stream: true, stream_options: { include_usage: true } };
    const directStream = await post(app, '/v1/completions', streaming);
    const invokedStream = await post(app, '/invocations', streaming);
    assert.equal(invokedStream.statusCode, 200);
    assert.match(String(invokedStream.headers['content-type']), /^text\/event-stream/);
    const events = sseEvents(invokedStream.body);
    assert.equal(events.at(-1), '[DONE]');
    assert.deepEqual(events.map(stable), sseEvents(directStream.body).map(stable));
  });

  it("tries chat before completion, as vLLM's INVOCATION_TYPES order", async () => {
    const { app } = scriptedApp();
    const response = await post(app, '/invocations', {
      prompt: 'abc',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<{ object: string }>().object, 'chat.completion');
  });

  it('answers 400 naming the expected types when no type validates', async () => {
    const { app, engine } = scriptedApp();
    const expected = `Cannot find suitable handler for request. Expected one of: ${GENERATION_TYPES}`;
    // An embeddings body, no prompt at all (vLLM's CompletionRequest needs one), a bad prompt.
    for (const body of [{ input: 'abc' }, {}, { model: 'test-model', prompt: 5 }]) {
      const response = await post(app, '/invocations', body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.deepEqual(response.json<ErrorBody>().error, {
        message: expected,
        type: 'BadRequestError',
        param: null,
        code: 400,
      });
    }
    assert.equal(engine.added.length, 0);
  });

  it("refuses malformed JSON and other media types as vLLM's JSON dependency does", async () => {
    const { app } = scriptedApp();
    const malformed = await app.inject({
      method: 'POST',
      url: '/invocations',
      headers: { 'content-type': 'application/json' },
      payload: '{"prompt": "abc",',
    });
    assert.equal(malformed.statusCode, 400);
    assert.match(malformed.json<ErrorBody>().error.message, /^JSON decode error: /);
    const form = await app.inject({
      method: 'POST',
      url: '/invocations',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'prompt=abc',
    });
    assert.equal(form.statusCode, 400);
    assert.match(form.json<ErrorBody>().error.message, /Unsupported Media Type/);
  });

  it('needs no API key, while the /v1 routes do', async () => {
    const { app } = scriptedApp({ apiKey: 'secret' });
    const body = { prompt: 'abc', max_tokens: 2 };
    assert.equal((await post(app, '/v1/completions', body)).statusCode, 401);
    assert.equal((await post(app, '/invocations', body)).statusCode, 200);
  });

  it("offers only the loaded model's types: none for a model without generation or embedding", async () => {
    const { app } = testApp(new ScriptedEngine(), { engine: null });
    const response = await post(app, '/invocations', { prompt: 'abc' });
    assert.equal(response.statusCode, 400);
    assert.equal(
      response.json<ErrorBody>().error.message,
      'Cannot find suitable handler for request. Expected one of: []',
    );
  });
});
