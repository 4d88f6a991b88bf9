/**
 * `GET /metrics` through the whole server (in-process, the successor model): a valid exposition
 * (test/support/prometheus-exposition.ts) with vLLM's metric names and labels, vLLM's counting
 * rules after R requests of P prompt tokens and T output tokens (its
 * tests/entrypoints/serve/instrumentator/test_metrics.py), the invariants that tie the counts
 * together after a mixed workload, the gauges back to zero after aborted requests, and vLLM's
 * HTTP instrumentator metrics: their families, types and labels, counts that move by exactly the
 * requests made (the excluded handlers and the scrapes not at all), a stream timed to its end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';
import {
  histogramOf,
  parseValidExposition,
  summaryOf,
  valueOf,
  type Family,
} from './support/prometheus-exposition.ts';
import { HTTP_METRIC_FAMILIES } from './support/http-metric-families.ts';

type Families = ReadonlyMap<string, Family>;

/** What vLLM's metrics test requires to appear in the text. */
const REQUIRED = [
  'vllm:num_requests_running',
  'vllm:num_requests_waiting',
  'vllm:num_requests_waiting_by_reason',
  'vllm:kv_cache_usage_perc',
  'vllm:prefix_cache_queries',
  'vllm:prefix_cache_hits',
  'vllm:num_preemptions_total',
  'vllm:prompt_tokens_total',
  'vllm:generation_tokens_total',
  'vllm:iteration_tokens_total',
  'vllm:cache_config_info',
  'vllm:request_success_total',
];
const REQUIRED_HISTOGRAMS = [
  'vllm:request_prompt_tokens',
  'vllm:request_generation_tokens',
  'vllm:request_params_n',
  'vllm:request_params_max_tokens',
  'vllm:time_to_first_token_seconds',
  'vllm:inter_token_latency_seconds',
  'vllm:e2e_request_latency_seconds',
  'vllm:request_queue_time_seconds',
  'vllm:request_inference_time_seconds',
  'vllm:request_prefill_time_seconds',
  'vllm:request_decode_time_seconds',
];
/** Histograms with one observation per finished request. */
const PER_REQUEST = [
  'vllm:e2e_request_latency_seconds',
  'vllm:request_queue_time_seconds',
  'vllm:request_inference_time_seconds',
  'vllm:request_prefill_time_seconds',
  'vllm:request_decode_time_seconds',
  'vllm:request_params_n',
  'vllm:time_to_first_token_seconds',
];

/** The sum of a family's samples named `sample` whose labels include `labels` (0 if none). */
function total(
  families: Families,
  family: string,
  sample: string,
  labels: Readonly<Record<string, string>>,
): number {
  return families
    .get(family)!
    .samples.filter(
      (s) =>
        s.name === sample &&
        Object.entries(labels).every(([key, value]) => s.labels[key] === value),
    )
    .reduce((sum, s) => sum + s.value, 0);
}

describe('GET /metrics', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(await testServeOptions());
  });
  after(() => server.close());

  async function scrape(): Promise<{ text: string; type: string | null; families: Families }> {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    return {
      text,
      type: response.headers.get('content-type'),
      families: parseValidExposition(text),
    };
  }

  async function complete(body: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'successor', temperature: 0, ...body }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.text();
  }

  /** Counter and histogram figures of an exposition, flat, for differences. */
  function figures(families: Families): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of [
      'vllm:prompt_tokens_total',
      'vllm:prompt_tokens_cached_total',
      'vllm:generation_tokens_total',
      'vllm:prefix_cache_hits_total',
    ]) {
      out[name] = valueOf(families, name);
    }
    for (const source of ['local_compute', 'local_cache_hit']) {
      out[`by_source_${source}`] = valueOf(families, 'vllm:prompt_tokens_by_source_total', {
        source,
      });
    }
    for (const reason of ['stop', 'length']) {
      out[`success_${reason}`] = valueOf(families, 'vllm:request_success_total', {
        finished_reason: reason,
      });
    }
    for (const name of [
      ...REQUIRED_HISTOGRAMS,
      'vllm:iteration_tokens_total',
      'vllm:request_max_num_generation_tokens',
    ]) {
      const { count, sum } = histogramOf(families, name);
      out[`${name}_count`] = count;
      out[`${name}_sum`] = sum;
    }
    return out;
  }

  function difference(before: Families, after: Families): Record<string, number> {
    const a = figures(before);
    const b = figures(after);
    return Object.fromEntries(Object.keys(b).map((key) => [key, b[key]! - a[key]!]));
  }

  it('exposes every vLLM metric, labelled, with process metrics, before any request', async () => {
    const { text, type, families } = await scrape();
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    for (const name of REQUIRED) assert.ok(text.includes(name), name);
    for (const name of REQUIRED_HISTOGRAMS) {
      for (const suffix of ['_sum', '_bucket', '_count']) {
        assert.ok(text.includes(`${name}${suffix}`), `${name}${suffix}`);
      }
    }
    const labels = { model_name: 'successor', engine: '0' };
    assert.equal(valueOf(families, 'vllm:num_requests_running', labels), 0);
    assert.equal(valueOf(families, 'vllm:kv_cache_usage_perc', labels), 0);
    assert.equal(
      valueOf(families, 'vllm:cache_config_info', {
        block_size: '16',
        enable_prefix_caching: 'True',
        kv_cache_layout: 'per-sequence',
      }),
      1,
    );
    assert.equal(families.get('vllm:time_to_first_token_seconds')?.type, 'histogram');
    assert.equal(families.get('vllm:prompt_tokens_total')?.type, 'counter');
    for (const [name, type] of Object.entries(HTTP_METRIC_FAMILIES)) {
      assert.equal(families.get(name)?.type, type, name);
    }
    assert.ok(families.has('process_cpu_user_seconds_total'));
    assert.ok(families.has('nodejs_heap_size_used_bytes'));
    // 1-2-5 buckets up to max_model_len (512).
    const buckets = histogramOf(families, 'vllm:request_prompt_tokens').bounds;
    assert.deepEqual(buckets, ['1', '2', '5', '10', '20', '50', '100', '200', '500', '+Inf']);
  });

  it("counts R requests of P prompt tokens and T output tokens by vLLM's rules", async () => {
    const R = 3;
    const P = 10;
    const T = 5;
    const before = (await scrape()).families;
    for (let r = 0; r < R; r++) {
      const prompt = Array.from({ length: P }, (_, i) => 97 + ((i * 7 + r * 3) % 26));
      await complete({ prompt, max_tokens: T, ignore_eos: true });
    }
    const after = (await scrape()).families;
    const d = difference(before, after);
    for (const name of PER_REQUEST) assert.equal(d[`${name}_count`], R, name);
    assert.equal(d['vllm:inter_token_latency_seconds_count'], R * (T - 1));
    assert.equal(d['vllm:request_prompt_tokens_sum'], R * P);
    assert.equal(d['vllm:request_prompt_tokens_count'], R);
    assert.equal(d['vllm:request_generation_tokens_sum'], R * T);
    assert.equal(d['vllm:request_generation_tokens_count'], R);
    assert.equal(d['vllm:request_params_max_tokens_sum'], R * T);
    assert.equal(d['vllm:request_params_n_sum'], R);
    assert.equal(d['vllm:iteration_tokens_total_sum'], R * (P + T));
    assert.equal(d['vllm:iteration_tokens_total_count'], R * T);
    assert.equal(d['vllm:prompt_tokens_total'], R * P);
    assert.equal(d['vllm:generation_tokens_total'], R * T);
    assert.equal(d.success_length, R);
    assert.equal(d.success_stop, 0);
  });

  it('keeps the counts consistent over a mixed workload, then idles at zero after aborts', async () => {
    const before = (await scrape()).families;
    const shared = Array.from({ length: 40 }, (_, i) => 97 + (i % 26));
    await complete({ prompt: shared, max_tokens: 3, ignore_eos: true });
    await Promise.all([
      // The same prompt again: found in the prefix cache.
      complete({ prompt: shared, max_tokens: 4, ignore_eos: true }),
      complete({ prompt: 'abc', max_tokens: 6, n: 3, temperature: 1, seed: 3, ignore_eos: true }),
      // Stops at its stop string: finished_reason stop.
      complete({ prompt: 'abc', max_tokens: 20, stop: ['g'] }),
      complete({ prompt: '123', max_tokens: 8, stream: true, ignore_eos: true }),
    ]);
    const after = (await scrape()).families;
    const d = difference(before, after);
    const finished = d.success_stop! + d.success_length!;
    assert.equal(finished, 7);
    assert.equal(d.success_stop, 1);
    assert.equal(d['vllm:time_to_first_token_seconds_count'], finished);
    assert.equal(d['vllm:e2e_request_latency_seconds_count'], finished);
    assert.equal(d['vllm:prompt_tokens_total'], d['vllm:request_prompt_tokens_sum']);
    assert.equal(d['vllm:generation_tokens_total'], d['vllm:request_generation_tokens_sum']);
    assert.equal(
      d['vllm:inter_token_latency_seconds_count'],
      d['vllm:generation_tokens_total']! - finished,
    );
    assert.equal(
      d['vllm:iteration_tokens_total_sum'],
      d['vllm:prompt_tokens_total']! + d['vllm:generation_tokens_total']!,
    );
    assert.equal(
      d.by_source_local_compute! + d.by_source_local_cache_hit!,
      d['vllm:prompt_tokens_total'],
    );
    assert.equal(d.by_source_local_cache_hit, d['vllm:prompt_tokens_cached_total']);
    assert.ok(d['vllm:prefix_cache_hits_total']! >= 32, 'the repeated prompt hit the cache');
    assert.ok(d.by_source_local_cache_hit! >= 32);
    assert.equal(d['vllm:request_params_n_sum'], 3 * 3 + 4);

    // Requests aborted while running leave nothing running, waiting or held.
    const controllers = [new AbortController(), new AbortController()];
    await Promise.all(
      controllers.map(async (controller) => {
        const response = await fetch(`${server.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'successor',
            prompt: 'xyz',
            max_tokens: 400,
            ignore_eos: true,
            stream: true,
          }),
          signal: controller.signal,
        });
        const reader = response.body!.getReader();
        await reader.read();
        controller.abort();
        await reader.read().catch(() => undefined);
      }),
    );
    const deadline = Date.now() + 10_000;
    while (server.engine.stats().running + server.engine.stats().waiting > 0) {
      assert.ok(Date.now() < deadline, 'the aborted requests did not leave');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const idle = (await scrape()).families;
    assert.equal(valueOf(idle, 'vllm:num_requests_running'), 0);
    assert.equal(valueOf(idle, 'vllm:num_requests_waiting'), 0);
    assert.equal(valueOf(idle, 'vllm:kv_cache_usage_perc'), 0);
    // Aborted requests are not successes.
    assert.equal(difference(after, idle).success_length, 0);
  });
  it('counts HTTP requests by template, method and status, and times a stream to its end', async () => {
    const before = (await scrape()).families;
    const post = (path: string, body: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const streamBody = JSON.stringify({
      model: 'successor',
      prompt: 'abc',
      max_tokens: 64,
      ignore_eos: true,
      stream: true,
    });
    const started = performance.now();
    const stream = await post('/v1/completions', streamBody);
    const headersAt = performance.now();
    assert.equal(stream.status, 200);
    await stream.text();
    const endedAt = performance.now();
    const chatBody = JSON.stringify({
      model: 'successor',
      messages: [{ role: 'user', content: 'abc' }],
      max_tokens: 2,
    });
    const chat = await post('/v1/chat/completions', chatBody);
    assert.equal(chat.status, 200);
    const chatBytes = Number(chat.headers.get('content-length'));
    await chat.text();
    // A generation model refuses embeddings: 400.
    const bad = await post('/v1/embeddings', JSON.stringify({ input: 'abc' }));
    assert.equal(bad.status, 400);
    await bad.text();
    const card = await fetch(`${server.url}/v1/models/successor`);
    assert.equal(card.status, 200);
    await card.text();
    for (const path of ['/health', '/version', '/ping', '/load']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);
    }

    // A response's metrics are taken when its connection reports the end: wait for the last.
    const requests = (families: Families): number =>
      total(families, 'http_requests_total', 'http_requests_total', {});
    let after = (await scrape()).families;
    for (let tries = 0; requests(after) - requests(before) < 4 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = (await scrape()).families;
    }
    const moved = (family: string, sample: string, labels: Record<string, string>): number =>
      total(after, family, sample, labels) - total(before, family, sample, labels);
    const count = (method: string, status: string, handler: string): number =>
      moved('http_requests_total', 'http_requests_total', { method, status, handler });
    assert.equal(requests(after) - requests(before), 4);
    assert.equal(count('POST', '2xx', '/v1/completions'), 1);
    assert.equal(count('POST', '4xx', '/v1/embeddings'), 1);
    assert.equal(count('POST', '2xx', '/v1/chat/completions'), 1);
    assert.equal(count('GET', '2xx', '/v1/models/{model}'), 1);
    for (const sample of after.get('http_requests_total')!.samples) {
      assert.deepEqual(Object.keys(sample.labels).sort(), ['handler', 'method', 'status']);
      assert.ok(
        !['/metrics', '/health', '/load', '/ping', '/version'].includes(sample.labels.handler!),
      );
    }
    const highr = 'http_request_duration_highr_seconds';
    assert.equal(moved(highr, `${highr}_count`, {}), 4);
    const lowr = 'http_request_duration_seconds';
    const completions = { method: 'POST', handler: '/v1/completions' };
    assert.equal(moved(lowr, `${lowr}_count`, completions), 1);
    assert.deepEqual(histogramOf(after, lowr, completions).bounds, ['0.1', '0.5', '1', '+Inf']);
    // Sizes: the Content-Length headers; the event stream has none.
    const size = (family: string, handler: string) => ({
      count: moved(family, `${family}_count`, { handler }),
      sum: moved(family, `${family}_sum`, { handler }),
    });
    assert.deepEqual(size('http_request_size_bytes', '/v1/chat/completions'), {
      count: 1,
      sum: Buffer.byteLength(chatBody),
    });
    assert.deepEqual(size('http_response_size_bytes', '/v1/chat/completions'), {
      count: 1,
      sum: chatBytes,
    });
    assert.deepEqual(size('http_request_size_bytes', '/v1/completions'), {
      count: 1,
      sum: Buffer.byteLength(streamBody),
    });
    assert.deepEqual(size('http_response_size_bytes', '/v1/completions'), { count: 1, sum: 0 });
    assert.equal(
      summaryOf(after, 'http_response_size_bytes', { handler: '/v1/embeddings' }).count,
      1,
    );
    // The stream's duration runs to its last byte, not to its headers.
    const streamed = moved(lowr, `${lowr}_sum`, completions);
    assert.ok(streamed >= (endedAt - headersAt) / 1000, `${streamed} s`);
    assert.ok(streamed <= (endedAt - started) / 1000 + 0.05, `${streamed} s`);
  });
});
