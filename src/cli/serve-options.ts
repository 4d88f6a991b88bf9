/**
 * `servellm serve`'s command line: vLLM's flag names, defaults and help groups, parsed into one
 * typed ServeOptions value.
 *
 * Owns: flag definitions, their parsing and validation (a bad flag is a usage error naming it),
 * and the environment fallbacks (SERVELLM_API_KEY, VLLM_API_KEY; SERVELLM_LOG_STATS_INTERVAL,
 * VLLM_LOG_STATS_INTERVAL; VLLM_MAX_N_SEQUENCES). Knows nothing of how the server is built.
 */
import {
  TOOL_CALL_PARSER_NAMES,
  unknownToolCallParserMessage,
} from '../http/tools/tool-parsers.ts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_STEP_LATENCY_FACTOR } from '../engine/engine-config.ts';
import { DEFAULT_BODY_LIMIT } from '../http/app.ts';
import { DEFAULT_MAX_WAITING_REQUESTS } from '../engine/admission.ts';
import { DEFAULT_CONNECTION_TIMEOUTS } from '../http/connection-timeouts.ts';
import { DEFAULT_MAX_STREAM_BUFFER } from '../http/stream/sse.ts';
import { DEFAULT_MAX_N_SEQUENCES } from '../http/params/n-samples.ts';
import {
  NO_GENERATION_CONFIG_OVERRIDE,
  parseGenerationConfigOverride,
  type GenerationConfigOverride,
} from './generation-config.ts';

export type DeviceChoice = 'cpu' | 'cuda' | 'vulkan' | 'auto';
export type LogLevel = 'critical' | 'error' | 'warning' | 'info' | 'debug' | 'trace';

/** Everything `serve` needs, every default resolved except those that depend on the model. */
export interface ServeOptions {
  /** GGUF path, or null for the built-in demo model. */
  readonly model: string | null;
  readonly host: string;
  readonly port: number;
  /** Accepted keys (any one authorises a request); empty = no auth. */
  readonly apiKeys: readonly string[];
  /** Names the model answers to; empty = the model path (or "servellm-demo"). */
  readonly servedModelNames: readonly string[];
  /** A file path or an inline Jinja template, or null for the model's own. */
  readonly chatTemplate: string | null;
  /** vLLM's --trust-request-chat-template: chat requests may bring their own template. */
  readonly trustRequestChatTemplate: boolean;
  readonly responseRole: string;
  /** vLLM's --enable-auto-tool-choice: tool_choice "auto" parses calls out of the output. */
  readonly enableAutoToolChoice: boolean;
  /** vLLM's --tool-call-parser: the tool-call format of the model's output, or null. */
  readonly toolCallParser: string | null;
  /** vLLM's --exclude-tools-when-tool-choice-none: such requests render no tools. */
  readonly excludeToolsWhenToolChoiceNone: boolean;
  /** Cap on requested logprobs (-1 = the vocabulary). */
  readonly maxLogprobs: number;
  /** Logprobs name tokens `token_id:<id>` unless a request says otherwise. */
  readonly returnTokensAsTokenIds: boolean;
  /** The largest `n` a request may ask for (env VLLM_MAX_N_SEQUENCES, default 16384). */
  readonly maxNSequences: number;
  /** null = the model's context length, at most DEFAULT_MAX_MODEL_LEN_CAP. */
  readonly maxModelLen: number | null;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  readonly schedulingPolicy: 'fcfs' | 'priority';
  readonly seed: number;
  /**
   * vLLM's --generation-config: where request sampling defaults come from. `auto` (default): the
   * model's (a GGUF's general.sampling.* keys); `vllm`: none; else a folder holding an HF
   * generation_config.json.
   */
  readonly generationConfig: string;
  /**
   * vLLM's --override-generation-config: values merged over the generation config (default
   * none); its max_new_tokens also caps every request's max_tokens.
   */
  readonly overrideGenerationConfig: GenerationConfigOverride;
  /** Accepted for compatibility: GGUF weights keep their stored types. */
  readonly dtype: string;
  readonly logLevel: LogLevel;
  readonly disableLogRequests: boolean;
  /** Seconds between engine stats lines; null = --disable-log-stats. */
  readonly logStatsIntervalS: number | null;
  /**
   * vLLM's --shutdown-timeout: seconds that requests in flight may run on after SIGTERM or
   * SIGINT before they are aborted (new requests get 503 meanwhile). 0 (default): abort at once.
   */
  readonly shutdownTimeoutS: number;
  /** null = physical cores. */
  readonly threads: number | null;
  readonly device: DeviceChoice;
  /**
   * servellm's bound on a step that takes prompt tokens while requests decode: about this many
   * times a decode-only step (0 = off, vLLM's behaviour). See src/engine/prefill-limiter.ts.
   */
  readonly stepLatencyFactor: number;
  /**
   * servellm's --max-waiting-requests: with --max-num-seqs running, at most this many wait; a
   * request beyond it answers 503 with Retry-After (a request with n counts as n).
   */
  readonly maxWaitingRequests: number;
  /** Tokens per KV block (vLLM's --block-size): 1, 8, 16, 32, 64 or 128. */
  readonly blockSize: number;
  /** vLLM's --enable-prefix-caching (default on; --no-enable-prefix-caching). */
  readonly enablePrefixCaching: boolean;
  /** vLLM's --enable-prompt-tokens-details: usage reports prompt_tokens_details.cached_tokens. */
  readonly enablePromptTokensDetails: boolean;
  /**
   * How llama.cpp lays out the KV cache (servellm's own flag; bench/RESULTS.md "KV layout"):
   * `per-sequence` gives each of --max-num-seqs sequences its own stream of --max-model-len cells
   * (the fastest decode; a prefix is reused by copying a stream); `unified` is one pool of cells
   * shared by every sequence (cached prefixes share cells, a request holds only the blocks it
   * filled, preemption when the pool runs out; attention walks the whole pool).
   */
  readonly kvCacheLayout: KvCacheLayout;
  /**
   * vLLM's --num-gpu-blocks-override: the unified pool's size in blocks (default: --max-num-seqs
   * x --max-model-len cells). null = the default.
   */
  readonly numGpuBlocksOverride: number | null;
  /** vLLM's CORS flags (JSON lists, "*" = any) and --allow-credentials. */
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly allowCredentials: boolean;
  /** --root-path: a path prefix a proxy adds; requests under it are served too. null = none. */
  readonly rootPath: string | null;
  /** --enable-request-id-headers: every response carries X-Request-Id. */
  readonly enableRequestIdHeaders: boolean;
  /** --disable-fastapi-docs: no /openapi.json, /docs, /redoc. */
  readonly disableFastapiDocs: boolean;
  /** --enable-server-load-tracking: /load counts generation requests in flight. */
  readonly enableServerLoadTracking: boolean;
  /** --max-log-len: prompt ids logged per request; null = all. */
  readonly maxLogLen: number | null;
  /** --enable-force-include-usage: usage on every stream chunk. */
  readonly enableForceIncludeUsage: boolean;
  /** --max-request-body: the largest request body in bytes; a larger one answers 413. */
  readonly maxRequestBody: number;
  /**
   * Seconds: vLLM's --timeout-keep-alive (idle keep-alive connections), servellm's
   * --timeout-request-headers and --timeout-request-body (a request's headers, and all of it,
   * must arrive within them). See src/http/connection-timeouts.ts.
   */
  readonly timeoutKeepAliveS: number;
  readonly timeoutRequestHeadersS: number;
  readonly timeoutRequestBodyS: number;
  /** --max-stream-buffer: most unsent bytes of a stream before its client is dropped. */
  readonly maxStreamBuffer: number;
  /** HTTPS: PEM files of the key and certificate (both or neither), and of trusted client CAs. */
  readonly sslKeyfile: string | null;
  readonly sslCertfile: string | null;
  readonly sslCaCerts: string | null;
  /** Client certificates: 0 not asked (ssl.CERT_NONE), 1 optional, 2 required. */
  readonly sslCertReqs: 0 | 1 | 2;
}

export type KvCacheLayout = 'per-sequence' | 'unified';

/** When --max-model-len is not given: the model's context length, but at most this many tokens. */
export const DEFAULT_MAX_MODEL_LEN_CAP = 8192;

const LOG_LEVELS: readonly LogLevel[] = ['critical', 'error', 'warning', 'info', 'debug', 'trace'];

/** A known `--tool-call-parser` name, or vLLM's startup error. */
function toolCallParserName(value: string): string {
  if (!TOOL_CALL_PARSER_NAMES.includes(value)) {
    throw new InvalidArgumentError(unknownToolCallParserMessage(value));
  }
  return value;
}

function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${flag} must be a positive integer, got ${value}`);
    }
    return n;
  };
}

function atLeastMinusOne(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < -1) {
      throw new InvalidArgumentError(`${flag} must be an integer >= -1, got ${value}`);
    }
    return n;
  };
}

const LENGTH_SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  K: 1024,
  M: 1024 ** 2,
};

/** vLLM's --max-model-len syntax: 4096, 4k (4000), 4K (4096), 25.6k (25600). */
function modelLength(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(value.trim());
  const n = match ? Math.round(Number(match[1]) * LENGTH_SUFFIX[match[2]!]!) : NaN;
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(
      `--max-model-len must be a positive length like 4096, 4k or 4K, got ${value}`,
    );
  }
  return n;
}

function positiveSeconds(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive number of seconds, got ${value}`);
    }
    return n;
  };
}

function latencyFactor(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || !(n === 0 || n > 1)) {
    throw new InvalidArgumentError(
      `--step-latency-factor must be 0 (off) or a number above 1, got ${value}`,
    );
  }
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`--port must be an integer in [0, 65535], got ${value}`);
  }
  return n;
}

function nonNegativeInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new InvalidArgumentError(`${flag} must be an integer >= 0, got ${value}`);
    }
    return n;
  };
}

function integer(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n))
      throw new InvalidArgumentError(`${flag} must be an integer, got ${value}`);
    return n;
  };
}

/** --override-generation-config's JSON object, as a usage error when it does not parse. */
function generationConfigOverride(value: string): GenerationConfigOverride {
  try {
    return parseGenerationConfigOverride(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** vLLM's JSON-list flags (`--allowed-origins '["https://a.example"]'`). */
function jsonStringList(flag: string): (value: string) => string[] {
  return (value) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = null;
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
      throw new InvalidArgumentError(
        `${flag} must be a JSON list of strings like '["*"]', got ${value}`,
      );
    }
    return parsed;
  };
}

/** Adds serve's options, in vLLM's help groups, to a command. */
export function addServeOptions(command: Command): Command {
  const group = (title: string, options: Option[]): void => {
    for (const option of options) command.addOption(option.helpGroup(title));
  };
  group('Frontend:', [
    new Option('--host <host>', 'host name to listen on').default('0.0.0.0'),
    new Option('--port <port>', 'port to listen on').default(8000).argParser(port),
    new Option(
      '--api-key <key>',
      'require this key as a Bearer token on /v1 routes (repeatable; env SERVELLM_API_KEY or VLLM_API_KEY)',
    ).argParser(collect),
    new Option(
      '--chat-template <template>',
      "chat template: a file path or an inline Jinja template (default: the model's own)",
    ),
    new Option(
      '--trust-request-chat-template',
      'render chat requests with the template they bring (chat_template); without it they get 400',
    ),
    new Option(
      '--response-role <role>',
      'the role name returned when add_generation_prompt is true',
    ).default('assistant'),
    new Option(
      '--enable-auto-tool-choice',
      'tool_choice "auto": extract tool calls from the output (needs --tool-call-parser)',
    ),
    new Option(
      '--tool-call-parser <name>',
      `the tool-call format of the model's output (${TOOL_CALL_PARSER_NAMES.join(', ')}); needed for tool_choice "auto", "required" and named`,
    ).argParser(toolCallParserName),
    new Option(
      '--exclude-tools-when-tool-choice-none',
      'do not render tools into the prompt of a request with tool_choice "none"',
    ),
    new Option(
      '--return-tokens-as-token-ids',
      'name logprobs tokens "token_id:<id>" (a request may still choose with return_tokens_as_token_ids)',
    ),
    new Option('--uvicorn-log-level <level>', 'log level').choices(LOG_LEVELS).default('info'),
    new Option('--log-level <level>', 'alias of --uvicorn-log-level').choices(LOG_LEVELS),
    new Option('--disable-log-requests', 'do not log each request'),
    new Option(
      '--disable-log-stats',
      'do not log engine stats (every 10 s, or env VLLM_LOG_STATS_INTERVAL seconds)',
    ),
    new Option('--allowed-origins <json>', 'CORS: allowed origins, a JSON list')
      .default(['*'], '["*"]')
      .argParser(jsonStringList('--allowed-origins')),
    new Option('--allowed-methods <json>', 'CORS: allowed methods, a JSON list')
      .default(['*'], '["*"]')
      .argParser(jsonStringList('--allowed-methods')),
    new Option('--allowed-headers <json>', 'CORS: allowed headers, a JSON list')
      .default(['*'], '["*"]')
      .argParser(jsonStringList('--allowed-headers')),
    new Option('--allow-credentials', 'CORS: allow credentials'),
    new Option(
      '--root-path <path>',
      'path prefix of a proxy in front (requests under it are served as without it)',
    ),
    new Option(
      '--enable-request-id-headers',
      "add X-Request-Id to every response (the request's own, else a fresh one)",
    ),
    new Option('--disable-fastapi-docs', 'do not serve /openapi.json, /docs and /redoc'),
    new Option('--enable-server-load-tracking', 'count generation requests in flight in GET /load'),
    new Option(
      '--max-log-len <n>',
      'most prompt token ids printed in each request log line (default: all)',
    ).argParser(atLeastMinusOne('--max-log-len')),
    new Option(
      '--shutdown-timeout <seconds>',
      'on SIGTERM/SIGINT, let requests in flight finish for this long (new ones get 503); 0 aborts them at once',
    )
      .default(0)
      .argParser(nonNegativeInteger('--shutdown-timeout')),
    new Option(
      '--enable-force-include-usage',
      'every stream reports usage on every chunk (as if stream_options asked for it)',
    ),
    new Option(
      '--max-request-body <bytes>',
      'largest request body in bytes; a larger one answers 413',
    )
      .default(DEFAULT_BODY_LIMIT)
      .argParser(positiveInteger('--max-request-body')),
    new Option(
      '--timeout-keep-alive <seconds>',
      'close a keep-alive connection idle for this long (Node closes about 1 s later)',
    )
      .default(DEFAULT_CONNECTION_TIMEOUTS.keepAliveS)
      .argParser(positiveSeconds('--timeout-keep-alive')),
    new Option(
      '--timeout-request-headers <seconds>',
      "a request's headers must arrive within this long, else 408 and the connection closes",
    )
      .default(DEFAULT_CONNECTION_TIMEOUTS.headersS)
      .argParser(positiveSeconds('--timeout-request-headers')),
    new Option(
      '--timeout-request-body <seconds>',
      'a whole request (headers and body) must arrive within this long, else 408; responses are not limited',
    )
      .default(DEFAULT_CONNECTION_TIMEOUTS.requestS)
      .argParser(positiveSeconds('--timeout-request-body')),
    new Option(
      '--max-stream-buffer <bytes>',
      'most unsent bytes a stream may hold for a client that is not reading; past it the request is aborted and the connection closed',
    )
      .default(DEFAULT_MAX_STREAM_BUFFER)
      .argParser(positiveInteger('--max-stream-buffer')),
    new Option('--ssl-keyfile <file>', 'HTTPS: the private key (PEM)'),
    new Option('--ssl-certfile <file>', 'HTTPS: the certificate (PEM)'),
    new Option('--ssl-ca-certs <file>', 'HTTPS: CA certificates trusted for client certificates'),
    new Option(
      '--ssl-cert-reqs <n>',
      'HTTPS client certificates: 0 not asked, 1 optional, 2 required',
    )
      .choices(['0', '1', '2'])
      .default('0'),
  ]);
  group('Model:', [
    new Option('--model <path>', 'GGUF model file (same as the positional MODEL)'),
    new Option(
      '--served-model-name <name...>',
      'names the API accepts as "model"; responses use the first',
    ),
    new Option(
      '--max-model-len <length>',
      `longest prompt + output per request, e.g. 4096 or 4k (default: the model's context, at most ${DEFAULT_MAX_MODEL_LEN_CAP})`,
    ).argParser(modelLength),
    new Option(
      '--dtype <dtype>',
      'accepted for vLLM compatibility; GGUF weights keep the types stored in the file',
    ).default('auto'),
    new Option(
      '--max-logprobs <n>',
      'most logprobs (and prompt logprobs) a request may ask for; -1 = the whole vocabulary',
    )
      .default(20)
      .argParser(atLeastMinusOne('--max-logprobs')),
    new Option('--seed <seed>', 'engine seed for requests that give none')
      .default(0)
      .argParser(integer('--seed')),
    new Option(
      '--generation-config <config>',
      "request sampling defaults: auto (the model's GGUF general.sampling.* keys), vllm (none) or a folder holding generation_config.json",
    ).default('auto'),
    new Option(
      '--override-generation-config <json>',
      'JSON merged over the generation config, e.g. \'{"temperature": 0.5}\'; its max_new_tokens caps every max_tokens',
    )
      .default(NO_GENERATION_CONFIG_OVERRIDE, '{}')
      .argParser(generationConfigOverride),
  ]);
  group('Scheduler:', [
    new Option('--max-num-seqs <n>', 'most sequences decoded together; the rest wait')
      .default(8)
      .argParser(positiveInteger('--max-num-seqs')),
    new Option(
      '--scheduling-policy <policy>',
      'fcfs: arrival order; priority: lower request `priority` first (then arrival)',
    )
      .choices(['fcfs', 'priority'])
      .default('fcfs'),
    new Option('--max-num-batched-tokens <n>', 'most tokens in one decode step')
      .default(2048)
      .argParser(positiveInteger('--max-num-batched-tokens')),
    new Option(
      '--step-latency-factor <x>',
      'while requests decode, a step with prompt tokens takes at most about x times a decode-only step (0 = off)',
    )
      .default(DEFAULT_STEP_LATENCY_FACTOR)
      .argParser(latencyFactor),
    new Option(
      '--max-waiting-requests <n>',
      'with --max-num-seqs running, at most this many wait; more answer 503 with Retry-After (n counts as n)',
    )
      .default(DEFAULT_MAX_WAITING_REQUESTS)
      .argParser(positiveInteger('--max-waiting-requests')),
  ]);
  group('Cache:', [
    new Option('--block-size <n>', 'tokens per KV block (the unit of prefix caching)')
      .choices(['1', '8', '16', '32', '64', '128'])
      .default('16'),
    new Option(
      '--enable-prefix-caching',
      'reuse the KV of cached prompt prefixes (the default)',
    ).default(true),
    new Option('--no-enable-prefix-caching', 'compute every prompt in full'),
    new Option(
      '--enable-prompt-tokens-details',
      'report usage.prompt_tokens_details.cached_tokens',
    ),
    new Option(
      '--kv-cache-layout <layout>',
      'per-sequence: one KV stream of --max-model-len cells per sequence (fastest decode); unified: one shared pool with preemption',
    )
      .choices(['per-sequence', 'unified'])
      .default('per-sequence'),
    new Option(
      '--num-gpu-blocks-override <n>',
      'unified layout: the KV pool in blocks (default: max-num-seqs x max-model-len cells)',
    ).argParser(positiveInteger('--num-gpu-blocks-override')),
  ]);
  group('Kernels:', [
    new Option('--device <device>', 'kernel build')
      .choices(['auto', 'cpu', 'cuda', 'vulkan'])
      .default('auto'),
    new Option('--threads <n>', 'decode threads (default: physical cores)').argParser(
      positiveInteger('--threads'),
    ),
  ]);
  return command;
}

interface RawOptions {
  host: string;
  port: number;
  apiKey?: string[];
  chatTemplate?: string;
  trustRequestChatTemplate?: boolean;
  responseRole: string;
  enableAutoToolChoice?: boolean;
  toolCallParser?: string;
  excludeToolsWhenToolChoiceNone?: boolean;
  returnTokensAsTokenIds?: boolean;
  maxLogprobs: number;
  uvicornLogLevel: LogLevel;
  logLevel?: LogLevel;
  disableLogRequests?: boolean;
  disableLogStats?: boolean;
  shutdownTimeout: number;
  model?: string;
  servedModelName?: string[];
  maxModelLen?: number;
  dtype: string;
  seed: number;
  generationConfig: string;
  overrideGenerationConfig: GenerationConfigOverride;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  schedulingPolicy: 'fcfs' | 'priority';
  device: DeviceChoice;
  threads?: number;
  stepLatencyFactor: number;
  maxWaitingRequests: number;
  blockSize: string;
  enablePrefixCaching: boolean;
  enablePromptTokensDetails?: boolean;
  kvCacheLayout: KvCacheLayout;
  numGpuBlocksOverride?: number;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  allowCredentials?: boolean;
  rootPath?: string;
  enableRequestIdHeaders?: boolean;
  disableFastapiDocs?: boolean;
  enableServerLoadTracking?: boolean;
  enableForceIncludeUsage?: boolean;
  maxLogLen?: number;
  maxRequestBody: number;
  timeoutKeepAlive: number;
  timeoutRequestHeaders: number;
  timeoutRequestBody: number;
  maxStreamBuffer: number;
  sslKeyfile?: string;
  sslCertfile?: string;
  sslCaCerts?: string;
  sslCertReqs: string;
}

/** Turn commander's parsed values (and the environment) into ServeOptions. */
export function toServeOptions(
  positionalModel: string | undefined,
  raw: RawOptions,
  env: NodeJS.ProcessEnv,
): ServeOptions {
  if (positionalModel !== undefined && raw.model !== undefined && positionalModel !== raw.model) {
    throw new InvalidArgumentError(
      `the positional MODEL (${positionalModel}) and --model (${raw.model}) disagree`,
    );
  }
  const envKey = env['SERVELLM_API_KEY'] ?? env['VLLM_API_KEY'];
  const interval = env['SERVELLM_LOG_STATS_INTERVAL'] ?? env['VLLM_LOG_STATS_INTERVAL'] ?? '10';
  const logStatsIntervalS = Number(interval);
  if (!(logStatsIntervalS > 0) || !Number.isFinite(logStatsIntervalS)) {
    throw new InvalidArgumentError(
      `VLLM_LOG_STATS_INTERVAL must be a number of seconds > 0, got ${interval}`,
    );
  }
  if (raw.enableAutoToolChoice === true && raw.toolCallParser === undefined) {
    throw new InvalidArgumentError('Error: --enable-auto-tool-choice requires --tool-call-parser');
  }
  if ((raw.sslKeyfile === undefined) !== (raw.sslCertfile === undefined)) {
    throw new InvalidArgumentError('--ssl-keyfile and --ssl-certfile go together');
  }
  if (raw.timeoutRequestHeaders > raw.timeoutRequestBody) {
    throw new InvalidArgumentError(
      '--timeout-request-headers must not exceed --timeout-request-body (the body timeout counts the headers too)',
    );
  }
  const apiKeys = raw.apiKey ?? (envKey !== undefined && envKey !== '' ? [envKey] : []);
  const maxN = env['VLLM_MAX_N_SEQUENCES'] ?? String(DEFAULT_MAX_N_SEQUENCES);
  const maxNSequences = Number(maxN);
  if (!Number.isInteger(maxNSequences) || maxNSequences < 1) {
    throw new InvalidArgumentError(`VLLM_MAX_N_SEQUENCES must be a positive integer, got ${maxN}`);
  }
  return {
    model: positionalModel ?? raw.model ?? null,
    host: raw.host,
    port: raw.port,
    apiKeys,
    servedModelNames: raw.servedModelName ?? [],
    chatTemplate: raw.chatTemplate ?? null,
    trustRequestChatTemplate: raw.trustRequestChatTemplate ?? false,
    responseRole: raw.responseRole,
    enableAutoToolChoice: raw.enableAutoToolChoice ?? false,
    toolCallParser: raw.toolCallParser ?? null,
    excludeToolsWhenToolChoiceNone: raw.excludeToolsWhenToolChoiceNone ?? false,
    maxLogprobs: raw.maxLogprobs,
    returnTokensAsTokenIds: raw.returnTokensAsTokenIds ?? false,
    maxNSequences,
    maxModelLen: raw.maxModelLen ?? null,
    maxNumSeqs: raw.maxNumSeqs,
    maxNumBatchedTokens: raw.maxNumBatchedTokens,
    schedulingPolicy: raw.schedulingPolicy,
    seed: raw.seed,
    generationConfig: raw.generationConfig,
    overrideGenerationConfig: raw.overrideGenerationConfig,
    dtype: raw.dtype,
    logLevel: raw.logLevel ?? raw.uvicornLogLevel,
    disableLogRequests: raw.disableLogRequests ?? false,
    logStatsIntervalS: raw.disableLogStats === true ? null : logStatsIntervalS,
    shutdownTimeoutS: raw.shutdownTimeout,
    threads: raw.threads ?? null,
    device: raw.device,
    stepLatencyFactor: raw.stepLatencyFactor,
    maxWaitingRequests: raw.maxWaitingRequests,
    blockSize: Number(raw.blockSize),
    enablePrefixCaching: raw.enablePrefixCaching,
    enablePromptTokensDetails: raw.enablePromptTokensDetails ?? false,
    kvCacheLayout: raw.kvCacheLayout,
    numGpuBlocksOverride: raw.numGpuBlocksOverride ?? null,
    allowedOrigins: raw.allowedOrigins,
    allowedMethods: raw.allowedMethods,
    allowedHeaders: raw.allowedHeaders,
    allowCredentials: raw.allowCredentials ?? false,
    rootPath: raw.rootPath ?? null,
    enableRequestIdHeaders: raw.enableRequestIdHeaders ?? false,
    disableFastapiDocs: raw.disableFastapiDocs ?? false,
    enableServerLoadTracking: raw.enableServerLoadTracking ?? false,
    enableForceIncludeUsage: raw.enableForceIncludeUsage ?? false,
    maxLogLen: raw.maxLogLen === undefined || raw.maxLogLen < 0 ? null : raw.maxLogLen,
    maxRequestBody: raw.maxRequestBody,
    timeoutKeepAliveS: raw.timeoutKeepAlive,
    timeoutRequestHeadersS: raw.timeoutRequestHeaders,
    timeoutRequestBodyS: raw.timeoutRequestBody,
    maxStreamBuffer: raw.maxStreamBuffer,
    sslKeyfile: raw.sslKeyfile ?? null,
    sslCertfile: raw.sslCertfile ?? null,
    sslCaCerts: raw.sslCaCerts ?? null,
    sslCertReqs: Number(raw.sslCertReqs) as 0 | 1 | 2,
  };
}

/** The commander program: `servellm serve [MODEL] [options]`, and `servellm --model M` alone. */
export function buildProgram(onServe: (options: ServeOptions) => Promise<void>): Command {
  const program = new Command('servellm')
    .description("An OpenAI-compatible LLM server: vLLM's API over llama.cpp kernels")
    .showHelpAfterError();
  const serve = addServeOptions(
    program
      .command('serve', { isDefault: true })
      .description(
        'serve a GGUF model over the OpenAI API (the built-in demo model when none is given)',
      )
      .argument('[MODEL]', 'GGUF model file'),
  );
  serve.action(async (model: string | undefined, raw: RawOptions) => {
    await onServe(toServeOptions(model, raw, process.env));
  });
  return program;
}
