/**
 * What the engine tells a metrics sink (vLLM's IterationStats and FinishedRequestStats, as
 * calls), and the per-request clock those figures come from.
 *
 * Owns: when a request's times are taken (arrival when it is added, scheduled at its first step,
 * each sampled token, the end) and what is derived from them, in seconds, as vLLM derives them:
 * queue = scheduled − arrival; time to first token = first token − arrival; inter-token latency
 * = a token − the token before; prefill = first token − scheduled; decode = last token − first
 * token; inference = last token − scheduled; end-to-end = end − arrival; time per output token =
 * decode / (tokens − 1). Plain data and no metric library: src/http/metrics turns the calls into
 * Prometheus series.
 */
import type { FinishReason } from './engine-types.ts';

/** One step's token counts, as vLLM counts them. */
export interface StepReport {
  /**
   * The prompt lengths of the requests whose first token came in this step: vLLM counts a
   * prompt when it has produced a token, cached part included.
   */
  readonly promptTokens: number;
  /** Of those, tokens found in the prefix cache or copied from a sibling sample. */
  readonly cachedPromptTokens: number;
  /** Tokens sampled in this step. */
  readonly generationTokens: number;
}

/** A request that ended with a stop or a length limit (aborted ones are not reported, as vLLM). */
export interface FinishedRequestReport {
  readonly finishReason: Exclude<FinishReason, 'abort'>;
  readonly promptTokens: number;
  readonly generationTokens: number;
  /** The request's max_tokens. */
  readonly maxTokens: number;
  /** Engine requests of its API call (vLLM's n). */
  readonly siblings: number;
  readonly e2eSeconds: number;
  readonly queueSeconds: number;
  readonly prefillSeconds: number;
  readonly decodeSeconds: number;
  readonly inferenceSeconds: number;
  /** decode / (generation tokens − 1); null with fewer than two tokens. */
  readonly timePerOutputTokenSeconds: number | null;
}

/** Receives the engine's figures; every call is synchronous and must not throw. */
export interface EngineMetricsSink {
  step(report: StepReport): void;
  timeToFirstToken(seconds: number): void;
  interTokenLatency(seconds: number): void;
  finished(report: FinishedRequestReport): void;
  /** A new request was refused because the engine held all it may (admission control). */
  rejected(): void;
}

/** Milliseconds on a monotonic clock. */
export function monotonicMs(): number {
  return performance.now();
}

/** One request's timestamps (monotonic milliseconds). */
export class RequestClock {
  readonly #arrival: number;
  #scheduled: number | null = null;
  #firstToken: number | null = null;
  #lastToken = 0;
  #tokens = 0;

  constructor(arrivalMs: number = monotonicMs()) {
    this.#arrival = arrivalMs;
  }

  /** The request is in a step at `atMs`; only its first step counts (preemption keeps it). */
  scheduled(atMs: number): void {
    this.#scheduled ??= atMs;
  }

  /**
   * A token was sampled at `atMs`. Returns the latency it closes, in seconds: the time to first
   * token for the first one (`first` true), else the inter-token latency.
   */
  token(atMs: number): { readonly first: boolean; readonly seconds: number } {
    const first = this.#firstToken === null;
    const seconds = (first ? atMs - this.#arrival : atMs - this.#lastToken) / 1000;
    if (first) this.#firstToken = atMs;
    this.#lastToken = atMs;
    this.#tokens++;
    return { first, seconds };
  }

  /** The report of a request that ended at `atMs` with a stop or a length limit. */
  finished(
    atMs: number,
    finishReason: Exclude<FinishReason, 'abort'>,
    promptTokens: number,
    maxTokens: number,
    siblings: number,
  ): FinishedRequestReport {
    const scheduled = this.#scheduled ?? atMs;
    const firstToken = this.#firstToken ?? atMs;
    const lastToken = this.#firstToken === null ? atMs : this.#lastToken;
    const decodeSeconds = (lastToken - firstToken) / 1000;
    return {
      finishReason,
      promptTokens,
      generationTokens: this.#tokens,
      maxTokens,
      siblings,
      e2eSeconds: (atMs - this.#arrival) / 1000,
      queueSeconds: (scheduled - this.#arrival) / 1000,
      prefillSeconds: (firstToken - scheduled) / 1000,
      decodeSeconds,
      inferenceSeconds: (lastToken - scheduled) / 1000,
      timePerOutputTokenSeconds: this.#tokens > 1 ? decodeSeconds / (this.#tokens - 1) : null,
    };
  }
}
