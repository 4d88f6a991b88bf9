/**
 * The API-key check compares in constant time: every check hashes the presented token and
 * compares SHA-256 digests (32 bytes against 32 bytes, whatever the lengths of the token and
 * the keys) with `crypto.timingSafeEqual`, once against each configured key, without stopping
 * at the first match; the token itself is never what is compared.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { apiKeyHook } from './auth.ts';

const KEYS = ['k', 'a-much-longer-key-of-forty-two-characters!'];

/** Runs the hook on a /v1 request with `authorization`; true when it lets the request through. */
async function passes(
  hook: ReturnType<typeof apiKeyHook>,
  authorization: string | undefined,
): Promise<boolean> {
  const request = {
    method: 'GET',
    url: '/v1/models',
    headers: authorization === undefined ? {} : { authorization },
  } as unknown as FastifyRequest;
  return hook(request).then(
    () => true,
    () => false,
  );
}

describe('API key comparison', () => {
  it('uses timingSafeEqual over equal-length digests, once per key, for every token', async (t) => {
    const compared: [Buffer, Buffer][] = [];
    const original = crypto.timingSafeEqual;
    const spy = t.mock.method(crypto, 'timingSafeEqual', (a: Buffer, b: Buffer) => {
      compared.push([a, b]);
      return original(a, b);
    });
    // auth.ts imported the function by name: let that binding see the spy.
    syncBuiltinESMExports();
    try {
      const hook = apiKeyHook(KEYS);
      const cases: [string | undefined, boolean][] = [
        [`Bearer ${KEYS[0]}`, true],
        [`Bearer ${KEYS[1]}`, true],
        ['Bearer ', false],
        ['Bearer x', false],
        [`Bearer ${KEYS[1]}x`, false],
        [`Bearer ${'k'.repeat(10_000)}`, false],
      ];
      for (const [authorization, expected] of cases) {
        compared.length = 0;
        assert.equal(await passes(hook, authorization), expected, authorization);
        // Every key, even after a match: the time does not tell which key matched.
        assert.equal(compared.length, KEYS.length, authorization);
        for (const [token, key] of compared) {
          assert.equal(token.length, 32);
          assert.equal(key.length, 32);
          assert.notDeepEqual(token, Buffer.from(authorization!.slice('Bearer '.length)));
        }
      }
      // No Bearer token: nothing to compare, refused.
      compared.length = 0;
      assert.equal(await passes(hook, undefined), false);
      assert.equal(await passes(hook, `Basic ${KEYS[0]}`), false);
      assert.equal(compared.length, 0);
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });
});
