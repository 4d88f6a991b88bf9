/**
 * Test support: the overload scenario of issue 9, shared by its short version
 * (`test/overload-e2e.test.ts`) and its long one (`test/long/overload.long.ts`).
 *
 * Owns: starting a real server on the successor model with a small `--max-num-seqs` and
 * `--max-waiting-requests`, firing many concurrent completions (half streamed) at it at once,
 * and asserting the promises: every answer is either the exact greedy text or a plain 503 with
 * `Retry-After` in the OpenAI error shape (never a stream); the engine never holds more than
 * max-num-seqs + max-waiting-requests; everything settles within a bound; the engine ends with
 * nothing running, waiting or holding KV; the refusals are counted in /metrics; and the
 * admitted streams' time to first token, from the moment the server accepted their connection,
 * stays within a few request lifetimes (the queue cannot grow past the bound, so no admitted
 * request waits behind the whole flood).
 *
 * Times are taken from the server's accept because Node 20's libuv accepts one connection per
 * event-loop iteration, and while requests decode an iteration lasts a decode step: a flood of
 * N connections is accepted over about N steps whatever the queue does. The report gives the
 * clients' own view too (from their connect), which includes that wait.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startServer } from '../../src/cli/serve.ts';
import { testServeOptions } from './models.ts';
import { parseValidExposition, valueOf } from './prometheus-exposition.ts';
import {
  lettersAfter,
  postCompletion,
  quantile,
  type CompletionResult,
} from './raw-completions.ts';

/** The load and the server's limits. */
export interface OverloadScenario {
  readonly clients: number;
  readonly maxNumSeqs: number;
  readonly maxWaitingRequests: number;
  /** Tokens each request generates (its lifetime). */
  readonly maxTokens: number;
  /** Every call must have its answer within this long. */
  readonly settleWithinMs: number;
}

/** What the scenario measured (all times in milliseconds). */
export interface OverloadReport {
  readonly admitted: number;
  readonly refused: number;
  readonly rejectedMetric: number;
  /** Most requests the engine held (running + waiting) at any sample. */
  readonly peakHeld: number;
  readonly peakRunning: number;
  readonly wallMs: number;
  /** Admitted streams: the server's accept to the response headers, p50 and p99. */
  readonly ttfbP50: number;
  readonly ttfbP99: number;
  /** Admitted streams: the server's accept to first token, p50 and p99, and p99's bound. */
  readonly ttftP50: number;
  readonly ttftP99: number;
  readonly ttftBound: number;
  /** Admitted streams: the client's connect to first token, p99 (includes the accept wait). */
  readonly clientTtftP99: number;
  /** The last connection's accept, after the first client started. */
  readonly lastAcceptMs: number;
  /** Median time an admitted stream took from its first token to its end. */
  readonly generationMs: number;
  /** Refusals: the client's connect to the 503, p99 (includes the accept wait). */
  readonly refusalP99: number;
}

/** The prompt of client `i`: one to three copies of a letter a..t. */
function promptOf(i: number): string {
  return String.fromCharCode(97 + (i % 20)).repeat(1 + (i % 3));
}

function settleWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Asserts a refusal: 503, Retry-After in seconds, vLLM's error body, no stream. */
function assertRefusal(result: CompletionResult, i: number): void {
  assert.equal(result.status, 503, `client ${i}`);
  assert.match(result.retryAfter ?? '', /^[1-9]\d*$/, `client ${i}: Retry-After`);
  assert.match(result.contentType ?? '', /^application\/json/, `client ${i}: a plain answer`);
  const body = result.json as { error?: { code?: number; type?: string; message?: string } };
  assert.equal(body.error?.code, 503, `client ${i}: ${JSON.stringify(body)}`);
  assert.equal(body.error?.type, 'ServiceUnavailableError');
  assert.match(body.error?.message ?? '', /overloaded/);
}

/** Runs the scenario on a fresh server and asserts its promises; returns the measurements. */
export async function runOverloadScenario(scenario: OverloadScenario): Promise<OverloadReport> {
  const { clients, maxNumSeqs, maxWaitingRequests, maxTokens } = scenario;
  const server = await startServer(
    await testServeOptions({
      maxNumSeqs,
      maxWaitingRequests,
      maxNumBatchedTokens: Math.max(256, maxNumSeqs),
    }),
  );
  try {
    const accepted = new Map<number, number>();
    server.app.server.on('connection', (socket: Socket) => {
      if (socket.remotePort !== undefined) accepted.set(socket.remotePort, performance.now());
    });
    let peakHeld = 0;
    let peakRunning = 0;
    const sampler = setInterval(() => {
      const stats = server.engine.stats();
      peakHeld = Math.max(peakHeld, stats.running + stats.waiting);
      peakRunning = Math.max(peakRunning, stats.running);
    }, 2);
    const started = performance.now();
    const calls = Array.from({ length: clients }, (_, i) =>
      postCompletion(server.url, {
        model: 'successor',
        prompt: promptOf(i),
        max_tokens: maxTokens,
        temperature: 0,
        stream: i % 2 === 0,
      }),
    );
    const results = await settleWithin(
      Promise.all(calls),
      scenario.settleWithinMs,
      `${clients} concurrent requests`,
    );
    const wallMs = performance.now() - started;
    clearInterval(sampler);

    const admitted: { result: CompletionResult; stream: boolean }[] = [];
    const refusals: CompletionResult[] = [];
    results.forEach((result, i) => {
      assert.equal(result.failure, null, `client ${i}: ${result.failure}`);
      if (result.status === 503) {
        assertRefusal(result, i);
        refusals.push(result);
        return;
      }
      assert.equal(result.status, 200, `client ${i}: ${JSON.stringify(result.json)}`);
      assert.equal(result.text, lettersAfter(promptOf(i), maxTokens), `client ${i}'s text`);
      assert.deepEqual(result.finishReasons, ['length'], `client ${i}`);
      const stream = i % 2 === 0;
      if (stream) assert.ok(result.done, `client ${i}: the stream ends with [DONE]`);
      admitted.push({ result, stream });
    });

    // The bound: a refusal happens only when the engine is full, so the first
    // max-num-seqs + max-waiting-requests are always admitted; the flood is refused.
    const capacity = maxNumSeqs + maxWaitingRequests;
    assert.ok(admitted.length >= Math.min(clients, capacity), `${admitted.length} admitted`);
    assert.ok(refusals.length > 0, 'the flood exceeds the bound: some requests are refused');
    assert.ok(peakHeld <= capacity, `the engine held ${peakHeld} > ${capacity} requests`);
    assert.ok(peakRunning <= maxNumSeqs);

    // Nothing is left behind.
    await server.engine.whenIdle();
    const stats = server.engine.stats();
    assert.deepEqual(
      [stats.running, stats.waiting, server.engine.liveRequests, stats.kvUsage],
      [0, 0, 0, 0],
      'nothing runs, waits or holds KV',
    );
    const metrics = await fetch(`${server.url}/metrics`).then((response) => response.text());
    const rejectedMetric = valueOf(
      parseValidExposition(metrics),
      'servellm:request_rejected_total',
    );
    assert.equal(rejectedMetric, refusals.length, 'every refusal is counted');

    // Time to first token of admitted streams: an admitted request waits behind at most the
    // running batch and max-waiting-requests others, i.e. about ceil(W / S) + 1 request
    // lifetimes, never behind the whole flood (clients / S lifetimes).
    const streams = admitted.filter((a) => a.stream).map((a) => a.result);
    const acceptOf = (r: CompletionResult): number => {
      const at = r.localPort === null ? undefined : accepted.get(r.localPort);
      assert.ok(at !== undefined, 'the server accepted every admitted connection');
      return at;
    };
    const ttft = streams.map((r) => r.firstTokenMs! - acceptOf(r));
    const ttfb = streams.map((r) => r.headersMs! - acceptOf(r));
    const generationMs = quantile(
      streams.map((r) => r.endMs - r.firstTokenMs!),
      0.5,
    );
    const lifetimes = Math.ceil(maxWaitingRequests / maxNumSeqs) + 2;
    const ttftBound = 1.5 * lifetimes * generationMs + 300;
    const report: OverloadReport = {
      admitted: admitted.length,
      refused: refusals.length,
      rejectedMetric,
      peakHeld,
      peakRunning,
      wallMs: Math.round(wallMs),
      ttfbP50: Math.round(quantile(ttfb, 0.5)),
      ttfbP99: Math.round(quantile(ttfb, 0.99)),
      ttftP50: Math.round(quantile(ttft, 0.5)),
      ttftP99: Math.round(quantile(ttft, 0.99)),
      ttftBound: Math.round(ttftBound),
      clientTtftP99: Math.round(
        quantile(
          streams.map((r) => r.firstTokenMs! - (r.connectMs ?? r.startMs)),
          0.99,
        ),
      ),
      lastAcceptMs: Math.round(Math.max(...accepted.values()) - started),
      generationMs: Math.round(generationMs),
      refusalP99: Math.round(
        quantile(
          refusals.map((r) => r.endMs - (r.connectMs ?? r.startMs)),
          0.99,
        ),
      ),
    };
    assert.ok(
      quantile(ttft, 0.99) <= ttftBound,
      `admitted streams' TTFT p99 is bounded: ${JSON.stringify(report)}`,
    );
    assert.ok(quantile(ttfb, 0.99) <= ttftBound, 'stream headers come at once');

    // The server still serves normally.
    const after = await postCompletion(server.url, {
      model: 'successor',
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
    });
    assert.equal(after.text, 'defgh');
    return report;
  } finally {
    await server.close();
  }
}
