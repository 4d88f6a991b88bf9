/**
 * How many prompt tokens a step may take while other requests are decoding, so their
 * inter-token latency stays bounded while long prompts arrive (issue 6's bound: ITL p99 below 3x
 * the median while a 2,000-token prompt is prefilled).
 *
 * Owns: an online cost model of this machine's steps, from the kernel time of the steps run so
 * far: the time of a decode-only step (D) and the marginal time of one prompt token in a step
 * (P), both exponentially weighted averages. A step with decode rows gets at most
 * (factor - 1) x D / P prompt tokens, so it takes at most about `factor` times a decode-only
 * step, unless what is pending is short (see `limit`); a step without decode rows is not
 * limited (only by --max-num-batched-tokens). On a CPU,
 * where a prompt token costs about as much as a decode row, this is what keeps decoding smooth
 * (bench/RESULTS.md "Prefill stall"); on a GPU, where prompt tokens are nearly free next to a
 * decode, the model lets whole chunks through. vLLM bounds a step by tokens only
 * (`--max-num-batched-tokens`, `--long-prefill-token-threshold`); this bounds it by time.
 */

/** The weight of the newest measurement in the averages. */
const SMOOTHING = 0.2;
/** Prompt tokens allowed while the cost of one is unknown (the first mixed step measures it). */
const PROBE_TOKENS = 16;
/** Pending prompt tokens that take at most this many decode steps' time go in one step. */
const SHORT_PROMPT_STEPS = 8;

export class PrefillLimiter {
  /** A step with decode rows may take about this many times a decode-only step; 0 = no limit. */
  readonly factor: number;
  /** Kernel ms of a decode-only step, or null before the first. */
  #decodeStepMs: number | null = null;
  /**
   * The cost of a prompt token as a ratio of averages (robust to one noisy step): the kernel ms
   * steps took beyond their decode part, and the prompt tokens they took.
   */
  #promptMs: number | null = null;
  #promptTokens: number | null = null;

  constructor(factor: number) {
    if (!(factor === 0 || factor > 1) || !Number.isFinite(factor)) {
      throw new RangeError(`the latency factor must be 0 (off) or above 1, got ${factor}`);
    }
    this.factor = factor;
  }

  /** Marginal kernel ms per prompt token, or null before it was measured. */
  get promptTokenMs(): number | null {
    if (this.#promptMs === null || this.#promptTokens === null) return null;
    // Never below a thousandth of a decode step: noise must not open the gate wide.
    return Math.max(this.#promptMs / this.#promptTokens, (this.#decodeStepMs ?? 0) / 1000, 1e-6);
  }

  /** Kernel ms of a decode-only step, or null before the first. */
  get decodeStepMs(): number | null {
    return this.#decodeStepMs;
  }

  /**
   * The most prompt tokens a step with `decodeRows` decode rows should take (Infinity: no
   * limit), when `pendingPromptTokens` are waiting to be computed and `spreading` says whether a
   * long prompt is already being spread over steps. At least 1, so a prompt always advances.
   *
   * Short prompts are not split: when everything pending takes at most SHORT_PROMPT_STEPS
   * decode steps' time to compute, it goes in one step (one longer gap instead of several mixed
   * steps, each costing an extra pass over the weights: llama.cpp computes a step's prompt
   * tokens beyond one per sequence as a micro-batch of their own). Longer prompts are spread
   * over steps that each stay within the bound, to their last token.
   */
  limit(decodeRows: number, pendingPromptTokens = Infinity, spreading = false): number {
    if (this.factor === 0 || decodeRows === 0 || this.#decodeStepMs === null) return Infinity;
    const perToken = this.promptTokenMs;
    if (perToken === null) {
      return !spreading && pendingPromptTokens <= PROBE_TOKENS ? Infinity : PROBE_TOKENS;
    }
    if (!spreading && pendingPromptTokens * perToken <= SHORT_PROMPT_STEPS * this.#decodeStepMs) {
      return Infinity;
    }
    const tokens = ((this.factor - 1) * this.#decodeStepMs) / perToken;
    return Math.max(1, Math.floor(tokens + 1e-9));
  }

  /** A step ran: `decodeRows` decode rows and `promptTokens` prompt tokens in `kernelMs`. */
  record(decodeRows: number, promptTokens: number, kernelMs: number): void {
    // A backend that times nothing (the fake one reports 0) tells nothing.
    if (!(kernelMs > 0) || !Number.isFinite(kernelMs)) return;
    if (promptTokens === 0) {
      if (decodeRows > 0) this.#decodeStepMs = average(this.#decodeStepMs, kernelMs);
      return;
    }
    // Without a decode part the whole step counts: a little high (it includes the step's fixed
    // cost), so the bound errs on the safe side.
    const decodePart = decodeRows > 0 ? (this.#decodeStepMs ?? 0) : 0;
    this.#promptMs = average(this.#promptMs, kernelMs - decodePart);
    this.#promptTokens = average(this.#promptTokens, promptTokens);
  }
}

function average(previous: number | null, value: number): number {
  return previous === null ? value : previous + SMOOTHING * (value - previous);
}
