/**
 * The drain gate: requests in flight are counted until their response closes; once draining,
 * new requests answer 503 (health checks empty, the API with its error body) and ask the client
 * to close the connection; waiting for the drain ends when the last request does, or times out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DrainGate } from './draining.ts';
import { ScriptedEngine } from './testing/scripted-engine.ts';
import { sseEvents, testApp } from './testing/test-app.ts';

/** An app with a gate whose every engine request waits for `release()`. */
function gatedApp() {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const drain = new DrainGate();
  const { app } = testApp(new ScriptedEngine({ maxModelLen: 64, gate: held }), {
    drain,
    apiKey: 'sk-key',
  });
  return { app, drain, release };
}

const AUTH = { authorization: 'Bearer sk-key' };

describe('drain gate', () => {
  it('answers normally and counts nothing left over before draining', async () => {
    const { app, drain } = gatedApp();
    const health = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.equal(drain.inFlight, 0);
    assert.equal(await drain.whenDrained(10), true);
  });

  it('refuses new requests with 503 once draining: health empty, the API in its error shape', async () => {
    const { app, drain } = gatedApp();
    drain.begin();
    for (const url of ['/health', '/ping']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 503, url);
      assert.equal(response.body, '');
      assert.equal(response.headers.connection, 'close');
    }
    // Refused before the key is checked: a draining server serves nobody.
    for (const headers of [AUTH, {}]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/completions',
        headers,
        payload: { prompt: 'hi', max_tokens: 2 },
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers.connection, 'close');
      assert.deepEqual(response.json(), {
        error: {
          message: 'The server is shutting down.',
          type: 'ServiceUnavailableError',
          param: null,
          code: 503,
        },
      });
    }
  });

  it('lets requests in flight (streamed and not) finish, and resolves when the last one has', async () => {
    const { app, drain, release } = gatedApp();
    const plain = app.inject({
      method: 'POST',
      url: '/v1/completions',
      headers: AUTH,
      payload: { prompt: 'hi', max_tokens: 3 },
    });
    const streamed = app.inject({
      method: 'POST',
      url: '/v1/completions',
      headers: AUTH,
      payload: { prompt: 'hi', max_tokens: 3, stream: true },
    });
    while (drain.inFlight < 2) await new Promise((resolve) => setImmediate(resolve));
    drain.begin();
    assert.equal(await drain.whenDrained(20), false, 'both requests are held');
    const drained = drain.whenDrained(5000);
    release();
    const [plainResponse, streamResponse] = await Promise.all([plain, streamed]);
    assert.equal(await drained, true);
    assert.equal(drain.inFlight, 0);
    assert.equal(plainResponse.statusCode, 200);
    assert.equal(plainResponse.json<{ choices: { text: string }[] }>().choices[0]!.text, 'aaa');
    const events = sseEvents(streamResponse.body);
    assert.equal(events.at(-1), '[DONE]');
    assert.equal(events.length, 4);
  });
});
