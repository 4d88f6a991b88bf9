/**
 * Graceful shutdown of the real `servellm serve` process (vLLM's --shutdown-timeout): after
 * SIGTERM it accepts no new connection, answers 503 on the connections it has (health checks
 * and API requests), lets a long stream in flight finish within the timeout and exits 0; with
 * the default timeout 0 the stream is cut at once; a second signal exits at once.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { serveArgs, startServellm, type ServeProcess } from './support/serve-process.ts';

/** A stream long enough to outlast the checks below (the successor model: ~1 ms a token). */
const LONG_STREAM = {
  model: 'successor',
  prompt: 'abc',
  max_tokens: 1500,
  temperature: 0,
  ignore_eos: true,
  stream: true,
};

interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request through `agent` (a kept-alive connection), read whole. */
function send(
  agent: Agent | false,
  url: string,
  method: 'GET' | 'POST',
  body?: unknown,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A streamed completion: resolves `started` with the first event, `ended` with all of them. */
function openStream(url: string): {
  started: Promise<void>;
  ended: Promise<{ events: string[]; error: unknown }>;
} {
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const ended = (async () => {
    const events: string[] = [];
    let error: unknown = null;
    try {
      const response = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(LONG_STREAM),
      });
      assert.equal(response.status, 200);
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const bytes of response.body! as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(bytes, { stream: true });
        const frames = buffered.split('\n\n');
        buffered = frames.pop()!;
        for (const frame of frames) events.push(frame.slice('data: '.length));
        if (events.length > 0) markStarted();
      }
    } catch (caught) {
      error = caught;
    }
    markStarted();
    return { events, error };
  })();
  return { started, ended };
}

/** The streamed text, and the finish reason of the last chunk. */
function streamed(events: readonly string[]): { text: string; finish: string | null } {
  const chunks = events
    .filter((event) => event !== '[DONE]')
    .map((event) => JSON.parse(event) as { choices: { text: string; finish_reason: string }[] });
  return {
    text: chunks.map((chunk) => chunk.choices[0]?.text ?? '').join(''),
    finish: chunks.at(-1)?.choices[0]?.finish_reason ?? null,
  };
}

describe('servellm serve shuts down gracefully', () => {
  let model: string;
  const started: ServeProcess[] = [];

  before(async () => {
    model = await ensureModel({ preset: 'successor', weightType: 'f16' });
  });
  after(() => {
    for (const server of started) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  async function start(extra: string[]): Promise<ServeProcess & { url: string }> {
    const server = await startServellm(
      serveArgs(model, [
        '--served-model-name',
        'successor',
        '--max-model-len',
        '2k',
        '--disable-log-requests',
        '--disable-log-stats',
        ...extra,
      ]),
    );
    started.push(server);
    return server;
  }

  it('with --shutdown-timeout 10: 503 for new requests, the stream in flight completes, exit 0', async () => {
    const server = await start(['--shutdown-timeout', '10']);
    const { url } = server;
    // Two kept-alive connections, opened before the signal.
    const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const apiAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await send(healthAgent, `${url}/health`, 'GET')).status, 200);
    assert.equal((await send(apiAgent, `${url}/health`, 'GET')).status, 200);

    const stream = openStream(url);
    await stream.started;
    server.child.kill('SIGTERM');
    await server.waitFor(/waiting up to 10 s for 1 request\(s\) in flight/);

    const health = await send(healthAgent, `${url}/health`, 'GET');
    assert.equal(health.status, 503);
    assert.equal(health.headers.connection, 'close');
    const refused = await send(apiAgent, `${url}/v1/completions`, 'POST', {
      model: 'successor',
      prompt: 'abc',
      max_tokens: 2,
    });
    assert.equal(refused.status, 503);
    assert.deepEqual(JSON.parse(refused.body), {
      error: {
        message: 'The server is shutting down.',
        type: 'ServiceUnavailableError',
        param: null,
        code: 503,
      },
    });
    await assert.rejects(send(false, `${url}/health`, 'GET'), /ECONNREFUSED/);

    const { events, error } = await stream.ended;
    assert.equal(error, null);
    assert.equal(events.at(-1), '[DONE]');
    const { text, finish } = streamed(events);
    assert.equal(text.length, LONG_STREAM.max_tokens);
    assert.equal(finish, 'length');
    const exit = await server.exited();
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());
    assert.doesNotMatch(server.output(), /aborting/);
    healthAgent.destroy();
    apiAgent.destroy();
  });

  it('with the default --shutdown-timeout 0: the stream in flight is cut at once, exit 0', async () => {
    const server = await start([]);
    const stream = openStream(server.url);
    await stream.started;
    server.child.kill('SIGTERM');
    const exit = await server.exited();
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());
    const { events } = await stream.ended;
    assert.notEqual(events.at(-1), '[DONE]');
    assert.ok(streamed(events).text.length < LONG_STREAM.max_tokens);
  });

  it('a second signal while draining exits at once with 128 + its number', async () => {
    const server = await start(['--shutdown-timeout', '30']);
    const stream = openStream(server.url);
    await stream.started;
    server.child.kill('SIGTERM');
    await server.waitFor(/waiting up to 30 s/);
    const signalledAt = Date.now();
    server.child.kill('SIGINT');
    const exit = await server.exited();
    assert.deepEqual(exit, { code: 130, signal: null }, server.output());
    assert.ok(Date.now() - signalledAt < 1000, `exited ${Date.now() - signalledAt} ms later`);
    assert.match(server.output(), /second SIGINT, exiting now/);
    const { events } = await stream.ended;
    assert.notEqual(events.at(-1), '[DONE]');
  });
});
