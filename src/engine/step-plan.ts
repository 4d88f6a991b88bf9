/**
 * One step's plan: the chunks of tokens each request feeds, and the builder the scheduler fills
 * them in with.
 *
 * Owns: the step's token accounting (maxNumBatchedTokens, and the share long prompts may take
 * under the latency bound) and the order of its chunks.
 */
import type { RequestState } from './request-state.ts';

/** One request's share of a step: consecutive tokens of its sequence. */
export interface ScheduledChunk {
  readonly request: RequestState;
  readonly sequenceId: number;
  /** Position of the first token (the request's computedTokens when planned). */
  readonly startPosition: number;
  readonly tokens: readonly number[];
  /** The chunk ends at the request's last known token, so its last row samples the next one. */
  readonly samples: boolean;
}

/** Everything one decode executes, in ascending sequence id (see PlanBuilder.build). */
export interface StepPlan {
  readonly chunks: readonly ScheduledChunk[];
  readonly tokenCount: number;
}

/**
 * A step being planned: its chunks (a preempted request's chunk is taken out), the tokens left
 * of maxNumBatchedTokens, and the prompt tokens long prompts may still take under the latency
 * bound.
 */
export class PlanBuilder {
  readonly #chunks = new Map<RequestState, ScheduledChunk>();
  readonly #maxTokens: number;
  #tokens: number;
  #longPromptTokens = Infinity;

  constructor(maxTokens: number) {
    this.#maxTokens = maxTokens;
    this.#tokens = maxTokens;
  }

  /** What the next chunk may take. */
  get budget(): number {
    return this.#tokens;
  }

  /** What the next chunk of a long prompt may take. */
  get longBudget(): number {
    return Math.min(this.#tokens, this.#longPromptTokens);
  }

  get size(): number {
    return this.#chunks.size;
  }

  /** Chunks of long prompts take at most `tokens` in all from now on. */
  limitLongPrompts(tokens: number): void {
    this.#longPromptTokens = tokens;
  }

  add(chunk: ScheduledChunk, longPrompt: boolean): void {
    this.#chunks.set(chunk.request, chunk);
    this.#tokens -= chunk.tokens.length;
    if (longPrompt) this.#longPromptTokens -= chunk.tokens.length;
  }

  has(request: RequestState): boolean {
    return this.#chunks.has(request);
  }

  /** Take `request`'s chunk out (it was preempted): its tokens go back to the budget. */
  drop(request: RequestState): void {
    const chunk = this.#chunks.get(request);
    if (chunk === undefined) return;
    this.#chunks.delete(request);
    this.#tokens += chunk.tokens.length;
  }

  /**
   * The plan, its chunks in ascending sequence id: llama.cpp's per-sequence KV decodes a batch
   * whose sequences are out of order much slower (bench/RESULTS.md "Batch order": 8 sequences,
   * 1.39x shuffled, 2.23x descending), and ids come back in any order once requests churn.
   */
  build(): StepPlan {
    const chunks = [...this.#chunks.values()].sort((a, b) => a.sequenceId - b.sequenceId);
    return { chunks, tokenCount: this.#maxTokens - this.#tokens };
  }
}
