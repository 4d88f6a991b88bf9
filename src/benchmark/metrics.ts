/**
 * Aggregates per-request results into vLLM's serving benchmark figures: counts, throughputs,
 * and mean / median / std / percentiles of TTFT, TPOT, ITL and E2EL in milliseconds.
 *
 * Owns: the arithmetic only. Percentiles interpolate linearly between closest ranks, as NumPy's
 * default `np.percentile`, so figures compare with `vllm bench serve`.
 */
import type { RequestResult } from './request-runner.ts';

/** Summary statistics of one latency metric, in milliseconds (all 0 when there are no samples). */
export interface LatencyStats {
  readonly mean: number;
  readonly median: number;
  readonly std: number;
  /** Keyed by the requested percentile, e.g. 99. */
  readonly percentiles: ReadonlyMap<number, number>;
}

/** Everything the report shows. */
export interface BenchmarkMetrics {
  readonly completed: number;
  readonly failed: number;
  readonly durationS: number;
  readonly totalInputTokens: number;
  readonly totalOutputTokens: number;
  readonly requestThroughput: number;
  readonly outputThroughput: number;
  readonly totalTokenThroughput: number;
  readonly ttft: LatencyStats;
  readonly tpot: LatencyStats;
  readonly itl: LatencyStats;
  readonly e2el: LatencyStats;
  /** Failure reasons with how often each occurred. */
  readonly errors: ReadonlyMap<string, number>;
}

/** The p-th percentile (0..100) of `values`, linear interpolation (NumPy's default); 0 if empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** Mean, median, population std (NumPy's `np.std`) and the given percentiles of `values`. */
export function latencyStats(
  values: readonly number[],
  percentiles: readonly number[],
): LatencyStats {
  const n = values.length;
  const mean = n === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / n;
  const variance = n === 0 ? 0 : values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / n;
  return {
    mean,
    median: percentile(values, 50),
    std: Math.sqrt(variance),
    percentiles: new Map(percentiles.map((p) => [p, percentile(values, p)])),
  };
}

/** Aggregate the benchmark's results; `durationS` is the wall time of the measured phase. */
export function computeMetrics(
  results: readonly RequestResult[],
  durationS: number,
  percentiles: readonly number[],
): BenchmarkMetrics {
  const ok = results.filter((r) => r.success);
  const errors = new Map<string, number>();
  for (const r of results) if (!r.success) errors.set(r.error, (errors.get(r.error) ?? 0) + 1);
  const totalInputTokens = ok.reduce((sum, r) => sum + (r.promptTokens ?? 0), 0);
  const totalOutputTokens = ok.reduce((sum, r) => sum + r.outputTokens, 0);
  const per = (count: number): number => (durationS > 0 ? count / durationS : 0);
  return {
    completed: ok.length,
    failed: results.length - ok.length,
    durationS,
    totalInputTokens,
    totalOutputTokens,
    requestThroughput: per(ok.length),
    outputThroughput: per(totalOutputTokens),
    totalTokenThroughput: per(totalInputTokens + totalOutputTokens),
    ttft: latencyStats(
      ok.map((r) => r.ttftMs),
      percentiles,
    ),
    tpot: latencyStats(
      ok
        .filter((r) => r.outputTokens > 1)
        .map((r) => (r.latencyMs - r.ttftMs) / (r.outputTokens - 1)),
      percentiles,
    ),
    itl: latencyStats(
      ok.flatMap((r) => r.itlMs),
      percentiles,
    ),
    e2el: latencyStats(
      ok.map((r) => r.latencyMs),
      percentiles,
    ),
    errors,
  };
}
