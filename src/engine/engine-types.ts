/**
 * The engine's public shapes: what a request asks for, what it streams back, and the client
 * interface the HTTP layer programs against.
 *
 * Owns: the contract between `src/http` and `src/engine`. Plain data only; every default is
 * already resolved by the caller (the HTTP layer's request-to-params function), so the engine
 * never guesses.
 */

/** Resolved sampling and stopping settings of one request (vLLM's SamplingParams, subset). */
export interface SamplingParams {
  /** >= 0; below 1e-5 means greedy. */
  readonly temperature: number;
  /** (0, 1]; 1 disables. */
  readonly topP: number;
  /** 0 disables (vLLM's -1 is mapped to 0 by the caller); otherwise >= 1. */
  readonly topK: number;
  /** [0, 1]; 0 disables. */
  readonly minP: number;
  /** The request's seed, or null for a random one. The same seed gives the same tokens whatever else runs. */
  readonly seed: bigint | null;
  /** Most tokens to generate (>= 1; the caller resolved the default and checked the context). */
  readonly maxTokens: number;
  /** Stop strings; the output ends before (or, with includeStopStrInOutput, after) the first match. */
  readonly stop: readonly string[];
  /** Token ids that end generation (reported as stop_reason). */
  readonly stopTokenIds: readonly number[];
  readonly includeStopStrInOutput: boolean;
  /** Keep generating past EOS/EOT (benchmarks). */
  readonly ignoreEos: boolean;
  /** Drop special tokens' text from the output. */
  readonly skipSpecialTokens: boolean;
  /**
   * OpenAI's logit_bias: token id -> value added to that token's raw logit before sampling
   * (greedy included); the caller has clamped values to [-100, 100]. Logprobs stay raw. null: none.
   */
  readonly logitBias: ReadonlyMap<number, number> | null;
  /**
   * Logprobs of each generated token: null for none, else how many of the most likely tokens to
   * report with it (0 = the token's own logprob only; the caller resolved vLLM's -1 to the
   * vocabulary size).
   */
  readonly logprobs: number | null;
  /** The same for every prompt token after the first (vLLM's prompt_logprobs); null for none. */
  readonly promptLogprobs: number | null;
  /** [-2, 2], 0 disables: subtracted once from the logit of every token already generated. */
  readonly presencePenalty: number;
  /** [-2, 2], 0 disables: subtracted per occurrence from the logit of generated tokens. */
  readonly frequencyPenalty: number;
  /**
   * > 0, 1 disables: divides the positive logits (multiplies the negative ones) of every token of
   * the prompt or the output.
   */
  readonly repetitionPenalty: number;
  /**
   * Tokens generated before end-of-generation and stop tokens may be drawn (they are masked until
   * then) and before stop strings are looked for; 0 disables. At most maxTokens.
   */
  readonly minTokens: number;
  /** Only these tokens may be drawn (vLLM's allowed_token_ids); null: any. Non-empty. */
  readonly allowedTokenIds: readonly number[] | null;
  /**
   * Token sequences that must not be generated: a sequence's last token is masked whenever the
   * output ends with the rest of it (a one-token sequence is always masked). Empty: none.
   */
  readonly badWords: readonly (readonly number[])[];
  /**
   * Structured output: every draw is limited to tokens that keep the output a prefix of this
   * grammar's language, and end-of-generation tokens are allowed only once it is a whole member
   * (src/grammar). null: unconstrained.
   */
  readonly structuredOutput: CompiledGrammar | null;
}

/** A token and its raw logprob (log-softmax of the unprocessed logits). */
export interface TopLogprob {
  readonly token: number;
  readonly logprob: number;
}

/** The raw logprobs at one position: of the token there, and of the most likely tokens. */
export interface PositionLogprobs {
  /** The token at this position (sampled, or the prompt's). */
  readonly token: number;
  readonly logprob: number;
  /** vLLM's rank: how many tokens have a logprob at least as high (1 = most likely). */
  readonly rank: number;
  /** The requested number of most likely tokens, descending, ties by lower id. */
  readonly top: readonly TopLogprob[];
}

export interface EngineRequest {
  /** Unique among live requests. */
  readonly id: string;
  readonly promptTokens: readonly number[];
  readonly params: SamplingParams;
  /**
   * The id of a request added just before with the same prompt (another of `n` samples): this
   * one copies that request's prompt KV instead of computing it again, when the engine can
   * (not when this one asks for its prompt logprobs).
   */
  readonly sharesPromptWith?: string | undefined;
  /**
   * vLLM's request priority: with the priority scheduling policy, lower values are admitted
   * first. Must be 0 (or absent) under fcfs.
   */
  readonly priority?: number | undefined;
  /**
   * How many engine requests the same API call made (vLLM's n, best_of included): for metrics,
   * and admission control refuses a call too big to ever fit.
   */
  readonly siblings?: number | undefined;
}

/**
 * `stop`: a stop string, stop token, EOS/EOT; `length`: maxTokens or the context end;
 * `abort`: aborted by the caller (client gone).
 */
export type FinishReason = 'stop' | 'length' | 'abort';

/** One streamed update of a request: what is new since the previous update. */
export interface RequestOutput {
  readonly requestId: string;
  /** Text that became final since the last update (never a partial UTF-8 character, never text that may still turn out to be part of a stop string). */
  readonly text: string;
  /** Token ids generated since the last update. */
  readonly tokenIds: readonly number[];
  /** Totals so far. */
  readonly promptTokens: number;
  readonly completionTokens: number;
  /**
   * vLLM's num_cached_tokens: the prompt tokens this request found in the prefix cache when it
   * first started (not computed by it); 0 when none (a sibling that copied another request's
   * prompt KV reports 0: it found nothing in the cache).
   */
  readonly cachedTokens: number;
  /** Set on the last update only. */
  readonly finishReason: FinishReason | null;
  /** vLLM's stop_reason: the matched stop string, the stop token id, or null (EOS, length). */
  readonly stopReason: string | number | null;
  /** With params.logprobs: one entry per id of `tokenIds`, in order; else null. */
  readonly logprobs: readonly PositionLogprobs[] | null;
  /**
   * With params.promptLogprobs, on the request's first output only: one entry per prompt token,
   * the first null (nothing predicts it); else null.
   */
  readonly promptLogprobs: readonly (PositionLogprobs | null)[] | null;
}

/** A beam search's settings (vLLM's use_beam_search). */
export interface BeamSearchSettings {
  /** Beams kept per step and answers given (vLLM: `n`). */
  readonly width: number;
  /** The exponent of the length in a beam's score (vLLM's length_penalty, default 1). */
  readonly lengthPenalty: number;
  /**
   * Stop as soon as `width` beams have ended (early_stopping true); false runs until max tokens
   * or until no beam is left, as vLLM's current beam search does.
   */
  readonly earlyStopping: boolean;
}

/** Why the engine refused a request (maps to a 400 in the HTTP layer). */
export class EngineRequestError extends Error {
  /** The request parameter at fault, as the API names it (e.g. "max_tokens"), or null. */
  readonly parameter: string | null;

  constructor(message: string, parameter: string | null = null) {
    super(message);
    this.name = 'EngineRequestError';
    this.parameter = parameter;
  }
}

/**
 * The engine holds as many requests as it may (`maxNumSeqs` running and `maxWaitingRequests`
 * waiting): the request is refused now and may be retried later (a 503 in the HTTP layer).
 */
export class EngineOverloadedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineOverloadedError';
  }
}

/** Counts for health checks, metrics and leak tests. */
export interface EngineStats {
  readonly running: number;
  readonly waiting: number;
  /** Fraction of the KV blocks held by running requests (vLLM's kv_cache_usage_perc), 0..1. */
  readonly kvUsage: number;
  /** KV blocks held by anyone (running and cached sequences), and all of them. */
  readonly kvBlocksUsed: number;
  readonly kvBlocksTotal: number;
  /** Sequences holding the KV of requests that left, for prefix reuse. */
  readonly cachedSequences: number;
  /** Tokens of requests that looked up the prefix cache, and of those, tokens found cached. */
  readonly prefixCacheQueries: number;
  readonly prefixCacheHits: number;
  /** Requests preempted (KV given up, recomputed later) so far. */
  readonly preemptions: number;
  /** Steps executed and backend decodes issued (equal: one decode per step). */
  readonly steps: number;
  readonly decodes: number;
  /** Prompt tokens evaluated so far (prefill), and tokens sampled so far. */
  readonly promptTokens: number;
  /** Prompt tokens copied from another request's KV (`n` samples) instead of evaluated. */
  readonly forkedPromptTokens: number;
  readonly generationTokens: number;
}

/** What the HTTP layer sees of the engine. */
export interface EngineClient {
  /** The longest prompt + output one request may have (vLLM's max_model_len). */
  readonly maxModelLen: number;
  /**
   * Queue a request; its outputs arrive on the returned stream, ending with the update that
   * carries a finishReason. Throws EngineRequestError at once for a request that can never run,
   * EngineOverloadedError when the engine holds all the requests it may.
   */
  add(request: EngineRequest): AsyncIterable<RequestOutput>;
  /**
   * Queue a beam search of `width` beams (vLLM's use_beam_search with n = width): one stream
   * per answer, best first, each with one final output. Throws like `add`.
   */
  addBeamSearch(
    request: EngineRequest,
    options: BeamSearchSettings,
  ): AsyncIterable<RequestOutput>[];
  /** Abort a queued or running request; its stream ends with finishReason "abort". No-op if unknown. */
  abort(requestId: string): void;
  stats(): EngineStats;
  /** Abort everything and stop the step loop. */
  shutdown(): Promise<void>;
}
import type { CompiledGrammar } from '../grammar/automaton/byte-nfa.ts';
