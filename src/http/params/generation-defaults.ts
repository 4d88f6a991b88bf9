/**
 * The server's default sampling parameters: vLLM's `default_sampling_params` (the model's
 * generation config, or a `--generation-config` folder's, with `--override-generation-config`
 * merged over it) and its `override_max_tokens`. The CLI resolves them once at start-up; the
 * request parameters fall back to them where a request leaves a field out (or sends null).
 *
 * Owns: the shape of those defaults. The output-budget rule that reads them (vLLM's
 * `get_max_tokens`) is `resolveMaxTokens` in context-limit.ts; the sampling fields are read in
 * sampling-params.ts.
 */

/** Sampling defaults a request falls back to; an absent field keeps vLLM's neutral default. */
export interface GenerationDefaults {
  /** Default `temperature` (vLLM's neutral default 1.0). */
  readonly temperature?: number;
  /** Default `top_p` (neutral 1.0). */
  readonly topP?: number;
  /** Default `top_k` (neutral 0: off; -1 also means off). */
  readonly topK?: number;
  /** Default `min_p` (neutral 0.0). */
  readonly minP?: number;
  /** Default `repetition_penalty` (neutral 1.0). */
  readonly repetitionPenalty?: number;
  /**
   * Output tokens when a request asks for none (HF `max_new_tokens`). Only a default: a
   * request's own value wins. Absent: the rest of the context.
   */
  readonly maxTokens?: number;
  /**
   * A ceiling on every request's output tokens (vLLM's `override_max_tokens`: the
   * `max_new_tokens` of `--override-generation-config`, or of a `--generation-config` folder).
   * Absent: none.
   */
  readonly maxTokensCeiling?: number;
}

/** No defaults: vLLM's `--generation-config vllm` with nothing overridden. */
export const NO_GENERATION_DEFAULTS: GenerationDefaults = {};
