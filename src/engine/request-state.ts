/**
 * One request's progress as the scheduler sees it (vLLM v1's `Request`): its tokens, how many of
 * them are already in the KV cache, and where it is in its life. Plain synchronous data.
 *
 * Owns: the token bookkeeping of a request. Prefill and decode are not separate modes: a step
 * feeds the tokens not yet computed (a prompt chunk, or the one token sampled last step), and a
 * step that reaches the last known token samples the next one.
 */

/** `waiting`: queued, no KV sequence; `running`: holds a sequence; `finished`: done or aborted. */
export type RequestStatus = 'waiting' | 'running' | 'finished';

export class RequestState {
  readonly id: string;
  readonly promptTokens: readonly number[];
  /** The most tokens this request may generate (>= 1). */
  readonly maxTokens: number;
  status: RequestStatus = 'waiting';
  /** The KV sequence while running (kept after release for the record), null before. */
  sequenceId: number | null = null;
  readonly #outputTokens: number[] = [];
  #computedTokens = 0;
  /**
   * Prompt tokens at the end that must not be computed yet: 1 while this request leads siblings
   * that will copy its KV of all but the last prompt token (see Scheduler.add), else 0.
   */
  heldBackTokens = 0;
  /** The scheduling priority (lower first, under the priority policy). */
  priority = 0;
  /**
   * Whether its start may reuse cached KV of a prefix (automatic prefix caching). False for a
   * request that reports its prompt's logprobs: it computes every prompt position itself.
   */
  readsCache = true;
  /** Prompt tokens its first start found cached (usage's cached_tokens); null before it starts. */
  cachedPromptTokens: number | null = null;
  /** Times it was preempted (its KV given up, to be recomputed). */
  preemptions = 0;

  constructor(id: string, promptTokens: readonly number[], maxTokens: number) {
    if (promptTokens.length === 0) throw new RangeError('a request needs at least one token');
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new RangeError(`maxTokens must be an integer >= 1, got ${maxTokens}`);
    }
    this.id = id;
    this.promptTokens = promptTokens;
    this.maxTokens = maxTokens;
  }

  /** Generated tokens so far. */
  get outputTokens(): readonly number[] {
    return this.#outputTokens;
  }

  /** Prompt plus generated tokens. */
  get totalTokens(): number {
    return this.promptTokens.length + this.#outputTokens.length;
  }

  /** Tokens already written to the KV cache (positions 0 .. computedTokens-1). */
  get computedTokens(): number {
    return this.#computedTokens;
  }

  /** Whether part of the prompt has not been computed yet. */
  get isPrefilling(): boolean {
    return this.#computedTokens < this.promptTokens.length;
  }

  /** Tokens a step could feed now: the rest of the prompt, or the last sampled token. */
  get uncomputedTokens(): number {
    return this.totalTokens - this.#computedTokens;
  }

  /** Tokens a step may feed now: the uncomputed ones, less those held back for a fork. */
  get schedulableTokens(): number {
    return this.uncomputedTokens - this.heldBackTokens;
  }

  /**
   * A forked sibling starts with `count` prompt tokens already in its KV cells (copied from the
   * request it shares its prompt with). Only before it computed anything, and never the whole
   * prompt (the last prompt token is always fed, so the request samples its own first token).
   */
  adoptComputedPrompt(count: number): void {
    this.#requireFresh();
    this.adoptCachedTokens(count);
  }

  /**
   * Its sequence starts with its first `count` tokens (prompt, then output after a preemption)
   * already in the KV cache: a cached prefix. Only while nothing is computed, and never all of
   * its tokens (the last known one is always fed, so the request samples the next).
   */
  adoptCachedTokens(count: number): void {
    if (this.#computedTokens !== 0) throw new Error(`request ${this.id} already computed tokens`);
    if (!Number.isInteger(count) || count < 0 || count >= this.totalTokens) {
      throw new RangeError(`count must be in [0, ${this.totalTokens - 1}], got ${count}`);
    }
    this.#computedTokens = count;
  }

  /** All its known tokens, prompt then output (a new array). */
  allTokens(): number[] {
    return [...this.promptTokens, ...this.#outputTokens];
  }

  /**
   * Preempted by recomputation (vLLM's RECOMPUTE): its KV is given up and it waits again; when
   * it runs again it recomputes (or finds cached) its prompt and the output so far, then goes on
   * sampling where it stopped.
   */
  preempt(): void {
    if (this.status !== 'running') throw new Error(`request ${this.id} is not running`);
    this.status = 'waiting';
    this.sequenceId = null;
    this.#computedTokens = 0;
    this.preemptions++;
  }

  /**
   * A beam forked from another starts with that beam's KV (`computedTokens` cells, copied) and
   * its generated tokens, the last of which is not computed yet. Only on a fresh state.
   */
  adoptBeam(computedTokens: number, outputTokens: readonly number[]): void {
    this.#requireFresh();
    if (computedTokens !== this.promptTokens.length + outputTokens.length - 1) {
      throw new RangeError(
        `a forked beam computes all but its last token: ${computedTokens} cells for ` +
          `${this.promptTokens.length} prompt and ${outputTokens.length} output tokens`,
      );
    }
    this.#outputTokens.push(...outputTokens);
    this.#computedTokens = computedTokens;
  }

  /** The adopt* methods start a state with copied KV: only one that computed nothing yet. */
  #requireFresh(): void {
    if (this.#computedTokens !== 0 || this.#outputTokens.length !== 0) {
      throw new Error(`request ${this.id} already computed tokens`);
    }
  }

  /** KV cells the request can ever occupy: prompt + maxTokens (its unified-KV reservation). */
  get maxCells(): number {
    return this.promptTokens.length + this.maxTokens;
  }

  /** The next `count` uncomputed tokens, in position order from `computedTokens`. */
  nextTokens(count: number): number[] {
    if (!Number.isInteger(count) || count < 1 || count > this.uncomputedTokens) {
      throw new RangeError(`count must be in [1, ${this.uncomputedTokens}], got ${count}`);
    }
    const tokens: number[] = [];
    const promptLength = this.promptTokens.length;
    for (let p = this.#computedTokens; p < this.#computedTokens + count; p++) {
      tokens.push(p < promptLength ? this.promptTokens[p]! : this.#outputTokens[p - promptLength]!);
    }
    return tokens;
  }

  /**
   * Record a step that computed `count` tokens and, when it reached the last known token, sampled
   * `sampled` (null when the chunk stopped short of it).
   */
  commitStep(count: number, sampled: number | null): void {
    if (!Number.isInteger(count) || count < 1 || count > this.uncomputedTokens) {
      throw new RangeError(`count must be in [1, ${this.uncomputedTokens}], got ${count}`);
    }
    const complete = count === this.uncomputedTokens;
    if (complete !== (sampled !== null)) {
      throw new RangeError(
        complete
          ? 'a step that reaches the last token must sample'
          : 'only a step that reaches the last token may sample',
      );
    }
    this.#computedTokens += count;
    if (sampled !== null) this.#outputTokens.push(sampled);
  }
}
