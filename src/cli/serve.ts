/**
 * `servellm serve`: the only place that knows every layer. Loads the model into the llama.cpp
 * backend, starts the engine, builds the HTTP app, listens, and stops it all cleanly on SIGINT or
 * SIGTERM.
 *
 * Owns: turning ServeOptions into backend, engine and app settings (KV layout, context length
 * defaults, the generation-config sampling defaults), the start-up banner, and shutdown: the
 * first signal drains (no new connections, new requests 503, those in flight run on for up to
 * --shutdown-timeout seconds), then closes HTTP (aborting what is left), the engine, the
 * backend; a second signal exits at once with 128 + the signal's number.
 */
import { toolCallParser } from '../http/tools/tool-parsers.ts';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { LlamaBackend } from '../backend/llama/llama-backend.ts';
import type { EngineStats } from '../engine/engine-types.ts';
import { EmbeddingRunner } from '../engine/embedding-runner.ts';
import { LlmEngine } from '../engine/llm-engine.ts';
import { createApp } from '../http/app.ts';
import { DrainGate, stopListening } from '../http/draining.ts';
import { VllmMetrics } from '../http/metrics/vllm-metrics.ts';
import { resolveChatTemplate } from './chat-template-source.ts';
import { DEMO_MODEL_NAME, DEMO_NOTICE, ensureDemoModel } from './demo-model.ts';
import { checkModelFile, modelLoadError } from './model-file.ts';
import {
  ggufGenerationConfig,
  readGenerationConfigSource,
  resolveGenerationConfig,
} from './generation-config.ts';
import { DEFAULT_MAX_MODEL_LEN_CAP, type LogLevel, type ServeOptions } from './serve-options.ts';
import { startStatsLogger } from './stats-logger.ts';

/** A started server: its address and how to stop it. */
export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly engine: LlmEngine;
  readonly backend: LlamaBackend;
  /** Requests in flight, and whether the server is draining. */
  readonly drain: DrainGate;
  /**
   * Stop: refuse new connections and requests, let those in flight finish for up to
   * `shutdownTimeoutS` seconds (default: the options'), abort the rest, then close the engine and
   * the backend. Later calls return the first call's promise.
   */
  close(shutdownTimeoutS?: number): Promise<void>;
}

const PINO_LEVEL: Record<LogLevel, string> = {
  critical: 'fatal',
  error: 'error',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
};

function packageVersion(): string {
  const path = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** vLLM refuses a --max-model-len beyond the model's; so do we (llama.cpp would extrapolate). */
function resolveMaxModelLen(requested: number | null, trainContextLength: number): number {
  if (requested === null) return Math.min(trainContextLength, DEFAULT_MAX_MODEL_LEN_CAP);
  if (requested > trainContextLength) {
    throw new Error(
      `User-specified max_model_len (${requested}) is greater than the derived max_model_len ` +
        `(${trainContextLength}, the model's context length). Please set --max-model-len to at most ${trainContextLength}.`,
    );
  }
  return requested;
}

/**
 * The listen backlog: uvicorn's default (vLLM's server), clamped by the kernel's somaxconn.
 * Node accepts one connection per event-loop iteration, and while requests decode an iteration
 * lasts a step: with Node's 511, a burst of 1,500 clients had the kernel drop 6,084 SYNs (each
 * client retries after 1 s, 3 s, ...); with 2,048, none.
 */
const LISTEN_BACKLOG = 2048;

/** Sequence ids of a unified KV cache: llama.cpp's most (LLAMA_MAX_SEQ), for cached prefixes. */
const UNIFIED_SEQUENCE_IDS = 256;

/**
 * The KV cells to allocate: --max-num-seqs x --max-model-len (per-sequence streams, or the
 * default unified pool), or --num-gpu-blocks-override blocks for a unified pool.
 */
function unifiedPoolCells(options: ServeOptions, maxModelLen: number): number {
  if (options.numGpuBlocksOverride === null) return maxModelLen * options.maxNumSeqs;
  if (options.kvCacheLayout !== 'unified') {
    throw new Error(
      '--num-gpu-blocks-override sizes the unified KV pool: add --kv-cache-layout unified',
    );
  }
  const cells = options.numGpuBlocksOverride * options.blockSize;
  if (cells < maxModelLen) {
    throw new Error(
      `--num-gpu-blocks-override ${options.numGpuBlocksOverride} x --block-size ${options.blockSize} = ${cells} cells cannot hold one request of max_model_len ${maxModelLen}`,
    );
  }
  return cells;
}

/** Start serving; resolves once listening. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = (line: string): void => {
    if (options.logLevel !== 'critical' && options.logLevel !== 'error') console.log(line);
  };
  const demo = options.model === null;
  if (demo) log(DEMO_NOTICE);
  const modelPath = demo ? await ensureDemoModel() : resolve(options.model);
  // Each fault of the model file is one line (the CLI prints the message), not llama.cpp's log.
  checkModelFile(modelPath);
  if (options.dtype !== 'auto') {
    log(`--dtype ${options.dtype}: GGUF weights keep the types stored in the file; ignored.`);
  }
  // A --generation-config folder is read before the model loads, so a bad one fails fast.
  const generationSource = readGenerationConfigSource(options.generationConfig);

  let maxModelLen = 0;
  const unified = options.kvCacheLayout === 'unified';
  const backend = await LlamaBackend.load({
    modelPath,
    // llama.cpp's own log lines only at --log-level debug or trace; its errors reach us anyway,
    // in the messages of the calls that failed.
    ...llamaLogging(options.logLevel),
    variant: options.device,
    // per-sequence: one KV stream per sequence, each a whole max_model_len. unified: one pool;
    // sequence ids beyond --max-num-seqs hold cached prefixes (they cost no memory there).
    unifiedKv: unified,
    // llama.cpp needs n_seq_max <= n_batch (the backend refuses more): with a small
    // --max-num-batched-tokens, fewer ids hold cached prefixes.
    maxSequences: unified
      ? Math.max(options.maxNumSeqs, Math.min(UNIFIED_SEQUENCE_IDS, options.maxNumBatchedTokens))
      : options.maxNumSeqs,
    contextSize: (trainContextLength) => {
      maxModelLen = resolveMaxModelLen(options.maxModelLen, trainContextLength);
      return unifiedPoolCells(options, maxModelLen);
    },
    batchSize: options.maxNumBatchedTokens,
    microBatchSize: Math.min(512, options.maxNumBatchedTokens),
    // A model that declares a pooling is an embedding model: /v1/embeddings, no generation.
    embeddings: 'auto',
    ...(options.threads !== null ? { threads: options.threads } : {}),
  }).catch((error: unknown) => {
    throw modelLoadError(modelPath, error);
  });
  try {
    await backend.warmUp();
    // An embedding input is pooled in one decode: no longer than a batch.
    if (backend.embeddings) maxModelLen = Math.min(maxModelLen, backend.kvLayout.maxBatchTokens);
    const servedModelNames =
      options.servedModelNames.length > 0
        ? options.servedModelNames
        : [demo ? DEMO_MODEL_NAME : options.model];
    const metrics: VllmMetrics = new VllmMetrics({
      modelName: servedModelNames[0]!,
      maxModelLen,
      stats: (): EngineStats => engine.stats(),
      cacheConfig: () => ({
        block_size: String(options.blockSize),
        cache_dtype: 'auto',
        enable_prefix_caching: options.enablePrefixCaching ? 'True' : 'False',
        num_gpu_blocks: String(engine.stats().kvBlocksTotal),
        num_gpu_blocks_override: String(options.numGpuBlocksOverride ?? 'None'),
        kv_cache_layout: options.kvCacheLayout,
      }),
    });
    const engine: LlmEngine = new LlmEngine(
      backend,
      {
        maxModelLen,
        maxNumSeqs: options.maxNumSeqs,
        maxNumBatchedTokens: options.maxNumBatchedTokens,
        schedulingPolicy: options.schedulingPolicy,
        seed: BigInt(options.seed),
        blockSize: options.blockSize,
        enablePrefixCaching: options.enablePrefixCaching,
        stepLatencyFactor: options.stepLatencyFactor,
        maxWaitingRequests: options.maxWaitingRequests,
      },
      metrics,
    );
    const template = resolveChatTemplate(options.chatTemplate, backend.info.chatTemplate);
    const generation = resolveGenerationConfig(
      generationSource,
      generationSource.kind === 'auto' ? ggufGenerationConfig(backend.info.metadata) : {},
      options.overrideGenerationConfig,
    );
    for (const line of generation.notices) log(line);
    const drain = new DrainGate();
    const app = createApp({
      drain,
      // An embedding model's engine is never given a request (its generation routes refuse).
      engine: backend.embeddings ? null : engine,
      ...(backend.embeddings ? { embeddingRunner: new EmbeddingRunner(backend) } : {}),
      tokenizer: backend.tokenizer,
      model: backend.info,
      servedModelNames,
      chatTemplate: template.template,
      trustRequestChatTemplate: options.trustRequestChatTemplate,
      responseRole: options.responseRole,
      tools: {
        autoToolChoice: options.enableAutoToolChoice,
        parser: options.toolCallParser === null ? null : toolCallParser(options.toolCallParser)!,
        excludeToolsWhenNone: options.excludeToolsWhenToolChoiceNone,
      },
      maxLogprobs: options.maxLogprobs,
      returnTokensAsTokenIds: options.returnTokensAsTokenIds,
      maxNSequences: options.maxNSequences,
      enablePromptTokensDetails: options.enablePromptTokensDetails,
      metrics,
      cors: {
        allowedOrigins: options.allowedOrigins,
        allowedMethods: options.allowedMethods,
        allowedHeaders: options.allowedHeaders,
        allowCredentials: options.allowCredentials,
      },
      rootPath: options.rootPath,
      requestIdHeaders: options.enableRequestIdHeaders,
      docs: !options.disableFastapiDocs,
      serverLoadTracking: options.enableServerLoadTracking,
      forceIncludeUsage: options.enableForceIncludeUsage,
      maxLogLen: options.maxLogLen,
      bodyLimit: options.maxRequestBody,
      connectionTimeouts: {
        headersS: options.timeoutRequestHeadersS,
        requestS: options.timeoutRequestBodyS,
        keepAliveS: options.timeoutKeepAliveS,
      },
      maxStreamBuffer: options.maxStreamBuffer,
      generationDefaults: generation.defaults,
      ...(options.sslKeyfile !== null && options.sslCertfile !== null
        ? {
            tls: {
              key: readFileSync(options.sslKeyfile, 'utf8'),
              cert: readFileSync(options.sslCertfile, 'utf8'),
              ...(options.sslCaCerts !== null
                ? { ca: readFileSync(options.sslCaCerts, 'utf8') }
                : {}),
              certReqs: options.sslCertReqs,
            },
          }
        : {}),
      apiKeys: options.apiKeys,
      maxModelLen,
      version: packageVersion(),
      modelRoot: modelPath,
      logger: options.disableLogRequests ? false : { level: PINO_LEVEL[options.logLevel] },
    });
    const url = await app.listen({
      host: options.host,
      port: options.port,
      backlog: LISTEN_BACKLOG,
    });
    const info = backend.info;
    log(
      [
        `servellm ${packageVersion()} serving ${servedModelNames.join(', ')} at ${url}/v1`,
        `  model: ${modelPath} (${info.description}, ${(info.parameterCount / 1e6).toFixed(1)}M parameters, vocabulary ${info.vocabSize})`,
        `  kernels: llama.cpp ${backend.kernels.llamaVersion} on ${backend.kernels.devices.join(', ')}`,
        `  max_model_len ${maxModelLen}, max_num_seqs ${options.maxNumSeqs}, max_num_batched_tokens ${options.maxNumBatchedTokens}`,
        `  KV cache: ${options.kvCacheLayout}, ${backend.kvLayout.totalCells} cells, blocks of ${options.blockSize}, prefix caching ${options.enablePrefixCaching ? 'on' : 'off'}`,
        `  chat template: ${template.source}${options.apiKeys.length > 0 ? '; API key required' : ''}`,
      ].join('\n'),
    );
    const stopStats =
      options.logStatsIntervalS !== null
        ? startStatsLogger(engine, options.logStatsIntervalS, log)
        : () => {};
    let closing: Promise<void> | null = null;
    const close = (shutdownTimeoutS: number = options.shutdownTimeoutS): Promise<void> =>
      (closing ??= (async () => {
        stopStats();
        drain.begin();
        stopListening(app.server);
        if (shutdownTimeoutS > 0 && drain.inFlight > 0) {
          log(
            `servellm: waiting up to ${shutdownTimeoutS} s for ${drain.inFlight} request(s) in flight`,
          );
          if (!(await drain.whenDrained(shutdownTimeoutS * 1000))) {
            log(`servellm: aborting ${drain.inFlight} request(s) still in flight`);
          }
        }
        // Drops every connection left (vLLM's --shutdown-timeout 0: in-flight requests abort).
        await app.close();
        await engine.shutdown();
        await backend.dispose();
      })());
    return { url, app, engine, backend, drain, close };
  } catch (error) {
    await backend.dispose();
    throw error;
  }
}

/** llama.cpp's log level and sink for servellm's --log-level (see LlamaBackendOptions). */
function llamaLogging(level: LogLevel): { logLevel: number; log?: (l: number, t: string) => void } {
  if (level !== 'debug' && level !== 'trace') return { logLevel: 0 };
  return {
    logLevel: level === 'trace' ? 4 : 3,
    log: (_level, text) => console.error(`llama.cpp: ${text}`),
  };
}

/**
 * Run until SIGINT or SIGTERM, then shut down (draining for --shutdown-timeout seconds). A
 * second signal while shutting down exits at once, with 128 + its number (130 for SIGINT, 143
 * for SIGTERM).
 */
export async function serve(options: ServeOptions): Promise<void> {
  const server = await startServer(options);
  let stopping = false;
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  try {
    await new Promise<void>((done) => {
      onSignal = (signal) => {
        if (stopping) {
          console.error(`servellm: second ${signal}, exiting now`);
          process.exit(128 + constants.signals[signal]);
        }
        stopping = true;
        console.log(`servellm: ${signal}, shutting down`);
        server.close().then(done, (error: unknown) => {
          console.error(error);
          process.exitCode = 1;
          done();
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
