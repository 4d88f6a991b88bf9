import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { bearerTokenMatches, requiresApiKey } from './auth.ts';
import { testApp } from './testing/test-app.ts';

const KEY = 'sk-secret';

describe('API key', () => {
  it('protects /v1 routes with exactly {"error":"Unauthorized"}', async () => {
    const { app, engine } = testApp(undefined, { apiKey: KEY });
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Basic ${KEY}`,
      KEY,
      `Bearer ${KEY}x`,
      'Bearer',
    ]) {
      const headers = authorization === undefined ? {} : { authorization };
      for (const [method, url] of [
        ['GET', '/v1/models'],
        ['POST', '/v1/completions'],
        ['POST', '/v1/chat/completions'],
      ] as const) {
        const response = await app.inject(
          method === 'POST'
            ? { method, url, headers, payload: { prompt: 'x' } }
            : { method, url, headers },
        );
        assert.equal(response.statusCode, 401, `${method} ${url} ${authorization}`);
        assert.equal(response.body, '{"error":"Unauthorized"}');
      }
    }
    assert.equal(engine.added.length, 0);
  });

  it('accepts the key with the bearer scheme in any case', async () => {
    const { app } = testApp(undefined, { apiKey: KEY });
    for (const authorization of [`Bearer ${KEY}`, `bearer ${KEY}`, `BEARER ${KEY}`]) {
      const response = await app.inject({
        method: 'GET',
        url: '/v1/models',
        headers: { authorization },
      });
      assert.equal(response.statusCode, 200, authorization);
    }
  });

  it('leaves health, ping and version open', async () => {
    const { app } = testApp(undefined, { apiKey: KEY });
    for (const url of ['/health', '/ping', '/version']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
    }
  });

  it('accepts any of several keys (apiKeys)', async () => {
    const { app } = testApp(undefined, { apiKey: null, apiKeys: ['k1', 'k2'] });
    for (const [authorization, status] of [
      ['Bearer k1', 200],
      ['Bearer k2', 200],
      ['Bearer k3', 401],
    ] as const) {
      const response = await app.inject({
        method: 'GET',
        url: '/v1/models',
        headers: { authorization },
      });
      assert.equal(response.statusCode, status, authorization);
    }
  });

  it('checks nothing without a key', async () => {
    const { app } = testApp();
    assert.equal((await app.inject({ method: 'GET', url: '/v1/models' })).statusCode, 200);
  });

  it('knows which paths need the key', () => {
    assert.ok(requiresApiKey('/v1/models'));
    assert.ok(requiresApiKey('/v1'));
    assert.ok(requiresApiKey('/v1/completions?x=1'));
    assert.ok(!requiresApiKey('/v10'));
    assert.ok(!requiresApiKey('/health'));
    const digest = createHash('sha256').update(KEY).digest();
    assert.ok(bearerTokenMatches(`Bearer ${KEY}`, [digest]));
    assert.ok(!bearerTokenMatches(undefined, [digest]));
    assert.ok(!bearerTokenMatches(`Token ${KEY}`, [digest]));
    assert.ok(!bearerTokenMatches(`Bearer ${KEY}`, []));
  });
});
