/**
 * The real `openai` 6 client against the app on a loopback socket, and client disconnects over
 * real sockets (Fastify's inject cannot disconnect).
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { FastifyInstance } from 'fastify';
import { ScriptedEngine } from './testing/scripted-engine.ts';
import { testApp } from './testing/test-app.ts';
import type { CompletionChunk } from './wire-types.ts';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe('the openai client', () => {
  const engine = new ScriptedEngine({
    maxModelLen: 64,
    script: (r) =>
      r.params.stop.includes('!')
        ? { pieces: ['Hello', ' there'], finishReason: 'stop', stopReason: '!' }
        : { pieces: Array.from({ length: r.params.maxTokens }, (_, i) => `t${i}`) },
  });
  const { app } = testApp(engine, { apiKey: 'sk-test' });
  let client: OpenAI;

  before(async () => {
    client = new OpenAI({ baseURL: `${await listen(app)}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  });
  after(() => app.close());

  it('lists the served models', async () => {
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((model) => model.id),
      ['test-model', 'alias'],
    );
  });

  it('creates a completion', async () => {
    const completion = await client.completions.create({
      model: 'test-model',
      prompt: 'Say hi',
      max_tokens: 3,
    });
    assert.equal(completion.choices[0]!.text, 't0t1t2');
    assert.equal(completion.choices[0]!.finish_reason, 'length');
    assert.deepEqual(completion.usage, {
      prompt_tokens: 6,
      completion_tokens: 3,
      total_tokens: 9,
      prompt_tokens_details: null,
    });
  });

  it('streams a completion with usage', async () => {
    const stream = await client.completions.create({
      model: 'test-model',
      prompt: ['a', 'b'],
      max_tokens: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', ''];
    const finishes: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.text;
        if (choice.finish_reason !== null) finishes.push(choice.finish_reason);
      }
    }
    assert.deepEqual(texts, ['t0t1', 't0t1']);
    assert.deepEqual(finishes, ['length', 'length']);
    assert.equal(usage?.completion_tokens, 4);
    assert.equal(usage?.prompt_tokens, 2);
  });

  it('streams exact HTTP/1.1 chunks on a keep-alive connection, and plain bytes to HTTP/1.0', async () => {
    const { port } = app.server.address() as AddressInfo;
    const body = JSON.stringify({ model: 'test-model', prompt: 'é', max_tokens: 2, stream: true });
    const head = (version: string): string =>
      `POST /v1/completions ${version}\r\nhost: x\r\nauthorization: Bearer sk-test\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => (received = Buffer.concat([received, data])));
    /** Sends one request and returns its raw response once the last chunk has arrived. */
    const exchange = async (): Promise<Buffer> => {
      received = Buffer.alloc(0);
      socket.write(head('HTTP/1.1') + body);
      const deadline = Date.now() + 5000;
      while (!received.includes('\r\n0\r\n\r\n')) {
        assert.ok(Date.now() < deadline, `no last chunk in ${JSON.stringify(received.toString())}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return received;
    };
    /** Decodes a chunked body, checking every size line against its data's byte length. */
    const dechunk = (raw: Buffer): string[] => {
      let at = raw.indexOf('\r\n\r\n') + 4;
      const chunks: string[] = [];
      for (;;) {
        const end = raw.indexOf('\r\n', at);
        const size = Number.parseInt(raw.subarray(at, end).toString('latin1'), 16);
        if (size === 0) return chunks;
        chunks.push(raw.subarray(end + 2, end + 2 + size).toString('utf8'));
        assert.equal(raw.subarray(end + 2 + size, end + 4 + size).toString('latin1'), '\r\n');
        at = end + 4 + size;
      }
    };
    for (let i = 0; i < 2; i++) {
      const raw = await exchange();
      assert.match(raw.toString('latin1'), /transfer-encoding: chunked/i);
      const frames = dechunk(raw);
      assert.equal(frames.length, 3, 'two tokens, then [DONE]');
      const first = JSON.parse(frames[0]!.slice('data: '.length)) as CompletionChunk;
      assert.equal(first.choices[0]?.text, 't0');
      assert.equal(frames[2], 'data: [DONE]\n\n');
    }
    socket.destroy();

    const old = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    old.on('data', (data: Buffer) => chunks.push(data));
    const closed = new Promise((resolve) => old.on('close', resolve));
    old.write(head('HTTP/1.0') + body);
    await closed;
    const raw = Buffer.concat(chunks).toString('utf8');
    assert.doesNotMatch(raw, /transfer-encoding: chunked/i);
    const payload = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    assert.match(payload, /^data: \{.*"t0".*\}\n\ndata: \{.*"t1".*\}\n\ndata: \[DONE\]\n\n$/s);
  });

  it('creates a chat completion', async () => {
    const chat = await client.chat.completions.create({
      model: 'alias',
      messages: [{ role: 'user', content: 'Hi' }],
      stop: ['!'],
    });
    assert.equal(chat.model, 'test-model');
    assert.equal(chat.choices[0]!.message.role, 'assistant');
    assert.equal(chat.choices[0]!.message.content, 'Hello there');
    assert.equal(chat.choices[0]!.finish_reason, 'stop');
    assert.equal(chat.usage?.completion_tokens, 2);
  });

  it('streams a chat completion', async () => {
    const stream = await client.chat.completions.create({
      model: 'test-model',
      messages: [{ role: 'user', content: 'Hi' }],
      max_completion_tokens: 3,
      stream: true,
    });
    const roles: string[] = [];
    let content = '';
    const finishes: string[] = [];
    for await (const chunk of stream) {
      assert.equal(chunk.choices.length, 1);
      const choice = chunk.choices[0]!;
      if (choice.delta.role) roles.push(choice.delta.role);
      content += choice.delta.content ?? '';
      if (choice.finish_reason) finishes.push(choice.finish_reason);
    }
    assert.deepEqual(roles, ['assistant']);
    assert.equal(content, 't0t1t2');
    assert.deepEqual(finishes, ['length']);
  });

  it('surfaces 400, 401 and 404 as the client error classes', async () => {
    await assert.rejects(
      client.completions.create({ model: 'test-model', prompt: 'x', temperature: -1 }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        /temperature must be non-negative/.test(error.message),
    );
    await assert.rejects(
      client.completions.create({ model: 'nope', prompt: 'x' }),
      (error: unknown) => error instanceof OpenAI.NotFoundError,
    );
    const stranger = new OpenAI({ baseURL: client.baseURL, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(
      stranger.models.list(),
      (error: unknown) => error instanceof OpenAI.AuthenticationError,
    );
  });
});

/** Posts `body`, waits until the engine has the request, then drops the connection. */
async function postAndDisconnect(
  base: string,
  path: string,
  body: unknown,
  engine: ScriptedEngine,
): Promise<string> {
  const before = engine.added.length;
  const request = httpRequest(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  request.on('error', () => undefined);
  request.end(JSON.stringify(body));
  while (engine.added.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
  request.destroy();
  return engine.added.at(-1)!.id;
}

describe('a client that disconnects', () => {
  it(
    'gets the event-stream headers at once, while its request is still queued',
    { timeout: 10_000 },
    async () => {
      const engine = new ScriptedEngine({ maxModelLen: 64, gate: new Promise(() => undefined) });
      const { app } = testApp(engine);
      const base = await listen(app);
      try {
        const request = httpRequest(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        });
        request.on('error', () => undefined);
        const response = new Promise<IncomingMessage>((resolve) => request.on('response', resolve));
        request.end(JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }));
        const { statusCode, headers } = await response;
        assert.equal(statusCode, 200);
        assert.equal(headers['content-type'], 'text/event-stream; charset=utf-8');
        request.destroy();
        await engine.waitForAbort(engine.added[0]!.id);
      } finally {
        await app.close();
      }
    },
  );

  it(
    'aborts its queued request, streaming or not, completions or chat',
    { timeout: 10_000 },
    async () => {
      const engine = new ScriptedEngine({ maxModelLen: 64, gate: new Promise(() => undefined) });
      const { app } = testApp(engine);
      const base = await listen(app);
      try {
        const cases = [
          ['/v1/completions', { prompt: 'x', stream: true }],
          ['/v1/completions', { prompt: 'x' }],
          ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], stream: true }],
          ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] }],
        ] as const;
        for (const [path, body] of cases) {
          const id = await postAndDisconnect(base, path, body, engine);
          await engine.waitForAbort(id);
          assert.ok(engine.aborted.includes(id), `${path} ${JSON.stringify(body)}`);
        }
        const health = await fetch(`${base}/health`);
        assert.equal(health.status, 200);
      } finally {
        await app.close();
      }
    },
  );

  it('aborts every request of a batch while it streams', { timeout: 10_000 }, async () => {
    const engine = new ScriptedEngine({
      maxModelLen: 64,
      delayMs: 20,
      script: () => ({ pieces: Array.from({ length: 1000 }, () => 'a') }),
    });
    const { app } = testApp(engine);
    const base = await listen(app);
    try {
      const request = httpRequest(`${base}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      request.on('error', () => undefined);
      const firstBytes = new Promise<void>((resolve) => {
        request.on('response', (response) => response.once('data', () => resolve()));
      });
      request.end(JSON.stringify({ prompt: ['a', 'b'], max_tokens: 60, stream: true }));
      await firstBytes;
      request.destroy();
      const ids = engine.added.map((r) => r.id);
      assert.equal(ids.length, 2);
      await Promise.all(ids.map((id) => engine.waitForAbort(id)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const id of ids) assert.ok(engine.ended.has(id), `${id} ended`);
    } finally {
      await app.close();
    }
  });
});
