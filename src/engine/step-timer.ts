/**
 * The engine's step timer: how much JavaScript time each step costs, measured by the engine
 * itself, so that serving overhead can be told apart from kernel time.
 *
 * Owns two figures per step, kept in a fixed ring of the latest samples:
 *   - host time: from the previous decode's result to this decode's dispatch (processing the
 *     previous step's rows, freeing KV, scheduling, building and packing the batch). While it
 *     runs the kernels are idle, so it adds to every inter-token latency.
 *   - loop active time: the event loop's busy time (`eventLoopUtilization`) from the previous
 *     dispatch to this one: the host time plus everything else the JS thread did meanwhile
 *     (SSE serialization and socket writes, parsing new requests), most of it while the decode
 *     ran on its worker thread.
 * A step that starts the loop afresh (no previous decode in this run) has no host time sample.
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
  readonly loopActiveMsP50: number;
  readonly loopActiveMsP99: number;
}

const DEFAULT_CAPACITY = 8192;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export class StepTimer {
  readonly #host: Float64Array;
  readonly #active: Float64Array;
  readonly #rows: Float64Array;
  /** Samples written since the last drain (may exceed capacity; the ring keeps the latest). */
  #count = 0;
  #lastReturn: number | null = null;
  #lastElu: EventLoopUtilization | null = null;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#host = new Float64Array(capacity);
    this.#active = new Float64Array(capacity);
    this.#rows = new Float64Array(capacity);
  }

  /** The step loop starts (or restarts after idling): the next dispatch has no predecessor. */
  loopStarted(): void {
    this.#lastReturn = null;
    this.#lastElu = null;
  }

  /** Call right after a decode with `rows` sampled rows has been dispatched. */
  dispatched(rows: number): void {
    const now = performance.now();
    const elu = performance.eventLoopUtilization();
    if (this.#lastReturn !== null && this.#lastElu !== null) {
      const slot = this.#count % this.#host.length;
      this.#host[slot] = now - this.#lastReturn;
      this.#active[slot] = performance.eventLoopUtilization(elu, this.#lastElu).active;
      this.#rows[slot] = rows;
      this.#count++;
    }
    this.#lastElu = elu;
  }

  /** Call as soon as the decode's result is back on the JS thread. */
  returned(): void {
    this.#lastReturn = performance.now();
  }

  /** Summarize the samples since the last drain and start a new window. */
  drain(): StepTimingSummary {
    const n = Math.min(this.#count, this.#host.length);
    this.#count = 0;
    const host = this.#host.slice(0, n).sort();
    const active = this.#active.slice(0, n).sort();
    let rows = 0;
    for (let i = 0; i < n; i++) rows += this.#rows[i]!;
    return {
      steps: n,
      meanRows: n > 0 ? rows / n : 0,
      hostMsP50: percentile(host, 50),
      hostMsP99: percentile(host, 99),
      loopActiveMsP50: percentile(active, 50),
      loopActiveMsP99: percentile(active, 99),
    };
  }
}
