/**
 * Where a decode runs: on the context's worker thread, or synchronously on the JS thread.
 *
 * A decode on the worker costs two thread hand-offs per step (the libuv worker's wake-up and the
 * JS thread's wake-up on completion, about 0.15-0.25 ms together on the 2-core machines we
 * measure on), and while it runs the JS thread's own work (output processing, SSE writes)
 * competes with the ggml threads for the cores. For short steps that overhead is several
 * percent of the step; running the decode on the JS thread removes it, at the price of an event
 * loop that is busy for the step's length (requests that arrive meanwhile wait for the next step
 * either way; only unrelated routes such as /health answer later). Measured on the 130M F16
 * model, 2 threads, interleaved A/B (bench/RESULTS.md): +3-6% output token/s at concurrency 1,
 * +3% at 8 (31 ms steps), no difference at 4 and 16 (51 ms steps). So: a decode-only step (one
 * token per sequence, the steady state of generation) runs on the JS thread while the previous
 * decode-only step's kernel time was at most `maxSyncMs` (default 50 ms); everything else
 * (prefill chunks, long steps, the first decode-only step) runs on the worker, so the event loop
 * never waits much more than `maxSyncMs` for the kernels.
 *
 * Owns: that rule and the kernel time it is based on. Pure logic; the backend does the calls.
 */

/** The default bound on a synchronous decode's expected duration, in milliseconds. */
export const DEFAULT_MAX_SYNC_DECODE_MS = 50;

export class DecodePlacement {
  readonly #maxSyncMs: number;
  /** Kernel ms of the last decode-only step, or null before the first one. */
  #lastDecodeOnlyMs: number | null = null;

  /** `maxSyncMs` 0 keeps every decode on the worker. */
  constructor(maxSyncMs: number) {
    if (!(maxSyncMs >= 0)) throw new RangeError(`maxSyncMs must be >= 0, got ${maxSyncMs}`);
    this.#maxSyncMs = maxSyncMs;
  }

  /** Whether a step of `tokens` tokens over `sequences` sequences should run on the JS thread. */
  runsOnJsThread(tokens: number, sequences: number): boolean {
    return (
      tokens === sequences &&
      this.#lastDecodeOnlyMs !== null &&
      this.#lastDecodeOnlyMs <= this.#maxSyncMs
    );
  }

  /** Record a finished step's kernel time (decode + sampling, ms). */
  record(tokens: number, sequences: number, kernelMs: number): void {
    if (tokens === sequences) this.#lastDecodeOnlyMs = kernelMs;
  }
}
