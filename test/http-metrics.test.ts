/**
 * vLLM's HTTP instrumentator metrics (src/http/metrics/http-metrics.ts) on an in-process app:
 * the five families with prometheus-fastapi-instrumentator's names, types, help, label names
 * and default buckets, each instrumented request counted exactly once under its route template
 * (also when a hook answers it: 401; "none" when no route matched), grouped status, the
 * Content-Length sizes (0 for an event stream), and the excluded handlers never counted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LATENCY_HIGHR_BUCKETS,
  LATENCY_LOWR_BUCKETS,
  handlerLabel,
} from '../src/http/metrics/http-metrics.ts';
import { VllmMetrics } from '../src/http/metrics/vllm-metrics.ts';
import { ScriptedEngine } from '../src/http/testing/scripted-engine.ts';
import { testApp } from '../src/http/testing/test-app.ts';
import {
  histogramOf,
  parseValidExposition,
  summaryOf,
  valueOf,
} from './support/prometheus-exposition.ts';
import { HTTP_METRIC_FAMILIES } from './support/http-metric-families.ts';

/** Each family's label names (a histogram's `le` aside). */
const LABEL_NAMES: Record<keyof typeof HTTP_METRIC_FAMILIES, string[]> = {
  http_requests_total: ['handler', 'method', 'status'],
  http_request_size_bytes: ['handler'],
  http_response_size_bytes: ['handler'],
  http_request_duration_highr_seconds: [],
  http_request_duration_seconds: ['handler', 'method'],
};

function metricsApp() {
  const engine = new ScriptedEngine({ maxModelLen: 64 });
  const metrics = new VllmMetrics({
    modelName: 'test-model',
    maxModelLen: 64,
    stats: () => engine.stats(),
    cacheConfig: () => ({
      block_size: '16',
      cache_dtype: 'auto',
      enable_prefix_caching: 'True',
      num_gpu_blocks: '4',
      num_gpu_blocks_override: 'None',
      kv_cache_layout: 'per-sequence',
    }),
    processMetrics: false,
  });
  const { app } = testApp(engine, { metrics, apiKey: 'secret' });
  return { app, metrics };
}

const AUTH = { authorization: 'Bearer secret' };

describe('HTTP metrics (prometheus-fastapi-instrumentator)', () => {
  it('spells route templates as FastAPI does', () => {
    assert.equal(handlerLabel('/v1/models/:model'), '/v1/models/{model}');
    assert.equal(handlerLabel('/v1/completions'), '/v1/completions');
  });

  it('declares the five families before any request, the unlabelled histogram at zero', async () => {
    const { metrics } = metricsApp();
    const families = parseValidExposition(await metrics.render());
    for (const [name, type] of Object.entries(HTTP_METRIC_FAMILIES)) {
      assert.equal(families.get(name)?.type, type, name);
    }
    assert.equal(
      families.get('http_requests_total')!.help,
      'Total number of requests by method, status and handler.',
    );
    const highr = histogramOf(families, 'http_request_duration_highr_seconds');
    assert.equal(highr.count, 0);
    assert.deepEqual(highr.bounds, [...LATENCY_HIGHR_BUCKETS.map(String), '+Inf']);
  });

  it('counts each instrumented request once, by template, method and status class', async () => {
    const { app, metrics } = metricsApp();
    const completion = JSON.stringify({ prompt: 'hello', max_tokens: 2 });
    const sent = (payload: string, headers: Record<string, string> = {}) =>
      app.inject({
        method: 'POST',
        url: '/v1/completions',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    assert.equal((await sent(completion, AUTH)).statusCode, 200);
    assert.equal((await sent(completion)).statusCode, 401);
    const model = await app.inject({ method: 'GET', url: '/v1/models/test-model', headers: AUTH });
    assert.equal(model.statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/nope' })).statusCode, 404);
    const stream = await app.inject({
      method: 'POST',
      url: '/invocations',
      payload: { prompt: 'hi', max_tokens: 2, stream: true },
    });
    assert.equal(stream.statusCode, 200);
    assert.equal(stream.headers['content-length'], undefined);
    // Excluded, as in vLLM: none of these is counted.
    for (const url of ['/health', '/version', '/ping', '/load', '/metrics']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/ping' })).statusCode, 200);
    await new Promise((resolve) => setImmediate(resolve));

    const families = parseValidExposition(await metrics.render());
    for (const [name, labels] of Object.entries(LABEL_NAMES)) {
      for (const sample of families.get(name)!.samples) {
        const names = Object.keys(sample.labels).filter((name) => name !== 'le');
        assert.deepEqual(names.sort(), labels, `${sample.name} labels`);
      }
    }
    const counted = families
      .get('http_requests_total')!
      .samples.map((s) => [s.labels.method, s.labels.status, s.labels.handler, s.value]);
    assert.deepEqual(
      counted.sort(),
      [
        ['GET', '2xx', '/v1/models/{model}', 1],
        ['GET', '4xx', 'none', 1],
        ['POST', '2xx', '/invocations', 1],
        ['POST', '2xx', '/v1/completions', 1],
        ['POST', '4xx', '/v1/completions', 1],
      ].sort(),
    );
    const completionBytes = Buffer.byteLength(completion);
    assert.deepEqual(
      summaryOf(families, 'http_request_size_bytes', { handler: '/v1/completions' }),
      {
        count: 2,
        sum: 2 * completionBytes,
      },
    );
    assert.deepEqual(
      summaryOf(families, 'http_response_size_bytes', { handler: '/v1/models/{model}' }),
      { count: 1, sum: Number(model.headers['content-length']) },
    );
    assert.deepEqual(summaryOf(families, 'http_response_size_bytes', { handler: '/invocations' }), {
      count: 1,
      sum: 0,
    });
    assert.equal(histogramOf(families, 'http_request_duration_highr_seconds').count, 5);
    const lowr = histogramOf(families, 'http_request_duration_seconds', {
      method: 'POST',
      handler: '/v1/completions',
    });
    assert.equal(lowr.count, 2);
    assert.deepEqual(lowr.bounds, [...LATENCY_LOWR_BUCKETS.map(String), '+Inf']);
    assert.equal(
      valueOf(families, 'http_requests_total', { handler: 'none', status: '4xx', method: 'GET' }),
      1,
    );
  });
});
