/**
 * Connection timeouts against slowloris clients (issue 9, "Overload and disconnects"), over raw
 * sockets against a real server with short limits: --timeout-request-headers 0.3 s,
 * --timeout-request-body 0.6 s, --timeout-keep-alive 1 s. A connection that sends nothing, or
 * its headers a byte at a time, is answered 408 and closed after the header timeout; one that
 * sends its body a byte at a time after the whole-request timeout; an idle keep-alive connection
 * is reused within the keep-alive timeout and closed after it (Node adds about 1 s). Normal
 * requests are unaffected, and a stream that outlives every limit, silent for seconds while it
 * waits in the queue, is not cut.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';
import { lettersAfter, postCompletion } from './support/raw-completions.ts';

const HEADERS_S = 0.3;
const REQUEST_S = 0.6;
const KEEP_ALIVE_S = 1;

let server: RunningServer;
let port: number;

before(async () => {
  server = await startServer(
    await testServeOptions({
      maxNumSeqs: 1,
      maxModelLen: 4096,
      timeoutRequestHeadersS: HEADERS_S,
      timeoutRequestBodyS: REQUEST_S,
      timeoutKeepAliveS: KEEP_ALIVE_S,
    }),
  );
  port = Number(new URL(server.url).port);
});
after(() => server.close());

/** A raw connection: what it received, and when (ms after it was opened) it closed. */
interface Raw {
  readonly socket: Socket;
  readonly text: () => string;
  readonly closed: Promise<number>;
}

function open(): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const start = performance.now();
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (text += data));
    socket.on('error', () => {});
    const closed = new Promise<number>((done) =>
      socket.once('close', () => done(performance.now() - start)),
    );
    socket.once('connect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

/** Writes `data` one byte every `everyMs` while the socket is open. */
function dribble(socket: Socket, data: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= data.length) clearInterval(timer);
    else socket.write(data[at++]!);
  }, everyMs);
}

/** Resolves once `raw` has received `count` complete responses (each ends with its body). */
async function responses(raw: Raw, count: number): Promise<void> {
  const deadline = performance.now() + 5_000;
  while ((raw.text().match(/HTTP\/1\.1 200 OK/g) ?? []).length < count) {
    assert.ok(performance.now() < deadline, `response ${count}: ${raw.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function assertClosedWithin(ms: number, min: number, max: number, what: string): void {
  assert.ok(ms >= min * 1000 && ms <= max * 1000, `${what} closed after ${Math.round(ms)} ms`);
}

describe('connection timeouts', { concurrency: true, timeout: 15_000 }, () => {
  it('answers 408 and closes a connection that sends nothing, or its headers a byte at a time', async () => {
    const silent = await open();
    const slow = await open();
    dribble(
      slow.socket,
      'GET /health HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slowloris\r\n\r\n',
      50,
    );
    const [silentMs, slowMs] = await Promise.all([silent.closed, slow.closed]);
    assertClosedWithin(silentMs, HEADERS_S - 0.05, HEADERS_S + 1, 'a silent connection');
    assertClosedWithin(slowMs, HEADERS_S - 0.05, HEADERS_S + 1, 'a byte-a-time header');
    assert.match(silent.text(), /^HTTP\/1\.1 408 /);
    assert.match(slow.text(), /^HTTP\/1\.1 408 /);
  });

  it('answers 408 and closes a request whose body comes a byte at a time', async () => {
    const raw = await open();
    const body = JSON.stringify({ model: 'successor', prompt: 'a'.repeat(100), max_tokens: 1 });
    raw.socket.write(
      `POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    dribble(raw.socket, body, 50);
    const ms = await raw.closed;
    assertClosedWithin(ms, REQUEST_S - 0.05, REQUEST_S + 1, 'a byte-a-time body');
    assert.match(raw.text(), /^HTTP\/1\.1 408 /);
  });

  it('reuses a keep-alive connection within the timeout and closes it once idle past it', async () => {
    const raw = await open();
    const get = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n';
    raw.socket.write(get);
    await responses(raw, 1);
    assert.match(raw.text(), new RegExp(`Keep-Alive: timeout=${KEEP_ALIVE_S}`, 'i'));
    // Idle for less than the keep-alive timeout (and longer than the header timeout): reused.
    await new Promise((resolve) => setTimeout(resolve, 600));
    raw.socket.write(get);
    await responses(raw, 2);
    const secondAt = performance.now();
    await raw.closed;
    const idle = performance.now() - secondAt;
    assert.ok(
      idle >= KEEP_ALIVE_S * 1000 - 50 && idle <= (KEEP_ALIVE_S + 1.5) * 1000,
      `closed ${Math.round(idle)} ms after the last response`,
    );
  });

  it('does not cut a stream that outlives every limit, nor one silent while it waits', async (t) => {
    // A stream of about 2 s, from the speed of this machine (at most 4,000 tokens).
    const probe = await postCompletion(server.url, {
      model: 'successor',
      prompt: 'a',
      max_tokens: 200,
      temperature: 0,
      stream: true,
    });
    const perToken = (probe.endMs - probe.firstTokenMs!) / 199;
    const tokens = Math.min(4000, Math.ceil(2000 / perToken));
    // --max-num-seqs 1: the second stream waits, silent after its headers, for the first.
    const [first, second] = await Promise.all([
      postCompletion(server.url, {
        model: 'successor',
        prompt: 'abc',
        max_tokens: tokens,
        temperature: 0,
        stream: true,
      }),
      postCompletion(server.url, {
        model: 'successor',
        prompt: 'xyz',
        max_tokens: 50,
        temperature: 0,
        stream: true,
      }),
    ]);
    const longest = Math.max(HEADERS_S, REQUEST_S, KEEP_ALIVE_S) * 1000;
    t.diagnostic(
      `${tokens} tokens in ${Math.round(first.endMs - first.startMs)} ms; the queued stream was ` +
        `silent for ${Math.round(second.firstTokenMs! - second.headersMs!)} ms`,
    );
    assert.ok(first.endMs - first.startMs > 1.5 * longest, 'the stream outlived every limit');
    assert.ok(second.firstTokenMs! - second.headersMs! > longest, 'the queued one was silent');
    for (const [result, prompt, count] of [
      [first, 'abc', tokens],
      [second, 'xyz', 50],
    ] as const) {
      assert.equal(result.failure, null);
      assert.ok(result.done, 'the stream ended with [DONE]');
      assert.equal(result.text, lettersAfter(prompt, count));
    }
  });
});
