/**
 * `servellm bench serve`: load-test any OpenAI-compatible server with vLLM's `vllm bench serve`
 * flag names and report, so figures compare with vLLM's.
 *
 * Owns: the flags, their validation, building the workload, the progress line, and printing or
 * saving the report. The measuring itself is src/benchmark/'s.
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_TOKEN_ID_RANGE,
  loadJsonlDataset,
  randomDataset,
  type BenchRequest,
} from '../benchmark/dataset.ts';
import { formatReport, resultJson, type RunDescription } from '../benchmark/report.ts';
import type { BenchEndpoint } from '../benchmark/request-runner.ts';
import { runBenchmark, type BenchmarkProgress } from '../benchmark/run-benchmark.ts';

/** Parsed `bench serve` flags. */
export interface BenchServeOptions {
  readonly baseUrl: string;
  readonly endpoint: BenchEndpoint;
  /** null = the first id listed by /v1/models. */
  readonly model: string | null;
  readonly apiKey: string | null;
  readonly datasetName: 'random' | 'prefix' | 'jsonl';
  readonly datasetPath: string | null;
  readonly numPrompts: number;
  readonly randomInputLen: number;
  readonly randomOutputLen: number;
  readonly randomRangeRatio: number;
  readonly prefixLen: number;
  readonly tokenIdRange: readonly [number, number];
  readonly seed: number;
  readonly requestRate: number;
  readonly burstiness: number;
  readonly maxConcurrency: number | null;
  readonly numWarmups: number;
  readonly maxDurationS: number | null;
  readonly temperature: number;
  readonly ignoreEos: boolean;
  readonly extraBody: Readonly<Record<string, unknown>> | null;
  readonly percentiles: readonly number[];
  readonly resultFile: string | null;
  readonly progress: boolean;
}

function integerAtLeast(flag: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got ${value}`);
    }
    return n;
  };
}

function positiveNumber(flag: string, allowInf: boolean): (value: string) => number {
  return (value) => {
    const n = allowInf && value === 'inf' ? Infinity : Number(value);
    if (!(n > 0) || (!allowInf && !Number.isFinite(n)) || Number.isNaN(n)) {
      throw new InvalidArgumentError(
        `${flag} must be a number > 0${allowInf ? ' or inf' : ''}, got ${value}`,
      );
    }
    return n;
  };
}

function rangeRatio(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) {
    throw new InvalidArgumentError(`--random-range-ratio must be in [0, 1), got ${value}`);
  }
  return n;
}

function temperature(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 2)) {
    throw new InvalidArgumentError(`--temperature must be in [0, 2], got ${value}`);
  }
  return n;
}

function tokenRange(value: string): [number, number] {
  const match = /^(\d+):(\d+)$/.exec(value);
  const range: [number, number] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(range[0] <= range[1])) {
    throw new InvalidArgumentError(
      `--random-token-range must be MIN:MAX with MIN <= MAX, got ${value}`,
    );
  }
  return range;
}

function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`--extra-body must be a JSON object, got ${value}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`--extra-body must be a JSON object, got ${value}`);
  }
  return parsed as Record<string, unknown>;
}

function percentileList(value: string): number[] {
  const list = value.split(',').map((p) => Number(p.trim()));
  if (list.length === 0 || list.some((p) => !(p > 0 && p < 100))) {
    throw new InvalidArgumentError(
      `--metric-percentiles must be comma-separated numbers in (0, 100), got ${value}`,
    );
  }
  return list;
}

interface RawBenchOptions {
  baseUrl: string;
  endpoint: BenchEndpoint;
  model?: string;
  apiKey?: string;
  datasetName: 'random' | 'prefix' | 'jsonl';
  datasetPath?: string;
  numPrompts: number;
  randomInputLen: number;
  randomOutputLen: number;
  randomRangeRatio: number;
  prefixLen: number;
  randomTokenRange: [number, number];
  seed: number;
  requestRate: number;
  burstiness: number;
  maxConcurrency?: number;
  numWarmups: number;
  maxDuration?: number;
  temperature: number;
  ignoreEos: boolean;
  extraBody?: Record<string, unknown>;
  metricPercentiles: number[];
  resultFile?: string;
  progress?: boolean;
}

/** Turn commander's values (and the environment) into BenchServeOptions. */
export function toBenchServeOptions(
  raw: RawBenchOptions,
  env: NodeJS.ProcessEnv,
  stderrIsTty: boolean,
): BenchServeOptions {
  const datasetName = raw.datasetPath !== undefined ? 'jsonl' : raw.datasetName;
  if (datasetName === 'jsonl' && raw.datasetPath === undefined) {
    throw new InvalidArgumentError('--dataset-name jsonl needs --dataset-path');
  }
  if (datasetName === 'prefix' && raw.prefixLen === 0) {
    throw new InvalidArgumentError('--dataset-name prefix needs --prefix-len > 0');
  }
  const envKey = env['OPENAI_API_KEY'];
  return {
    baseUrl: raw.baseUrl,
    endpoint: raw.endpoint,
    model: raw.model ?? null,
    apiKey: raw.apiKey ?? (envKey !== undefined && envKey !== '' ? envKey : null),
    datasetName,
    datasetPath: raw.datasetPath ?? null,
    numPrompts: raw.numPrompts,
    randomInputLen: raw.randomInputLen,
    randomOutputLen: raw.randomOutputLen,
    randomRangeRatio: raw.randomRangeRatio,
    prefixLen: raw.prefixLen,
    tokenIdRange: raw.randomTokenRange,
    seed: raw.seed,
    requestRate: raw.requestRate,
    burstiness: raw.burstiness,
    maxConcurrency: raw.maxConcurrency ?? null,
    numWarmups: raw.numWarmups,
    maxDurationS: raw.maxDuration ?? null,
    temperature: raw.temperature,
    ignoreEos: raw.ignoreEos,
    extraBody: raw.extraBody ?? null,
    percentiles: raw.metricPercentiles,
    resultFile: raw.resultFile ?? null,
    progress: raw.progress ?? stderrIsTty,
  };
}

/** The workload the options describe. */
export async function buildWorkload(options: BenchServeOptions): Promise<BenchRequest[]> {
  if (options.datasetPath !== null) {
    return loadJsonlDataset(options.datasetPath, options.randomOutputLen, options.numPrompts);
  }
  return randomDataset({
    numPrompts: options.numPrompts,
    inputLen: options.randomInputLen,
    outputLen: options.randomOutputLen,
    rangeRatio: options.randomRangeRatio,
    prefixLen: options.prefixLen,
    seed: options.seed,
    promptKind: options.endpoint === '/v1/completions' ? 'tokens' : 'text',
    tokenIdRange: options.tokenIdRange,
  });
}

async function firstModel(baseUrl: string, apiKey: string | null): Promise<string> {
  const response = await fetch(`${baseUrl.replace(/\/+$/, '')}/v1/models`, {
    headers: apiKey !== null ? { authorization: `Bearer ${apiKey}` } : {},
  });
  if (!response.ok) throw new Error(`GET /v1/models: HTTP ${response.status}; pass --model`);
  const body = (await response.json()) as { data?: { id?: string }[] };
  const id = body.data?.[0]?.id;
  if (id === undefined) throw new Error('GET /v1/models listed no model; pass --model');
  return id;
}

function progressLine(p: BenchmarkProgress): void {
  process.stderr.write(
    `\rbench: ${p.finished}/${p.total} done, ${p.failed} failed, ${p.elapsedS.toFixed(1)} s`,
  );
}

/** Run `bench serve` with parsed options: print the report, save it if asked. */
export async function benchServe(options: BenchServeOptions): Promise<void> {
  const requests = await buildWorkload(options);
  const model = options.model ?? (await firstModel(options.baseUrl, options.apiKey));
  const run: RunDescription = {
    baseUrl: options.baseUrl,
    endpoint: options.endpoint,
    model,
    datasetName: options.datasetName,
    numPrompts: options.numPrompts,
    requestRate: options.requestRate,
    burstiness: options.burstiness,
    maxConcurrency: options.maxConcurrency,
  };
  const outcome = await runBenchmark({
    target: {
      baseUrl: options.baseUrl,
      endpoint: options.endpoint,
      model,
      apiKey: options.apiKey,
      temperature: options.temperature,
      ignoreEos: options.ignoreEos,
      extraBody: options.extraBody,
    },
    requests,
    requestRate: options.requestRate,
    burstiness: options.burstiness,
    seed: options.seed,
    maxConcurrency: options.maxConcurrency,
    numWarmups: options.numWarmups,
    maxDurationS: options.maxDurationS,
    percentiles: options.percentiles,
    ...(options.progress ? { onProgress: progressLine } : {}),
  });
  if (options.progress) process.stderr.write('\n');
  console.log(formatReport(outcome.metrics, run));
  if (outcome.unsent > 0) console.log(`${outcome.unsent} requests not sent: --max-duration passed`);
  if (options.resultFile !== null) {
    const json = { ...resultJson(outcome.metrics, run, new Date()), unsent: outcome.unsent };
    await writeFile(options.resultFile, `${JSON.stringify(json, null, 2)}\n`);
  }
}

/** The `bench` command with its `serve` subcommand; `onServe` receives the parsed options. */
export function buildBenchCommand(
  onServe: (options: BenchServeOptions) => Promise<void> = benchServe,
): Command {
  const bench = new Command('bench').description("benchmark tools (as vLLM's `vllm bench`)");
  const serve = bench
    .command('serve')
    .description('load-test an OpenAI-compatible server with streaming requests');
  const options: Option[] = [
    new Option('--base-url <url>', 'server address, without /v1').default('http://127.0.0.1:8000'),
    new Option('--endpoint <path>', 'API route to drive')
      .choices(['/v1/completions', '/v1/chat/completions'])
      .default('/v1/completions'),
    new Option('--model <name>', 'model name to send (default: the first of /v1/models)'),
    new Option('--api-key <key>', 'Bearer key (env OPENAI_API_KEY)'),
    new Option('--dataset-name <name>', 'workload')
      .choices(['random', 'prefix', 'jsonl'])
      .default('random'),
    new Option(
      '--dataset-path <file>',
      'JSONL workload: {"prompt": "...", "output_len"?: n} per line',
    ),
    new Option('--num-prompts <n>', 'measured requests')
      .default(1000)
      .argParser(integerAtLeast('--num-prompts', 1)),
    new Option('--random-input-len <n>', 'prompt tokens (words for chat) after the prefix')
      .default(1024)
      .argParser(integerAtLeast('--random-input-len', 1)),
    new Option('--random-output-len <n>', 'max_tokens per request (also the JSONL default)')
      .default(128)
      .argParser(integerAtLeast('--random-output-len', 1)),
    new Option('--random-range-ratio <r>', 'lengths drawn uniformly from [L(1-r), L(1+r)]')
      .default(0)
      .argParser(rangeRatio),
    new Option('--prefix-len <n>', 'tokens (words for chat) shared by every prompt')
      .default(0)
      .argParser(integerAtLeast('--prefix-len', 0)),
    new Option('--random-token-range <min:max>', 'token ids of random /v1/completions prompts')
      .default([...DEFAULT_TOKEN_ID_RANGE], DEFAULT_TOKEN_ID_RANGE.join(':'))
      .argParser(tokenRange),
    new Option('--seed <n>', 'seeds the workload and the arrival gaps')
      .default(0)
      .argParser(integerAtLeast('--seed', 0)),
    new Option('--request-rate <rps>', 'mean requests per second, or inf for all at once')
      .default(Infinity, 'inf')
      .argParser(positiveNumber('--request-rate', true)),
    new Option('--burstiness <k>', 'gamma shape of arrival gaps: 1 Poisson, <1 burstier')
      .default(1)
      .argParser(positiveNumber('--burstiness', false)),
    new Option('--max-concurrency <n>', 'most requests in flight').argParser(
      integerAtLeast('--max-concurrency', 1),
    ),
    new Option('--num-warmups <n>', 'unmeasured requests sent first')
      .default(0)
      .argParser(integerAtLeast('--num-warmups', 0)),
    new Option(
      '--max-duration <s>',
      'stop sending and abort in-flight requests after this many seconds',
    ).argParser(positiveNumber('--max-duration', false)),
    new Option('--temperature <t>', 'sampling temperature').default(0).argParser(temperature),
    new Option('--no-ignore-eos', 'let requests stop at EOS (default sends ignore_eos: true)'),
    new Option(
      '--extra-body <json>',
      'JSON object merged into every request body, e.g. \'{"logit_bias": {"50256": -100}}\'',
    ).argParser(jsonObject),
    new Option('--metric-percentiles <list>', 'percentiles to report, e.g. 50,90,99')
      .default([99], '99')
      .argParser(percentileList),
    new Option('--result-file <file>', 'save the results as JSON'),
    new Option('--progress', 'show a progress line on stderr (default: when stderr is a TTY)'),
  ];
  for (const option of options) serve.addOption(option);
  serve.action(async (raw: RawBenchOptions) => {
    await onServe(toBenchServeOptions(raw, process.env, process.stderr.isTTY));
  });
  return bench;
}
