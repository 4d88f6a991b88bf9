/**
 * Renders benchmark metrics: the console block modelled on vLLM's "Serving Benchmark Result"
 * and the `--result-file` JSON with vLLM's key names (`mean_ttft_ms`, `p99_itl_ms`, ...).
 *
 * Owns: presentation only; no arithmetic beyond unit-free formatting.
 */
import type { BenchmarkMetrics, LatencyStats } from './metrics.ts';

/** What the run was, printed in the header and saved in the JSON. */
export interface RunDescription {
  readonly baseUrl: string;
  readonly endpoint: string;
  readonly model: string;
  readonly datasetName: string;
  readonly numPrompts: number;
  /** Infinity = all at once. */
  readonly requestRate: number;
  readonly burstiness: number;
  /** null = unbounded. */
  readonly maxConcurrency: number | null;
}

const WIDTH = 50;

function line(label: string, value: string | number): string {
  const text =
    typeof value === 'number'
      ? Number.isInteger(value)
        ? String(value)
        : value.toFixed(2)
      : value;
  return `${label.padEnd(WIDTH - 10)}${text.padStart(10)}`;
}

function heading(title: string, fill: string): string {
  const side = Math.max(0, WIDTH - title.length - 2);
  const left = Math.floor(side / 2);
  return `${fill.repeat(left)} ${title} ${fill.repeat(side - left)}`;
}

const SECTIONS: readonly [
  keyof Pick<BenchmarkMetrics, 'ttft' | 'tpot' | 'itl' | 'e2el'>,
  string,
  string,
][] = [
  ['ttft', 'Time to First Token', 'TTFT'],
  ['tpot', 'Time per Output Token (excl. 1st token)', 'TPOT'],
  ['itl', 'Inter-token Latency', 'ITL'],
  ['e2el', 'End-to-end Latency', 'E2EL'],
];

/** The console report. */
export function formatReport(metrics: BenchmarkMetrics, run: RunDescription): string {
  const rows = [
    heading('Serving Benchmark Result', '='),
    line('Successful requests:', metrics.completed),
    line('Failed requests:', metrics.failed),
    ...(run.maxConcurrency !== null
      ? [line('Maximum request concurrency:', run.maxConcurrency)]
      : []),
    line('Request rate configured (RPS):', run.requestRate === Infinity ? 'inf' : run.requestRate),
    line('Benchmark duration (s):', metrics.durationS),
    line('Total input tokens:', metrics.totalInputTokens),
    line('Total generated tokens:', metrics.totalOutputTokens),
    line('Request throughput (req/s):', metrics.requestThroughput),
    line('Output token throughput (tok/s):', metrics.outputThroughput),
    line('Total token throughput (tok/s):', metrics.totalTokenThroughput),
  ];
  for (const [key, title, short] of SECTIONS) {
    const stats: LatencyStats = metrics[key];
    rows.push(heading(title, '-'));
    rows.push(line(`Mean ${short} (ms):`, stats.mean));
    rows.push(line(`Median ${short} (ms):`, stats.median));
    for (const [p, value] of stats.percentiles) rows.push(line(`P${p} ${short} (ms):`, value));
  }
  rows.push('='.repeat(WIDTH));
  for (const [error, count] of metrics.errors) rows.push(`failed x${count}: ${error}`);
  return rows.join('\n');
}

/** The JSON saved by --result-file, with vLLM's key names. */
export function resultJson(
  metrics: BenchmarkMetrics,
  run: RunDescription,
  date: Date,
): Record<string, unknown> {
  const json: Record<string, unknown> = {
    date: date.toISOString(),
    backend: run.endpoint === '/v1/completions' ? 'openai' : 'openai-chat',
    base_url: run.baseUrl,
    endpoint: run.endpoint,
    model_id: run.model,
    dataset_name: run.datasetName,
    num_prompts: run.numPrompts,
    request_rate: run.requestRate === Infinity ? 'inf' : run.requestRate,
    burstiness: run.burstiness,
    max_concurrency: run.maxConcurrency,
    duration: metrics.durationS,
    completed: metrics.completed,
    failed: metrics.failed,
    total_input_tokens: metrics.totalInputTokens,
    total_output_tokens: metrics.totalOutputTokens,
    request_throughput: metrics.requestThroughput,
    output_throughput: metrics.outputThroughput,
    total_token_throughput: metrics.totalTokenThroughput,
  };
  for (const [key] of SECTIONS) {
    const stats = metrics[key];
    json[`mean_${key}_ms`] = stats.mean;
    json[`median_${key}_ms`] = stats.median;
    json[`std_${key}_ms`] = stats.std;
    for (const [p, value] of stats.percentiles) json[`p${p}_${key}_ms`] = value;
  }
  json['errors'] = Object.fromEntries(metrics.errors);
  return json;
}
