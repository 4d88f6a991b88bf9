/**
 * How many tokens of long prompts a step may take while other requests are decoding, so their
 * inter-token latency stays bounded while long prompts arrive (issue 6's bound: ITL p99 below 3x
 * the median while a 2,000-token prompt is prefilled).
 *
 * Owns: which prompts are long (more than LONG_PROMPT_TOKENS left) and an online cost model of
 * this machine's steps, from the kernel time of the steps run so far: a mixed step costs
 * D + c + n p, with D the decode-only step at that many decode rows, p the cost of a prompt token
 * (from prompt-only steps) and c what mixing adds (llama.cpp computes a step's prompt tokens
 * beyond one per sequence as a micro-batch of their own), all exponentially weighted averages.
 * A step with decode rows gets at most n = ((factor - 1) D - c) / p tokens of long prompts, so it
 * takes about `factor` times a decode-only step; short prompts, and steps without decode rows,
 * are limited only by --max-num-batched-tokens. On a CPU, where a prompt token costs about as
 * much as a decode row, this keeps decoding smooth (bench/RESULTS.md "Prefill stall"); on a GPU,
 * where prompt tokens are nearly free next to a decode, n is large. vLLM bounds a step by tokens
 * (`--max-num-batched-tokens`, `--long-prefill-token-threshold`); this bounds it by time.
 */

/** The weight of the newest measurement in the averages. */
const SMOOTHING = 0.2;
/** Prompt tokens a mixed step takes while the cost of one is unknown (it measures it). */
const PROBE_TOKENS = 4;
/**
 * Prompts with more tokens than this left to compute are long: only they are spread over steps
 * (vLLM's --long-prefill-token-threshold has the same role). Shorter ones go whole.
 */
export const LONG_PROMPT_TOKENS = 256;
/** Prompt-only steps with fewer tokens say too little about the cost of one. */
const MIN_MEASURED_TOKENS = 8;

export class PrefillLimiter {
  /** A step with decode rows may take about this many times a decode-only step; 0 = no limit. */
  readonly factor: number;
  /** D: kernel ms of a decode-only step, by its number of decode rows. */
  readonly #decodeStepMs = new Map<number, number>();
  /** p: kernel ms per prompt token, from prompt-only steps (or a first mixed one). */
  #promptTokenMs: number | null = null;
  /**
   * c: what mixing costs beyond D + n p (llama.cpp computes a step's prompt tokens beyond one per
   * sequence as a micro-batch of its own: one more pass over the weights).
   */
  #mixingMs = 0;

  constructor(factor: number) {
    if (!(factor === 0 || factor > 1) || !Number.isFinite(factor)) {
      throw new RangeError(`the latency factor must be 0 (off) or above 1, got ${factor}`);
    }
    this.factor = factor;
  }

  /** The model's figures so far (ms), for logs and tests. */
  get estimates(): {
    readonly decodeStepMs: number | null;
    readonly promptTokenMs: number | null;
    readonly mixingMs: number;
  } {
    return {
      decodeStepMs: this.#decodeMs(8),
      promptTokenMs: this.#promptTokenMs,
      mixingMs: this.#mixingMs,
    };
  }

  /**
   * The most prompt tokens of long prompts a step with `decodeRows` decode rows should take
   * (Infinity: no limit), so that D + c + n p stays within factor x D. At least 1, so a prompt
   * always advances.
   */
  limit(decodeRows: number): number {
    const decodeMs = this.#decodeMs(decodeRows);
    if (this.factor === 0 || decodeRows === 0 || decodeMs === null) return Infinity;
    const perToken = this.#promptTokenMs;
    if (perToken === null) return PROBE_TOKENS;
    const room = (this.factor - 1) * decodeMs - this.#mixingMs;
    return Math.max(1, Math.floor(room / perToken + 1e-9));
  }

  /**
   * Whether a prompt with `tokens` left to compute is long (more than LONG_PROMPT_TOKENS). A
   * short prompt goes in one step even while others decode: splitting it would add mixed steps
   * that each pay c again, for a gap that one step of it barely exceeds. A long one is spread
   * over steps within the bound, to its last token.
   */
  isLongPrompt(tokens: number): boolean {
    return this.factor !== 0 && tokens > LONG_PROMPT_TOKENS;
  }

  /** D for `rows` decode rows: measured at that count, else at the nearest one; null before any. */
  #decodeMs(rows: number): number | null {
    return this.#decodeStepMs.get(rows) ?? nearest(this.#decodeStepMs, rows);
  }

  /** A step ran: `decodeRows` decode rows and `promptTokens` prompt tokens in `kernelMs`. */
  record(decodeRows: number, promptTokens: number, kernelMs: number): void {
    // A backend that times nothing (the fake one reports 0) tells nothing.
    if (!(kernelMs > 0) || !Number.isFinite(kernelMs)) return;
    if (promptTokens === 0) {
      if (decodeRows > 0) {
        const previous = this.#decodeStepMs.get(decodeRows) ?? null;
        this.#decodeStepMs.set(decodeRows, average(previous, kernelMs));
      }
      return;
    }
    if (decodeRows === 0) {
      if (promptTokens >= MIN_MEASURED_TOKENS) {
        this.#promptTokenMs = average(this.#promptTokenMs, kernelMs / promptTokens);
      }
      return;
    }
    const beyondDecode = kernelMs - (this.#decodeMs(decodeRows) ?? 0);
    if (this.#promptTokenMs === null) {
      // No prompt-only step yet: charge it all to the tokens (high, so on the safe side).
      this.#promptTokenMs = Math.max(beyondDecode, 1e-3) / promptTokens;
      return;
    }
    this.#mixingMs = Math.max(
      0,
      average(this.#mixingMs, beyondDecode - promptTokens * this.#promptTokenMs),
    );
  }
}

function nearest(byRows: ReadonlyMap<number, number>, rows: number): number | null {
  let best: number | null = null;
  let distance = Infinity;
  for (const [known, ms] of byRows) {
    if (Math.abs(known - rows) < distance) {
      distance = Math.abs(known - rows);
      best = ms;
    }
  }
  return best;
}

function average(previous: number | null, value: number): number {
  return previous === null ? value : previous + SMOOTHING * (value - previous);
}
