/**
 * The servers a fuzz run aims at, behind one interface: in-process apps answered through
 * Fastify's `inject` (the real LlmEngine over the scripted FakeBackend for generation, a fake
 * embedding runner for embeddings) and real servers on real models (`startServer`, the
 * successor model for generation, its mean-pooling build for embeddings) over loopback HTTP.
 *
 * Owns: each target's settings (served as FUZZ_MODEL_NAMES, small contexts, n <= 8, small body
 * limits so 413s are cheap, tools on with the hermes parser, request chat templates trusted
 * in-process), sending a case and timing out a silent one, and the health checks: after each
 * case no request is left running or waiting; after the run a normal request is answered
 * right and, with the prefix cache dropped, no KV cell is in use.
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { FakeBackend } from '../../../src/backend/fake-backend.ts';
import { startServer, type RunningServer } from '../../../src/cli/serve.ts';
import type { ServeOptions } from '../../../src/cli/serve-options.ts';
import type { EmbeddingRunner } from '../../../src/engine/embedding-runner.ts';
import { successorLogits } from '../../../src/engine/engine-test-fixtures.ts';
import { EngineRequestError, type EngineStats } from '../../../src/engine/engine-types.ts';
import { LlmEngine } from '../../../src/engine/llm-engine.ts';
import { createApp } from '../../../src/http/app.ts';
import { VllmMetrics } from '../../../src/http/metrics/vllm-metrics.ts';
import { ScriptedEngine } from '../../../src/http/testing/scripted-engine.ts';
import { CHATML_TEMPLATE } from '../../../src/http/testing/test-app.ts';
import { toolCallParser } from '../../../src/http/tools/tool-parsers.ts';
import { ensureModel } from '../../../src/gguf/model-cache.ts';
import { testServeOptions } from '../models.ts';
import type { FuzzAnswer } from './answer-checks.ts';
import type { CaseMix } from './fuzz-cases.ts';
import type { FuzzCase } from './fuzz-case.ts';
import { FUZZ_MODEL_NAMES } from './field-values.ts';

/** A server under fuzzing. */
export interface FuzzTarget {
  readonly name: string;
  /** What to send it. */
  readonly mix: CaseMix;
  /** Sends one case; rejects when the connection drops or no answer comes in time. */
  send(fuzzCase: FuzzCase): Promise<FuzzAnswer>;
  /** Throws when, the engine idle, a request is still running or waiting. */
  assertSettled(): Promise<void>;
  /** Throws unless a normal request is answered right and no KV cell is left in use. */
  assertHealthy(): Promise<void>;
  close(): Promise<void>;
}

/** Longest wait for one answer (a beam search on the real model takes a few seconds at most). */
const ANSWER_TIMEOUT_MS = 60_000;

const MAX_MODEL_LEN = 128;
const MAX_N = 8;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within 60 s: ${what}`)),
      ANSWER_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const GENERATION_MIX = (bodyLimit: number): CaseMix => ({
  bodyLimit,
  endpoints: [
    { endpoint: '/v1/completions', weight: 30 },
    { endpoint: '/v1/chat/completions', weight: 30 },
    { endpoint: '/invocations', weight: 10 },
    { endpoint: '/tokenize', weight: 10 },
    { endpoint: '/detokenize', weight: 6 },
    { endpoint: '/v1/embeddings', weight: 4 },
  ],
});

const EMBEDDING_MIX = (bodyLimit: number): CaseMix => ({
  bodyLimit,
  endpoints: [
    { endpoint: '/v1/embeddings', weight: 50 },
    { endpoint: '/invocations', weight: 20 },
    { endpoint: '/tokenize', weight: 10 },
    { endpoint: '/detokenize', weight: 5 },
    { endpoint: '/v1/completions', weight: 5 },
    { endpoint: '/v1/chat/completions', weight: 5 },
  ],
});

async function injectCase(app: FastifyInstance, fuzzCase: FuzzCase): Promise<FuzzAnswer> {
  const response = await withTimeout(
    app.inject({
      method: fuzzCase.method,
      url: fuzzCase.url,
      headers: { ...fuzzCase.headers },
      ...(fuzzCase.payload !== null ? { payload: fuzzCase.payload } : {}),
    }),
    fuzzCase.describe(),
  );
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    body: response.body,
  };
}

/** POSTs a JSON body in process and returns the parsed answer (health checks). */
async function injectJson(app: FastifyInstance, url: string, body: unknown) {
  const response = await app.inject({ method: 'POST', url, payload: body as object });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

/** The text of the first choice of a completion answer. */
function firstText(body: Record<string, unknown>): unknown {
  return (body['choices'] as { text?: unknown }[] | undefined)?.[0]?.text;
}

/** Metrics for an in-process app (so GET /metrics is served and fuzzed). */
function fuzzMetrics(stats: () => EngineStats): VllmMetrics {
  return new VllmMetrics({
    modelName: FUZZ_MODEL_NAMES[0],
    maxModelLen: MAX_MODEL_LEN,
    stats,
    cacheConfig: () => ({
      block_size: '16',
      cache_dtype: 'auto',
      enable_prefix_caching: 'True',
      num_gpu_blocks: '64',
      num_gpu_blocks_override: 'None',
      kv_cache_layout: 'unified',
    }),
    processMetrics: false,
  });
}

/**
 * The in-process generation target: the real engine over the FakeBackend (successor logits:
 * after byte b comes b + 1), ChatML, tools, trusted request templates, metrics.
 */
export function inProcessGenerationTarget(bodyLimit = 1024 * 1024): FuzzTarget {
  const backend = new FakeBackend({
    logits: successorLogits(),
    kvLayout: { totalCells: 1024, cellsPerSequence: 1024, maxSequences: 16, unified: true },
    trainContextLength: MAX_MODEL_LEN,
    chatTemplate: CHATML_TEMPLATE,
  });
  const engine = new LlmEngine(backend, {
    maxModelLen: MAX_MODEL_LEN,
    maxNumSeqs: 8,
    maxNumBatchedTokens: 256,
    seed: 0n,
  });
  const metrics = fuzzMetrics(() => engine.stats());
  const app = createApp({
    engine,
    tokenizer: backend.tokenizer,
    model: backend.info,
    servedModelNames: FUZZ_MODEL_NAMES,
    chatTemplate: CHATML_TEMPLATE,
    trustRequestChatTemplate: true,
    maxModelLen: MAX_MODEL_LEN,
    maxNSequences: MAX_N,
    bodyLimit,
    version: '0.0.0-fuzz',
    tools: { autoToolChoice: true, parser: toolCallParser('hermes')!, excludeToolsWhenNone: false },
    metrics,
    serverLoadTracking: true,
  });
  return {
    name: 'in-process generation (LlmEngine over FakeBackend)',
    mix: GENERATION_MIX(bodyLimit),
    send: (fuzzCase) => injectCase(app, fuzzCase),
    async assertSettled() {
      await engine.whenIdle();
      const { running, waiting } = engine.stats();
      assert.deepEqual({ running, waiting }, { running: 0, waiting: 0 }, 'requests left behind');
      backend.decodeLog.length = 0;
    },
    async assertHealthy() {
      const answer = await injectJson(app, '/v1/completions', {
        prompt: 'abc',
        max_tokens: 3,
        temperature: 0,
      });
      assert.equal(answer.status, 200);
      assert.equal(firstText(answer.body), 'def');
      await engine.whenIdle();
      engine.resetPrefixCache();
      await engine.whenIdle();
      const stats = engine.stats();
      assert.equal(stats.running + stats.waiting, 0, 'requests left behind');
      assert.equal(stats.kvBlocksUsed, 0, 'KV blocks left in use');
      assert.equal(backend.kv.usedCells(), 0, 'KV cells left in use');
    },
    async close() {
      await app.close();
      await engine.shutdown();
    },
  };
}

/** A stand-in embedding runner: one 4-float vector per input, with the real one's refusals. */
function fakeEmbeddingRunner(maxInputTokens: number): EmbeddingRunner {
  const runner = {
    maxInputTokens,
    embed(inputs: readonly (readonly number[])[]): Promise<Float32Array[]> {
      inputs.forEach((tokens, index) => {
        if (tokens.length === 0) throw new EngineRequestError(`input ${index} is empty.`, 'input');
        if (tokens.length > maxInputTokens) {
          throw new EngineRequestError(`input ${index} is too long.`, 'input');
        }
      });
      return Promise.resolve(inputs.map((tokens) => Float32Array.of(tokens.length, 1, 0, 0)));
    },
  };
  return runner as unknown as EmbeddingRunner;
}

/** The in-process embedding target: no engine (generation refused), a fake runner. */
export function inProcessEmbeddingTarget(bodyLimit = 1024 * 1024): FuzzTarget {
  const backend = new FakeBackend({ logits: successorLogits(), chatTemplate: CHATML_TEMPLATE });
  const app = createApp({
    engine: null,
    embeddingRunner: fakeEmbeddingRunner(64),
    tokenizer: backend.tokenizer,
    model: { ...backend.info, poolingType: 'mean' },
    servedModelNames: FUZZ_MODEL_NAMES,
    chatTemplate: CHATML_TEMPLATE,
    maxModelLen: 64,
    bodyLimit,
    version: '0.0.0-fuzz',
    // No engine: its gauges read an idle engine's (all zero) stats.
    metrics: fuzzMetrics(() => new ScriptedEngine().stats()),
  });
  return {
    name: 'in-process embeddings (fake runner)',
    mix: EMBEDDING_MIX(bodyLimit),
    send: (fuzzCase) => injectCase(app, fuzzCase),
    assertSettled: () => Promise.resolve(),
    async assertHealthy() {
      const answer = await injectJson(app, '/v1/embeddings', { input: 'abc' });
      assert.equal(answer.status, 200);
    },
    close: () => app.close(),
  };
}

/** Sends a case over HTTP/1.1 keep-alive; a dropped connection rejects. */
function httpCase(url: string, agent: Agent, fuzzCase: FuzzCase): Promise<FuzzAnswer> {
  const base = new URL(url);
  const answer = new Promise<FuzzAnswer>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...fuzzCase.headers };
    if (fuzzCase.payload !== null) headers['content-length'] = fuzzCase.payload.length;
    const request = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: fuzzCase.method,
        path: fuzzCase.url,
        headers,
        agent,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(fuzzCase.payload ?? undefined);
  });
  return withTimeout(answer, fuzzCase.describe());
}

/** POSTs JSON over HTTP and parses the answer (health checks). */
async function fetchJson(url: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** After a run: nothing running or waiting, and no KV cell held once the prefix cache is dropped. */
async function assertServerDrained(server: RunningServer): Promise<void> {
  await server.engine.whenIdle();
  server.engine.resetPrefixCache();
  await server.engine.whenIdle();
  const stats = server.engine.stats();
  assert.equal(stats.running + stats.waiting, 0, 'requests left behind');
  assert.equal(stats.kvBlocksUsed, 0, 'KV blocks left in use');
  for (let sequence = 0; sequence < server.backend.kvLayout.maxSequences; sequence++) {
    assert.equal(server.backend.kv.positions(sequence), null, `sequence ${sequence} holds KV`);
  }
}

/** A real server (startServer) on `model` (default: the successor model), for HTTP fuzzing. */
async function realTarget(
  name: string,
  mix: CaseMix,
  overrides: Partial<ServeOptions>,
  healthy: (server: RunningServer) => Promise<void>,
): Promise<FuzzTarget> {
  const server = await startServer(
    await testServeOptions({
      ...overrides,
      servedModelNames: [...FUZZ_MODEL_NAMES],
      maxModelLen: MAX_MODEL_LEN,
      maxNSequences: MAX_N,
      maxNumSeqs: 4,
      maxRequestBody: mix.bodyLimit,
      enableAutoToolChoice: true,
      toolCallParser: 'hermes',
      enableServerLoadTracking: true,
      logLevel: 'critical',
    }),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  return {
    name,
    mix,
    send: (fuzzCase) => httpCase(server.url, agent, fuzzCase),
    async assertSettled() {
      await server.engine.whenIdle();
      const { running, waiting } = server.engine.stats();
      assert.deepEqual({ running, waiting }, { running: 0, waiting: 0 }, 'requests left behind');
    },
    assertHealthy: () => healthy(server),
    async close() {
      agent.destroy();
      await server.close();
    },
  };
}

/**
 * The real successor model served over HTTP (generation, tools, streaming); `unified`: one
 * small unified KV pool (16 blocks of 16 cells), so concurrent requests preempt each other.
 */
export function realGenerationTarget(
  bodyLimit = 1024 * 1024,
  unified = false,
): Promise<FuzzTarget> {
  return realTarget(
    `real server, successor model, ${unified ? 'unified KV pool of 256 cells' : 'per-sequence KV'}`,
    GENERATION_MIX(bodyLimit),
    unified ? { kvCacheLayout: 'unified', numGpuBlocksOverride: 16 } : {},
    async (server) => {
      const answer = await fetchJson(`${server.url}/v1/completions`, {
        prompt: 'abc',
        max_tokens: 5,
        temperature: 0,
      });
      assert.equal(answer.status, 200);
      assert.equal(firstText(answer.body), 'defgh');
      await assertServerDrained(server);
    },
  );
}

/** The real mean-pooling successor model served over HTTP (embeddings; generation refused). */
export async function realEmbeddingTarget(bodyLimit = 1024 * 1024): Promise<FuzzTarget> {
  const model = await ensureModel({ preset: 'successor', weightType: 'f32', poolingType: 'mean' });
  return realTarget(
    'real server, mean-pooling successor model',
    EMBEDDING_MIX(bodyLimit),
    { model },
    async (server) => {
      const answer = await fetchJson(`${server.url}/v1/embeddings`, { input: 'abc' });
      assert.equal(answer.status, 200);
    },
  );
}
