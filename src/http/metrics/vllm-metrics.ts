/**
 * vLLM's Prometheus metrics (the V1 engine's names, types, buckets and labels) over prom-client.
 *
 * Owns: the registry behind `GET /metrics`: the `vllm:*` series with labels `model_name` (the
 * first served name) and `engine` ("0"), servellm's `servellm:request_rejected_total` (admission
 * control's 503s) with the same labels, Node's process metrics, and the sink the engine reports
 * to (see src/engine/request-clock.ts). Gauges and the prefix-cache and preemption counters are
 * read from the engine's stats when scraped; the rest are counted as the engine reports.
 * Counters are named with their `_total` suffix, as vLLM exposes them.
 */
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';
import type { EngineStats } from '../../engine/engine-types.ts';
import type {
  EngineMetricsSink,
  FinishedRequestReport,
  StepReport,
} from '../../engine/request-clock.ts';

/** What the metrics describe: the names, the limits and the KV cache configuration. */
export interface MetricsOptions {
  /** The first served model name (the `model_name` label). */
  readonly modelName: string;
  readonly maxModelLen: number;
  /** The engine's counts at scrape time. */
  readonly stats: () => EngineStats;
  /** The labels of `vllm:cache_config_info` (values as vLLM prints them), read when scraped. */
  readonly cacheConfig: () => Readonly<Record<CacheConfigLabel, string>>;
  /** Also collect Node's process metrics (default true; off in tests that build many). */
  readonly processMetrics?: boolean;
}

const LABELS = ['model_name', 'engine'] as const;
type Label = (typeof LABELS)[number];

/** The cache configuration `vllm:cache_config_info` carries (a subset of vLLM's CacheConfig). */
export const CACHE_CONFIG_LABELS = [
  'block_size',
  'cache_dtype',
  'enable_prefix_caching',
  'num_gpu_blocks',
  'num_gpu_blocks_override',
  'kv_cache_layout',
] as const;
export type CacheConfigLabel = (typeof CACHE_CONFIG_LABELS)[number];

/** vLLM's buckets (vllm/v1/metrics/loggers.py). */
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0, 160.0, 640.0, 2560.0,
];
export const ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0,
];
export const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
  480.0, 960.0, 1920.0, 7680.0,
];
export const ITERATION_TOKEN_BUCKETS = [
  1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
];
export const PARAMS_N_BUCKETS = [1, 2, 5, 10, 20];

/** 1, 2, 5, 10, 20, 50, ... up to `max` (vLLM's build_1_2_5_buckets). */
export function oneTwoFiveBuckets(max: number): number[] {
  const buckets: number[] = [];
  for (let exponent = 0; ; exponent++) {
    for (const mantissa of [1, 2, 5]) {
      const value = mantissa * 10 ** exponent;
      if (value > max) return buckets;
      buckets.push(value);
    }
  }
}

/** The registry and the sink of one server. */
export class VllmMetrics implements EngineMetricsSink {
  readonly registry = new Registry();
  // The one labelled series of each metric the engine reports to, bound once: the engine calls
  // several of these per step, and binding skips prom-client's label lookup on every call.
  readonly #promptTokens: Counter.Internal;
  readonly #promptTokensComputed: Counter.Internal;
  readonly #promptTokensCacheHit: Counter.Internal;
  readonly #promptTokensCached: Counter.Internal;
  readonly #generationTokens: Counter.Internal;
  readonly #requestSuccess: ReadonlyMap<string, Counter.Internal>;
  readonly #requestRejected: Counter.Internal;
  readonly #iterationTokens: Histogram.Internal<Label>;
  readonly #timeToFirstToken: Histogram.Internal<Label>;
  readonly #interTokenLatency: Histogram.Internal<Label>;
  readonly #finishedHistograms: readonly {
    readonly histogram: Histogram.Internal<Label>;
    readonly value: (report: FinishedRequestReport) => number | null;
  }[];

  constructor(options: MetricsOptions) {
    const labels: Record<Label, string> = { model_name: options.modelName, engine: '0' };
    const registers = [this.registry];
    const gauge = (
      name: string,
      help: string,
      read: (stats: EngineStats) => number,
    ): Gauge<Label> =>
      new Gauge({
        name,
        help,
        labelNames: LABELS,
        registers,
        collect() {
          this.set(labels, read(options.stats()));
        },
      } satisfies GaugeConfiguration<Label>);
    // Engine totals read when scraped: a counter whose value is set from them.
    const totalFromStats = (
      name: string,
      help: string,
      read: (stats: EngineStats) => number,
    ): Counter<Label> =>
      new Counter({
        name,
        help,
        labelNames: LABELS,
        registers,
        collect() {
          this.reset();
          this.inc(labels, read(options.stats()));
        },
      } satisfies CounterConfiguration<Label>);
    // Each series is exposed from the start, at zero, as vLLM's labelled series are.
    const counter = (name: string, help: string): Counter.Internal => {
      const series = new Counter({ name, help, labelNames: LABELS, registers }).labels(labels);
      series.inc(0);
      return series;
    };
    const histogram = (
      name: string,
      help: string,
      buckets: number[],
    ): Histogram.Internal<Label> => {
      const created = new Histogram({
        name,
        help,
        labelNames: LABELS,
        buckets,
        registers,
      } satisfies HistogramConfiguration<Label>);
      created.zero(labels);
      return created.labels(labels);
    };

    gauge(
      'vllm:num_requests_running',
      'Number of requests in model execution batches.',
      (s) => s.running,
    );
    gauge(
      'vllm:num_requests_waiting',
      'Number of requests waiting to be processed.',
      (s) => s.waiting,
    );
    new Gauge({
      name: 'vllm:num_requests_waiting_by_reason',
      help: 'Number of requests waiting to be processed, by the reason they wait.',
      labelNames: [...LABELS, 'reason'],
      registers,
      collect() {
        // Every waiting request waits for room in the batch or the KV cache.
        this.set({ ...labels, reason: 'capacity' }, options.stats().waiting);
        this.set({ ...labels, reason: 'deferred' }, 0);
      },
    });
    gauge(
      'vllm:kv_cache_usage_perc',
      'KV-cache usage. 1 means 100 percent usage.',
      (s) => s.kvUsage,
    );
    const cacheConfig = options.cacheConfig;
    new Gauge({
      name: 'vllm:cache_config_info',
      help: 'Information of the LLMEngine CacheConfig',
      labelNames: [...LABELS, ...CACHE_CONFIG_LABELS],
      registers,
      collect() {
        this.reset();
        this.set({ ...labels, ...cacheConfig() }, 1);
      },
    });
    totalFromStats(
      'vllm:prefix_cache_queries_total',
      'Prefix cache queries, in terms of number of queried tokens.',
      (s) => s.prefixCacheQueries,
    );
    totalFromStats(
      'vllm:prefix_cache_hits_total',
      'Prefix cache hits, in terms of number of cached tokens.',
      (s) => s.prefixCacheHits,
    );
    totalFromStats(
      'vllm:num_preemptions_total',
      'Cumulative number of preemption from the engine.',
      (s) => s.preemptions,
    );
    this.#promptTokens = counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.');
    const bySource = new Counter({
      name: 'vllm:prompt_tokens_by_source_total',
      help: 'Number of prompt tokens by source.',
      labelNames: [...LABELS, 'source'],
      registers,
    });
    this.#promptTokensComputed = bySource.labels({ ...labels, source: 'local_compute' });
    this.#promptTokensCacheHit = bySource.labels({ ...labels, source: 'local_cache_hit' });
    this.#promptTokensComputed.inc(0);
    this.#promptTokensCacheHit.inc(0);
    this.#promptTokensCached = counter(
      'vllm:prompt_tokens_cached_total',
      'Number of cached prompt tokens (local prefix cache).',
    );
    this.#generationTokens = counter(
      'vllm:generation_tokens_total',
      'Number of generation tokens processed.',
    );
    const success = new Counter({
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: [...LABELS, 'finished_reason'],
      registers,
    });
    // servellm's own: admission control's refusals (--max-waiting-requests), answered 503.
    this.#requestRejected = counter(
      'servellm:request_rejected_total',
      'Requests refused with 503 because the engine held all it may (--max-waiting-requests).',
    );
    this.#requestSuccess = new Map(
      (['stop', 'length'] as const).map((reason) => {
        const series = success.labels({ ...labels, finished_reason: reason });
        series.inc(0);
        return [reason, series];
      }),
    );
    this.#iterationTokens = histogram(
      'vllm:iteration_tokens_total',
      'Histogram of number of tokens per engine_step.',
      ITERATION_TOKEN_BUCKETS,
    );
    this.#timeToFirstToken = histogram(
      'vllm:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      TTFT_BUCKETS,
    );
    this.#interTokenLatency = histogram(
      'vllm:inter_token_latency_seconds',
      'Histogram of inter-token latency in seconds.',
      ITL_BUCKETS,
    );
    const tokenBuckets = oneTwoFiveBuckets(options.maxModelLen);
    this.#finishedHistograms = [
      {
        histogram: histogram(
          'vllm:request_prompt_tokens',
          'Number of prefill tokens processed.',
          tokenBuckets,
        ),
        value: (r) => r.promptTokens,
      },
      {
        histogram: histogram(
          'vllm:request_generation_tokens',
          'Number of generation tokens processed.',
          tokenBuckets,
        ),
        value: (r) => r.generationTokens,
      },
      {
        histogram: histogram(
          'vllm:request_max_num_generation_tokens',
          'Histogram of maximum number of requested generation tokens.',
          tokenBuckets,
        ),
        value: (r) => r.maxTokens,
      },
      {
        histogram: histogram(
          'vllm:request_params_max_tokens',
          'Histogram of the max_tokens request parameter.',
          tokenBuckets,
        ),
        value: (r) => r.maxTokens,
      },
      {
        histogram: histogram(
          'vllm:request_params_n',
          'Histogram of the n request parameter.',
          PARAMS_N_BUCKETS,
        ),
        value: (r) => r.siblings,
      },
      {
        histogram: histogram(
          'vllm:e2e_request_latency_seconds',
          'Histogram of e2e request latency in seconds.',
          REQUEST_LATENCY_BUCKETS,
        ),
        value: (r) => r.e2eSeconds,
      },
      {
        histogram: histogram(
          'vllm:request_queue_time_seconds',
          'Histogram of time spent in WAITING phase for request.',
          REQUEST_LATENCY_BUCKETS,
        ),
        value: (r) => r.queueSeconds,
      },
      {
        histogram: histogram(
          'vllm:request_inference_time_seconds',
          'Histogram of time spent in RUNNING phase for request.',
          REQUEST_LATENCY_BUCKETS,
        ),
        value: (r) => r.inferenceSeconds,
      },
      {
        histogram: histogram(
          'vllm:request_prefill_time_seconds',
          'Histogram of time spent in PREFILL phase for request.',
          REQUEST_LATENCY_BUCKETS,
        ),
        value: (r) => r.prefillSeconds,
      },
      {
        histogram: histogram(
          'vllm:request_decode_time_seconds',
          'Histogram of time spent in DECODE phase for request.',
          REQUEST_LATENCY_BUCKETS,
        ),
        value: (r) => r.decodeSeconds,
      },
      {
        histogram: histogram(
          'vllm:request_time_per_output_token_seconds',
          'Histogram of time_per_output_token_seconds per request.',
          ITL_BUCKETS,
        ),
        value: (r) => r.timePerOutputTokenSeconds,
      },
    ];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition's Content-Type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole exposition text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  step(report: StepReport): void {
    if (report.promptTokens > 0) {
      const cached = report.cachedPromptTokens;
      this.#promptTokens.inc(report.promptTokens);
      this.#promptTokensCached.inc(cached);
      this.#promptTokensComputed.inc(report.promptTokens - cached);
      this.#promptTokensCacheHit.inc(cached);
    }
    if (report.generationTokens > 0) this.#generationTokens.inc(report.generationTokens);
    this.#iterationTokens.observe(report.promptTokens + report.generationTokens);
  }

  timeToFirstToken(seconds: number): void {
    this.#timeToFirstToken.observe(seconds);
  }

  interTokenLatency(seconds: number): void {
    this.#interTokenLatency.observe(seconds);
  }

  rejected(): void {
    this.#requestRejected.inc();
  }

  finished(report: FinishedRequestReport): void {
    this.#requestSuccess.get(report.finishReason)?.inc();
    for (const { histogram, value } of this.#finishedHistograms) {
      const observed = value(report);
      if (observed !== null) histogram.observe(observed);
    }
  }
}
