/**
 * Slow clients (issue 9, "Overload and disconnects"): a stream whose client stops reading must
 * not stall the others, and is dropped once the bytes it leaves unsent pass `--max-stream-buffer`.
 *
 * A heavy stream (n = 4, top-259 logprobs: about 14 kB a step) runs beside a normal greedy
 * stream twice: first with a client that reads it (the baseline), then with a raw socket that
 * never reads. The normal stream gets its exact text both times and, beside the stalled client,
 * takes no longer than beside the reading one (within 1.5x + 250 ms). The stalled request is
 * aborted while it still decodes (it asked for 1,500 tokens) once the kernel's buffers and then
 * the 256 KiB bound are full, its connection is closed (what the client finds when it reads at
 * last ends without `[DONE]`), and the engine ends with nothing running and no KV held.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, it } from 'node:test';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import type { RequestPhase } from '../src/engine/llm-engine.ts';
import { testServeOptions } from './support/models.ts';
import { lettersAfter, postCompletion } from './support/raw-completions.ts';

const MAX_STREAM_BUFFER = 256 * 1024;
const NORMAL = { model: 'successor', prompt: 'abc', max_tokens: 300, temperature: 0, stream: true };
/** About 3.5 kB per token and choice: 21 MB if it ran to its end. */
const HEAVY = {
  model: 'successor',
  prompt: 'xyz',
  n: 4,
  temperature: 1,
  seed: 7,
  logprobs: 259,
  ignore_eos: true,
  stream: true,
};

let server: RunningServer;
/** Engine aborts of the heavy requests: the phase each was in. */
const heavyAborts: (RequestPhase | null)[] = [];

before(async () => {
  server = await startServer(
    await testServeOptions({
      maxNumSeqs: 8,
      maxModelLen: 2048,
      maxLogprobs: -1,
      maxStreamBuffer: MAX_STREAM_BUFFER,
    }),
  );
  const engine = server.engine;
  const abort = engine.abort.bind(engine);
  engine.abort = (requestId: string): void => {
    if (requestId.startsWith('cmpl-heavy-')) heavyAborts.push(engine.requestPhase(requestId));
    abort(requestId);
  };
});
after(() => server.close());

/** The normal stream's duration in ms, checking its text. */
async function normalStream(): Promise<number> {
  const result = await postCompletion(server.url, NORMAL);
  assert.equal(result.status, 200);
  assert.equal(result.text, lettersAfter('abc', 300));
  assert.ok(result.done);
  return result.endMs - result.startMs;
}

/**
 * Sends the heavy request on a raw socket that never reads; `read()` later resumes reading and
 * resolves with everything the server had sent once the connection ends.
 */
function stalledClient(maxTokens: number): { read: () => Promise<string> } {
  const body = JSON.stringify({ ...HEAVY, max_tokens: maxTokens });
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(
    `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `X-Request-Id: heavy\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.pause();
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    read: async () => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.resume();
      await ended;
      return Buffer.concat(chunks).toString('latin1');
    },
  };
}

async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    assert.ok(performance.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('a client that stops reading is dropped and does not slow the others down', async (t) => {
  // Baseline: the same heavy load, read by its client.
  const reading = postCompletion(server.url, { ...HEAVY, max_tokens: 400 });
  const baselineMs = await normalStream();
  const read = await reading;
  assert.equal(read.status, 200);
  assert.ok(read.done, 'a reading client gets its whole stream');
  assert.deepEqual(heavyAborts, [], 'nothing aborted a stream whose client reads');

  const stalled = stalledClient(1500);
  const besideStalledMs = await normalStream();
  await waitFor(() => heavyAborts.length === 4, 20_000, 'the stalled request to be dropped');
  t.diagnostic(
    `normal stream: ${Math.round(baselineMs)} ms beside a reading client, ` +
      `${Math.round(besideStalledMs)} ms beside one that stopped reading`,
  );
  assert.ok(
    besideStalledMs <= 1.5 * baselineMs + 250,
    `${Math.round(besideStalledMs)} ms vs ${Math.round(baselineMs)} ms`,
  );
  // Dropped while its requests still decoded, long before their 1,500 tokens.
  assert.deepEqual(heavyAborts, ['decoding', 'decoding', 'decoding', 'decoding']);
  await server.engine.whenIdle();
  const stats = server.engine.stats();
  assert.deepEqual(
    [stats.running, stats.waiting, stats.kvUsage, server.engine.liveRequests],
    [0, 0, 0, 0],
  );
  // The server closed the connection: what was sent ends without [DONE] and without the
  // chunked encoding's last chunk.
  const received = await stalled.read();
  assert.match(received, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(received.length > MAX_STREAM_BUFFER, `${received.length} bytes received`);
  assert.ok(!received.includes('data: [DONE]'), 'the stream was cut');
  assert.ok(!received.endsWith('\r\n0\r\n\r\n'), 'the response was not completed');
  // Still serving.
  await normalStream();
});
