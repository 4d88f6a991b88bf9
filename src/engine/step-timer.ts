/**
 * The engine's step timer: how much JavaScript time each step costs, measured by the engine
 * itself, so that serving overhead can be told apart from kernel time.
 *
 * Owns three figures:
 *   - kernel time per step: the backend's own measure of its decode and sampling (for the
 *     llama.cpp backend, wall time on its worker thread), kept in the same ring;
 *   - host time per step, kept in a fixed ring of the latest samples: from the previous decode's
 *     result to this decode's dispatch (processing the previous step's rows, freeing KV,
 *     scheduling, building and packing the batch). While it runs the kernels are idle, so it
 *     adds to every inter-token latency. A step that starts the loop afresh (no previous decode
 *     in this run) has no sample.
 *   - decode-only throughput, over a whole window: sampled rows per second of wall time over the
 *     decode-only steps (one token per sequence, no prompt tokens), each timed from its dispatch
 *     to the next dispatch (its kernels plus the host work after them). This is the figure that
 *     compares with a pure decode benchmark such as llama-batched-bench's S_TG; a window's
 *     generation throughput also pays for the prefills of requests that joined in it.
 *   - loop active time per step, over a whole window: the event loop's busy time
 *     (`eventLoopUtilization`) between two drains divided by the steps dispatched: the host time
 *     plus everything else the JS thread did (SSE serialization and socket writes, parsing new
 *     requests), most of it while a decode ran on its worker thread. Read once per window, since
 *     reading it costs tens of microseconds.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Percentiles of the samples taken since the last `drain`. */
export interface StepTimingSummary {
  /** Steps sampled in the window (at most the ring's capacity). */
  readonly steps: number;
  /** Mean sequence rows sampled per step. */
  readonly meanRows: number;
  readonly hostMsP50: number;
  readonly hostMsP99: number;
  /** The backend's decode + sampling time, median over the steps timed in the window. */
  readonly kernelMsP50: number;
  /**
   * Rows sampled per second over the decode-only steps whose period ended in the window (0 if
   * none): their rows divided by their dispatch-to-next-dispatch wall time.
   */
  readonly decodeOnlyTokensPerS: number;
  /** Event-loop busy time in the window divided by the decodes dispatched in it (0 if none). */
  readonly loopActiveMsPerStep: number;
}

const DEFAULT_CAPACITY = 8192;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export class StepTimer {
  readonly #host: Float64Array;
  readonly #rows: Float64Array;
  readonly #kernel: Float64Array;
  /** Samples written since the last drain (may exceed capacity; the ring keeps the latest). */
  #count = 0;
  /** Decodes dispatched since the last drain, timed or not. */
  #dispatches = 0;
  #lastReturn: number | null = null;
  /** The previous dispatch in this run of the loop, if it was a decode-only step. */
  #lastDecodeOnlyAt: number | null = null;
  #lastDecodeOnlyRows = 0;
  /** Decode-only steps' rows and wall milliseconds since the last drain. */
  #decodeOnlyRows = 0;
  #decodeOnlyMs = 0;
  #windowStart: EventLoopUtilization = performance.eventLoopUtilization();

  readonly #now: () => number;

  /** `now` is the wall clock in milliseconds (a test may pass its own). */
  constructor(capacity = DEFAULT_CAPACITY, now: () => number = () => performance.now()) {
    this.#now = now;
    this.#host = new Float64Array(capacity);
    this.#rows = new Float64Array(capacity);
    this.#kernel = new Float64Array(capacity);
  }

  /** The step loop starts (or restarts after idling): the next dispatch has no predecessor. */
  loopStarted(): void {
    this.#lastReturn = null;
    this.#lastDecodeOnlyAt = null;
  }

  /**
   * Call right after a decode of `tokens` tokens with `rows` sampled rows has been dispatched
   * (a decode-only step has as many rows as tokens).
   */
  dispatched(rows: number, tokens: number): void {
    const now = this.#now();
    this.#dispatches++;
    if (this.#lastDecodeOnlyAt !== null) {
      this.#decodeOnlyRows += this.#lastDecodeOnlyRows;
      this.#decodeOnlyMs += now - this.#lastDecodeOnlyAt;
    }
    const decodeOnly = rows > 0 && rows === tokens;
    this.#lastDecodeOnlyAt = decodeOnly ? now : null;
    this.#lastDecodeOnlyRows = rows;
    if (this.#lastReturn === null) return;
    const slot = this.#count % this.#host.length;
    this.#host[slot] = now - this.#lastReturn;
    this.#rows[slot] = rows;
    this.#kernel[slot] = NaN;
    this.#count++;
  }

  /**
   * Call as soon as the decode's result is back on the JS thread, with the backend's own
   * decode + sampling milliseconds (null when the decode failed).
   */
  returned(kernelMs: number | null): void {
    this.#lastReturn = this.#now();
    if (kernelMs === null) this.#lastDecodeOnlyAt = null; // a failed step is no decode
    if (kernelMs !== null && this.#count > 0) {
      this.#kernel[(this.#count - 1) % this.#kernel.length] = kernelMs;
    }
  }

  /** Summarize the samples since the last drain and start a new window. */
  drain(): StepTimingSummary {
    const n = Math.min(this.#count, this.#host.length);
    const dispatches = this.#dispatches;
    const decodeOnlyTokensPerS =
      this.#decodeOnlyMs > 0 ? (1000 * this.#decodeOnlyRows) / this.#decodeOnlyMs : 0;
    this.#count = 0;
    this.#dispatches = 0;
    this.#decodeOnlyRows = 0;
    this.#decodeOnlyMs = 0;
    const now = performance.eventLoopUtilization();
    const active = performance.eventLoopUtilization(now, this.#windowStart).active;
    this.#windowStart = now;
    const host = this.#host.slice(0, n).sort();
    const kernel = this.#kernel
      .slice(0, n)
      .filter((ms) => !Number.isNaN(ms))
      .sort();
    let rows = 0;
    for (let i = 0; i < n; i++) rows += this.#rows[i]!;
    return {
      steps: n,
      meanRows: n > 0 ? rows / n : 0,
      hostMsP50: percentile(host, 50),
      hostMsP99: percentile(host, 99),
      kernelMsP50: percentile(kernel, 50),
      decodeOnlyTokensPerS,
      loopActiveMsPerStep: dispatches > 0 ? active / dispatches : 0,
    };
  }
}
