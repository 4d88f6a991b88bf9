import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BenchRequest } from './dataset.ts';
import { runRequest, type TargetOptions } from './request-runner.ts';
import { runBenchmark } from './run-benchmark.ts';

/**
 * A scripted SSE server: path /v1/completions streams `max_tokens` one-letter chunks 5 ms apart,
 * split mid-line, with no usage chunk; model "slow" never finishes; model "broken" sends an
 * error event.
 */
function fakeServer(): Server {
  return createServer((req, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; max_tokens: number };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (body.model === 'broken') {
        res.end('data: {"error": {"message": "boom", "code": 500}}\n\n');
        return;
      }
      let sent = 0;
      const timer = setInterval(() => {
        if (body.model !== 'slow' && sent === body.max_tokens) {
          clearInterval(timer);
          res.end('data: [DONE]\n\n');
          return;
        }
        const event = `data: {"choices":[{"index":0,"text":"a"}]}\n\n`;
        res.write(event.slice(0, 10));
        res.write(event.slice(10));
        sent++;
      }, 5);
      res.on('close', () => clearInterval(timer));
    });
  });
}

describe('runBenchmark against a scripted server', () => {
  const server = fakeServer();
  let target: TargetOptions;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    target = {
      baseUrl: `http://127.0.0.1:${port}/`,
      endpoint: '/v1/completions',
      model: 'fake',
      apiKey: 'k',
      temperature: 0,
      ignoreEos: true,
      extraBody: null,
    };
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const request: BenchRequest = { prompt: [1, 2, 3], inputLen: 3, outputLen: 4 };

  it('counts output chunks when there is no usage chunk', async () => {
    const result = await runRequest(target, request);
    assert.equal(result.error, '');
    assert.equal(result.outputTokens, 4);
    assert.equal(result.itlMs.length, 3);
    assert.equal(result.promptTokens, 3);
    assert.ok(result.ttftMs > 0 && result.latencyMs > result.ttftMs);
  });

  it('reports an error event as a failure', async () => {
    const result = await runRequest({ ...target, model: 'broken' }, request);
    assert.equal(result.success, false);
    assert.equal(result.error, 'stream error: boom');
  });

  it('reports an unreachable server as a failure', async () => {
    const result = await runRequest({ ...target, baseUrl: 'http://127.0.0.1:1' }, request);
    assert.equal(result.success, false);
    assert.notEqual(result.error, '');
  });

  it('paces requests at the configured rate', async () => {
    const requests = Array.from({ length: 6 }, () => request);
    const outcome = await runBenchmark({
      target,
      requests,
      requestRate: 20,
      burstiness: 100, // nearly regular gaps of 50 ms
      seed: 0,
      maxConcurrency: 2,
      numWarmups: 1,
      maxDurationS: null,
      percentiles: [50, 99],
    });
    assert.equal(outcome.metrics.completed, 6);
    assert.ok(outcome.metrics.durationS >= 0.2, `duration ${outcome.metrics.durationS}`);
  });

  it('stops at --max-duration, aborting in-flight requests and sending no more', async () => {
    const requests = Array.from({ length: 10 }, () => request);
    const started = Date.now();
    const outcome = await runBenchmark({
      target: { ...target, model: 'slow' },
      requests,
      requestRate: Infinity,
      burstiness: 1,
      seed: 0,
      maxConcurrency: 3,
      numWarmups: 0,
      maxDurationS: 0.2,
      percentiles: [99],
    });
    assert.ok(Date.now() - started < 2000);
    assert.equal(outcome.results.length, 3);
    assert.equal(outcome.unsent, 7);
    assert.equal(outcome.metrics.failed, 3);
    assert.deepEqual([...outcome.metrics.errors.keys()], ['aborted (--max-duration reached)']);
  });

  it('fails fast when a warm-up request fails', async () => {
    await assert.rejects(
      runBenchmark({
        target: { ...target, model: 'broken' },
        requests: [request],
        requestRate: Infinity,
        burstiness: 1,
        seed: 0,
        maxConcurrency: null,
        numWarmups: 1,
        maxDurationS: null,
        percentiles: [99],
      }),
      /warm-up request failed: stream error: boom/,
    );
  });
});
