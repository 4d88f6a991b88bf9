/**
 * The "Received request" log line: one per engine request, its prompt ids cut to --max-log-len,
 * and its parameters.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { testApp } from './testing/test-app.ts';

/** An app whose log lines land in the returned array, parsed. */
function loggedApp(maxLogLen: number | null) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const { app } = testApp(undefined, { logger: { level: 'info', stream }, maxLogLen });
  return { app, lines };
}

const received = (lines: Record<string, unknown>[]) =>
  lines.filter((line) => line.msg === 'Received request');

describe('request log', () => {
  it('logs each engine request with its prompt ids cut to --max-log-len', async () => {
    const { app, lines } = loggedApp(3);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/completions',
      payload: {
        prompt: 'hello',
        max_tokens: 2,
        n: 2,
        temperature: 1,
        seed: 5,
        logit_bias: { '97': 2 },
      },
    });
    assert.equal(response.statusCode, 200);
    const logged = received(lines);
    assert.equal(logged.length, 2);
    for (const line of logged) {
      assert.deepEqual(line.promptTokenIds, [104, 101, 108]);
      assert.equal(line.promptTokens, 5);
      const params = line.params as Record<string, unknown>;
      assert.equal(params.maxTokens, 2);
      assert.deepEqual(params.logitBias, { '97': 2 });
    }
    assert.match(String(logged[0]!.requestId), /^cmpl-[0-9a-f]+-0-[0-9a-f]{8}$/);
  });

  it('logs whole prompts without a limit', async () => {
    const { app, lines } = loggedApp(null);
    await app.inject({
      method: 'POST',
      url: '/v1/completions',
      payload: { prompt: 'hello', max_tokens: 1 },
    });
    assert.deepEqual(received(lines)[0]!.promptTokenIds, [104, 101, 108, 108, 111]);
  });
});
