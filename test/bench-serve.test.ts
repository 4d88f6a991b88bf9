/**
 * `servellm bench serve`'s library API against the whole server, in-process on a loopback port:
 * 12 streamed /v1/completions requests with token-id prompts of letters (byte tokens 97..122),
 * 4 at a time, 8 output tokens each with ignore_eos; every request succeeds with exactly 8
 * tokens and the latency figures are positive and ordered. Also one chat request.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomDataset } from '../src/benchmark/dataset.ts';
import type { LatencyStats } from '../src/benchmark/metrics.ts';
import { formatReport } from '../src/benchmark/report.ts';
import { requestBody, runRequest, type TargetOptions } from '../src/benchmark/request-runner.ts';
import { runBenchmark } from '../src/benchmark/run-benchmark.ts';
import { benchServe, buildBenchCommand, type BenchServeOptions } from '../src/cli/bench-command.ts';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';

const MODEL = 'successor';

function assertOrdered(name: string, stats: LatencyStats): void {
  const p99 = stats.percentiles.get(99)!;
  assert.ok(stats.mean > 0, `${name} mean ${stats.mean}`);
  assert.ok(stats.median > 0, `${name} median ${stats.median}`);
  assert.ok(p99 >= stats.median, `${name} p99 ${p99} < median ${stats.median}`);
  assert.ok(p99 >= stats.mean || stats.std === 0, `${name} p99 ${p99} < mean ${stats.mean}`);
}

describe('bench serve against servellm, in-process', () => {
  let server: RunningServer;
  let target: TargetOptions;

  before(async () => {
    server = await startServer(
      await testServeOptions({ servedModelNames: [MODEL], maxModelLen: 256, maxNumSeqs: 4 }),
    );
    target = {
      baseUrl: server.url,
      endpoint: '/v1/completions',
      model: MODEL,
      apiKey: null,
      temperature: 0,
      ignoreEos: true,
      extraBody: null,
    };
  });
  after(() => server.close());

  it('runs 12 requests at concurrency 4, each with 8 output tokens', async () => {
    const requests = randomDataset({
      numPrompts: 12,
      inputLen: 16,
      outputLen: 8,
      rangeRatio: 0,
      prefixLen: 0,
      seed: 0,
      promptKind: 'tokens',
      tokenIdRange: [97, 122],
    });
    let progressCalls = 0;
    const outcome = await runBenchmark({
      target,
      requests,
      requestRate: Infinity,
      burstiness: 1,
      seed: 0,
      maxConcurrency: 4,
      numWarmups: 2,
      maxDurationS: 60,
      percentiles: [99],
      onProgress: () => progressCalls++,
    });
    const { metrics, results } = outcome;
    assert.deepEqual(
      results.filter((r) => !r.success).map((r) => r.error),
      [],
    );
    assert.equal(outcome.unsent, 0);
    assert.equal(progressCalls, 12);
    assert.equal(metrics.completed, 12);
    assert.equal(metrics.failed, 0);
    for (const r of results) {
      assert.equal(r.outputTokens, 8);
      assert.equal(r.promptTokens, 16);
      assert.ok(r.ttftMs > 0 && r.latencyMs >= r.ttftMs);
    }
    assert.equal(metrics.totalOutputTokens, 96);
    assert.equal(metrics.totalInputTokens, 192);
    assert.ok(metrics.durationS > 0);
    assert.ok(metrics.requestThroughput > 0);
    assert.ok(metrics.totalTokenThroughput > metrics.outputThroughput);
    assertOrdered('ttft', metrics.ttft);
    assertOrdered('tpot', metrics.tpot);
    assertOrdered('itl', metrics.itl);
    assertOrdered('e2el', metrics.e2el);
    assert.ok(metrics.e2el.median >= metrics.ttft.median);
    const report = formatReport(metrics, {
      baseUrl: server.url,
      endpoint: target.endpoint,
      model: MODEL,
      datasetName: 'random',
      numPrompts: 12,
      requestRate: Infinity,
      burstiness: 1,
      maxConcurrency: 4,
    });
    assert.match(report, /Successful requests:\s+12\n/);
    assert.match(report, /P99 ITL \(ms\):\s+\d+\.\d\d\n/);
  });

  it('runs through the command and saves vLLM-named JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-serve-'));
    const log = console.log;
    const lines: string[] = [];
    console.log = (line: string) => lines.push(line);
    try {
      const file = join(dir, 'result.json');
      await benchServe(
        await parseBench([
          ...['--base-url', server.url, '--num-prompts', '6', '--random-input-len', '8'],
          ...['--random-output-len', '4', '--max-concurrency', '3', '--result-file', file],
          ...['--dataset-name', 'prefix', '--prefix-len', '8', '--metric-percentiles', '50,99'],
        ]),
      );
      const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      assert.equal(json['model_id'], MODEL); // from /v1/models
      assert.equal(json['completed'], 6);
      assert.equal(json['failed'], 0);
      assert.equal(json['total_output_tokens'], 24);
      assert.equal(json['total_input_tokens'], 96);
      assert.equal(json['request_rate'], 'inf');
      for (const key of ['mean_ttft_ms', 'median_tpot_ms', 'p99_itl_ms', 'p50_e2el_ms']) {
        assert.ok((json[key] as number) > 0, key);
      }
      assert.match(lines.join('\n'), /Serving Benchmark Result/);
    } finally {
      console.log = log;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('streams a chat request and a failure is reported, not thrown', async () => {
    const chat = await runRequest(
      { ...target, endpoint: '/v1/chat/completions' },
      { prompt: 'abc', inputLen: null, outputLen: 5 },
    );
    assert.equal(chat.error, '');
    assert.equal(chat.outputTokens, 5);
    assert.ok(chat.promptTokens! > 3);
    const failed = await runRequest(
      { ...target, model: 'no-such-model' },
      { prompt: [97], inputLen: 1, outputLen: 2 },
    );
    assert.equal(failed.success, false);
    assert.match(failed.error, /^HTTP 404/);
  });
});

/** Parse `bench serve` flags as the command would. */
async function parseBench(args: string[]): Promise<BenchServeOptions> {
  let received: BenchServeOptions | null = null;
  const bench = buildBenchCommand((options) => {
    received = options;
    return Promise.resolve();
  });
  for (const command of [bench, ...bench.commands]) {
    command.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  }
  await bench.parseAsync(['serve', ...args], { from: 'user' });
  assert.ok(received !== null, 'bench serve was not called');
  return received;
}

describe('bench serve flags', () => {
  it("has vLLM's defaults", async () => {
    const options = await parseBench([]);
    assert.equal(options.baseUrl, 'http://127.0.0.1:8000');
    assert.equal(options.endpoint, '/v1/completions');
    assert.equal(options.model, null);
    assert.equal(options.numPrompts, 1000);
    assert.equal(options.randomInputLen, 1024);
    assert.equal(options.randomOutputLen, 128);
    assert.equal(options.randomRangeRatio, 0);
    assert.equal(options.requestRate, Infinity);
    assert.equal(options.burstiness, 1);
    assert.equal(options.maxConcurrency, null);
    assert.equal(options.maxDurationS, null);
    assert.equal(options.temperature, 0);
    assert.equal(options.ignoreEos, true);
    assert.deepEqual(options.percentiles, [99]);
    assert.deepEqual(options.tokenIdRange, [97, 122]);
    assert.equal(options.datasetName, 'random');
    assert.equal(options.extraBody, null);
  });

  it('parses rates, bounds and the dataset', async () => {
    const options = await parseBench([
      ...['--request-rate', '2.5', '--burstiness', '0.5', '--max-concurrency', '4'],
      ...['--max-duration', '30', '--no-ignore-eos', '--dataset-path', 'x.jsonl', '--progress'],
      ...['--endpoint', '/v1/chat/completions', '--random-token-range', '1000:2000'],
    ]);
    assert.equal(options.requestRate, 2.5);
    assert.equal(options.burstiness, 0.5);
    assert.equal(options.maxConcurrency, 4);
    assert.equal(options.maxDurationS, 30);
    assert.equal(options.ignoreEos, false);
    assert.equal(options.datasetName, 'jsonl');
    assert.equal(options.progress, true);
    assert.equal(options.endpoint, '/v1/chat/completions');
    assert.deepEqual(options.tokenIdRange, [1000, 2000]);
  });

  it('merges --extra-body into every request body', async () => {
    const options = await parseBench(['--extra-body', '{"logit_bias": {"200": -100}}']);
    assert.deepEqual(options.extraBody, { logit_bias: { '200': -100 } });
    const body = requestBody(
      {
        baseUrl: 'http://x',
        endpoint: '/v1/completions',
        model: 'm',
        apiKey: null,
        temperature: 0,
        ignoreEos: true,
        extraBody: options.extraBody,
      },
      { prompt: [1, 2], inputLen: 2, outputLen: 3 },
    );
    assert.deepEqual(body['logit_bias'], { '200': -100 });
    assert.equal(body['max_tokens'], 3);
    await assert.rejects(parseBench(['--extra-body', '[1]']), /--extra-body must be a JSON object/);
    await assert.rejects(parseBench(['--extra-body', '{']), /--extra-body must be a JSON object/);
  });

  it('rejects bad values, naming the flag', async () => {
    await assert.rejects(parseBench(['--request-rate', '0']), /--request-rate must be/);
    await assert.rejects(parseBench(['--random-range-ratio', '1']), /--random-range-ratio/);
    await assert.rejects(parseBench(['--dataset-name', 'prefix']), /--prefix-len > 0/);
    await assert.rejects(parseBench(['--endpoint', '/v1/embeddings']), /Allowed choices/);
  });
});
