/**
 * When each benchmark request is sent: all at once (rate Infinity), or with gaps drawn from a
 * gamma distribution of mean 1/rate whose shape is the burstiness (1 = Poisson arrivals,
 * below 1 burstier, above 1 more regular), as vLLM's `--request-rate` and `--burstiness`.
 *
 * Owns: the schedule only (offsets in seconds from the start); sending is the runner's job.
 */
import { createRng, randomGamma } from './random.ts';

/** How requests arrive. */
export interface ArrivalOptions {
  /** Mean requests per second, > 0; Infinity sends every request at t = 0. */
  readonly requestRate: number;
  /** Gamma shape, > 0; 1 = Poisson (exponential gaps). */
  readonly burstiness: number;
  readonly seed: number;
}

/**
 * Send offsets, in seconds from the start, for `count` requests: the first at 0, each later one
 * a gamma-distributed gap after the previous.
 */
export function arrivalOffsets(count: number, options: ArrivalOptions): number[] {
  if (!(options.requestRate > 0)) {
    throw new RangeError(`request rate must be > 0 or inf, got ${options.requestRate}`);
  }
  if (!(options.burstiness > 0) || !Number.isFinite(options.burstiness)) {
    throw new RangeError(`burstiness must be a finite number > 0, got ${options.burstiness}`);
  }
  if (options.requestRate === Infinity) return new Array<number>(count).fill(0);
  const rng = createRng(options.seed);
  const scale = 1 / (options.requestRate * options.burstiness);
  const offsets: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) t += randomGamma(rng, options.burstiness, scale);
    offsets.push(t);
  }
  return offsets;
}
