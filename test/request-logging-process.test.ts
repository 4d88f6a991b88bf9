/**
 * What the real `servellm serve` process logs about requests: with two `--api-key`s, request
 * logging on at debug level and `--max-log-len 3`, either key is accepted, a wrong one refused,
 * and neither key appears anywhere in the output, for authorized and unauthorized requests
 * alike; the logged prompt is cut to 3 token ids (its text never logged). With
 * `--disable-log-requests` no request is logged at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { serveArgs, startServellm, type ServeProcess } from './support/serve-process.ts';

const KEYS = ['sk-servellm-first-key-5f0c2a9e', 'sk-servellm-second-key-81d4b7c3'];
/** A prompt whose text would show in a log line that printed it. */
const PROMPT = 'zebra crossing at dawn';

/** Authorized and refused requests of every kind, each checked for its status. */
async function exercise(url: string): Promise<void> {
  const call = async (
    path: string,
    authorization: string | null,
    body?: unknown,
  ): Promise<number> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization !== null) headers.authorization = authorization;
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await response.arrayBuffer();
    return response.status;
  };
  const completion = { model: 'successor', prompt: PROMPT, max_tokens: 2, temperature: 0 };
  const chat = { model: 'successor', messages: [{ role: 'user', content: PROMPT }], max_tokens: 2 };
  for (const key of KEYS) {
    assert.equal(await call('/v1/models', `Bearer ${key}`), 200);
    assert.equal(await call('/v1/completions', `Bearer ${key}`, completion), 200);
    assert.equal(await call('/v1/chat/completions', `Bearer ${key}`, chat), 200);
    // Refused, while carrying the key (or most of it) in the header.
    assert.equal(await call('/v1/completions', `Basic ${key}`, completion), 401);
    assert.equal(await call('/v1/completions', `Bearer ${key}x`, completion), 401);
    assert.equal(await call('/v1/models', key), 401);
  }
  assert.equal(await call('/v1/models', 'Bearer wrong'), 401);
  assert.equal(await call('/v1/completions', null, completion), 401);
}

/** The JSON log lines of the output (pino's), parsed. */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('request logs of servellm serve', () => {
  let model: string;
  const servers: ServeProcess[] = [];

  before(async () => {
    model = await ensureModel({ preset: 'successor', weightType: 'f16' });
  });
  after(() => {
    for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  async function run(extra: string[]): Promise<string> {
    const args = ['--served-model-name', 'successor', '--max-model-len', '256'];
    for (const key of KEYS) args.push('--api-key', key);
    const server = await startServellm(serveArgs(model, [...args, ...extra]));
    servers.push(server);
    await exercise(server.url);
    server.child.kill('SIGTERM');
    assert.equal((await server.exited()).code, 0, server.output());
    return server.output();
  }

  it('never show a key, and cut prompts to --max-log-len', async () => {
    const output = await run(['--log-level', 'debug', '--max-log-len', '3']);
    const lines = logLines(output);
    // Request logging was on: refused requests were logged too.
    const completed = lines.filter((line) => line.msg === 'request completed');
    const statuses = completed.map((line) => (line.res as { statusCode: number }).statusCode);
    assert.ok(statuses.includes(200) && statuses.includes(401), statuses.join());
    for (const key of KEYS) {
      assert.ok(!output.includes(key), `the key ${key} was logged`);
      // Nor a long piece of it.
      assert.ok(!output.includes(key.slice(0, 16)), `a piece of ${key} was logged`);
    }
    const received = lines.filter((line) => line.msg === 'Received request');
    assert.equal(received.length, 4);
    for (const line of received) {
      assert.equal((line.promptTokenIds as number[]).length, 3);
      assert.ok((line.promptTokens as number) > 3);
    }
    assert.ok(!output.includes(PROMPT), 'the prompt text was logged');
  });

  it('log no request with --disable-log-requests', async () => {
    const output = await run(['--log-level', 'debug', '--disable-log-requests']);
    const lines = logLines(output);
    assert.deepEqual(
      lines.filter((line) => line.req !== undefined || line.res !== undefined),
      [],
    );
    assert.doesNotMatch(output, /Received request|incoming request|request completed/);
    for (const key of KEYS) assert.ok(!output.includes(key));
  });
});
