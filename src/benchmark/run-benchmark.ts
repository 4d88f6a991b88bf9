/**
 * Runs a whole benchmark, the library form of `servellm bench serve`: warm-up requests (not
 * measured), then each request sent at its scheduled arrival time, at most `maxConcurrency` in
 * flight, stopping early (sending nothing more and aborting what is in flight) after
 * `maxDurationS`.
 *
 * Owns: orchestration and timing of the measured phase. Generating the workload, sending one
 * request, aggregating and reporting are the other modules'.
 */
import { performance } from 'node:perf_hooks';
import { arrivalOffsets } from './arrival.ts';
import type { BenchRequest } from './dataset.ts';
import { computeMetrics, type BenchmarkMetrics } from './metrics.ts';
import { runRequest, type RequestResult, type TargetOptions } from './request-runner.ts';

/** A benchmark to run. */
export interface BenchmarkOptions {
  readonly target: TargetOptions;
  /** The measured workload, sent in order. */
  readonly requests: readonly BenchRequest[];
  /** Mean requests per second; Infinity = all at once. */
  readonly requestRate: number;
  /** Gamma shape of the gaps; 1 = Poisson. */
  readonly burstiness: number;
  /** Seeds the arrival schedule. */
  readonly seed: number;
  /** Most requests in flight; null = unbounded. */
  readonly maxConcurrency: number | null;
  /** Requests sent (from the workload's start) before measuring; a failed one aborts the run. */
  readonly numWarmups: number;
  /** Stop sending and abort in-flight requests after this many seconds; null = no bound. */
  readonly maxDurationS: number | null;
  /** Percentiles to report, e.g. [99]. */
  readonly percentiles: readonly number[];
  /** Called after each measured request ends. */
  readonly onProgress?: (progress: BenchmarkProgress) => void;
}

/** Where a running benchmark stands. */
export interface BenchmarkProgress {
  readonly finished: number;
  readonly failed: number;
  readonly total: number;
  readonly elapsedS: number;
}

/** A finished benchmark. */
export interface BenchmarkOutcome {
  readonly metrics: BenchmarkMetrics;
  /** One per request sent, in completion order. */
  readonly results: readonly RequestResult[];
  /** Requests never sent because --max-duration passed first. */
  readonly unsent: number;
}

/** A counting semaphore whose waiters are all released (with false) once stopped. */
class Slots {
  private free: number;
  private readonly waiters: ((acquired: boolean) => void)[] = [];

  constructor(count: number) {
    this.free = count;
  }

  acquire(): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next(true);
    else this.free++;
  }

  stop(): void {
    for (const waiter of this.waiters.splice(0)) waiter(false);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

async function warmUp(options: BenchmarkOptions): Promise<void> {
  if (options.numWarmups === 0 || options.requests.length === 0) return;
  const slots = new Slots(options.maxConcurrency ?? Infinity);
  const results = await Promise.all(
    Array.from({ length: options.numWarmups }, async (_, i) => {
      await slots.acquire();
      try {
        return await runRequest(options.target, options.requests[i % options.requests.length]!);
      } finally {
        slots.release();
      }
    }),
  );
  const failure = results.find((r) => !r.success);
  if (failure !== undefined) throw new Error(`warm-up request failed: ${failure.error}`);
}

/** Run the benchmark and aggregate its metrics. */
export async function runBenchmark(options: BenchmarkOptions): Promise<BenchmarkOutcome> {
  await warmUp(options);
  const offsets = arrivalOffsets(options.requests.length, options);
  const slots = new Slots(options.maxConcurrency ?? Infinity);
  const stop = new AbortController();
  const results: RequestResult[] = [];
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  const elapsedS = (): number => (performance.now() - start) / 1000;
  const timer =
    options.maxDurationS === null
      ? null
      : setTimeout(() => {
          stop.abort();
          slots.stop();
        }, options.maxDurationS * 1000);
  let sent = 0;
  try {
    for (let i = 0; i < options.requests.length; i++) {
      await sleep(start + offsets[i]! * 1000 - performance.now(), stop.signal);
      if (stop.signal.aborted || !(await slots.acquire()) || stop.signal.aborted) break;
      sent++;
      inFlight.push(
        runRequest(options.target, options.requests[i]!, stop.signal).then((result) => {
          slots.release();
          results.push(result);
          options.onProgress?.({
            finished: results.length,
            failed: results.filter((r) => !r.success).length,
            total: options.requests.length,
            elapsedS: elapsedS(),
          });
        }),
      );
    }
    await Promise.all(inFlight);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
  const durationS = elapsedS();
  return {
    metrics: computeMetrics(results, durationS, options.percentiles),
    results,
    unsent: options.requests.length - sent,
  };
}
