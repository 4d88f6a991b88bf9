/**
 * The continuous-batching scheduler (vLLM v1's `Scheduler.schedule`, FIFO policy, no preemption):
 * a plain synchronous data structure that turns the waiting queue and the running set into one
 * step plan, and keeps KV sequences and their cleanup in order.
 *
 * Owns: the waiting FIFO, the running set, the sequence pool, KV admission and the list of
 * sequences whose KV cells must be removed before they can be reused. It never touches the
 * backend: the engine executes the plan, removes the KV cells of `sequencesToFree()` while no
 * decode is in flight, and reports back with `sequenceFreed`.
 *
 * One step, within maxNumBatchedTokens tokens: (1) every running request past its prompt decodes
 * one token; (2) running requests still prefilling get prompt chunks, in arrival order; (3) waiting
 * requests are admitted in FIFO order while a sequence is free, fewer than maxNumSeqs run, the KV
 * admits the head of the queue and tokens are left, and get their first chunk. The head of the
 * queue is never overtaken.
 */
import type { KvAdmission } from './kv-admission.ts';
import type { RequestState } from './request-state.ts';
import { SequencePool } from './sequence-pool.ts';

/** The scheduler's limits (validated by `validateEngineConfig`). */
export interface SchedulerConfig {
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
}

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

/** Everything one decode executes: decode chunks first, then prefill chunks. */
export interface StepPlan {
  readonly chunks: readonly ScheduledChunk[];
  readonly tokenCount: number;
}

export class Scheduler {
  readonly #config: SchedulerConfig;
  readonly #admission: KvAdmission;
  readonly #pool: SequencePool;
  readonly #waiting: RequestState[] = [];
  /** In admission order. */
  readonly #running: RequestState[] = [];
  /** Released sequences whose KV cells are still in the cache: id -> cells they hold. */
  readonly #toFree = new Map<number, number>();

  constructor(config: SchedulerConfig, admission: KvAdmission) {
    if (config.maxNumSeqs > config.maxNumBatchedTokens) {
      throw new RangeError('maxNumSeqs must not exceed maxNumBatchedTokens');
    }
    this.#config = config;
    this.#admission = admission;
    this.#pool = new SequencePool(config.maxNumSeqs);
  }

  get waitingCount(): number {
    return this.#waiting.length;
  }

  get runningCount(): number {
    return this.#running.length;
  }

  /** Whether a step has anything to do. */
  get hasWork(): boolean {
    return this.#waiting.length > 0 || this.#running.length > 0;
  }

  /** Sequence ids neither running nor awaiting KV cleanup. */
  get freeSequences(): number {
    return this.#pool.freeCount;
  }

  /** KV cells held: running requests' computed tokens plus released sequences not yet freed. */
  get cellsHeld(): number {
    let cells = 0;
    for (const request of this.#running) cells += request.computedTokens;
    for (const held of this.#toFree.values()) cells += held;
    return cells;
  }

  /** Queue a new request at the back. */
  add(request: RequestState): void {
    if (request.status !== 'waiting' || request.computedTokens !== 0) {
      throw new Error(`request ${request.id} is not new`);
    }
    this.#waiting.push(request);
  }

  /** Plan the next step. Admits waiting requests (they are running from now on). */
  schedule(): StepPlan {
    const chunks: ScheduledChunk[] = [];
    let budget = this.#config.maxNumBatchedTokens;
    for (const request of this.#running) {
      if (request.isPrefilling) continue;
      chunks.push(this.#chunk(request, 1));
      budget -= 1;
    }
    for (const request of this.#running) {
      if (budget === 0) break;
      if (!request.isPrefilling) continue;
      const count = Math.min(budget, request.uncomputedTokens);
      chunks.push(this.#chunk(request, count));
      budget -= count;
    }
    while (budget > 0 && this.#running.length < this.#config.maxNumSeqs) {
      const head = this.#waiting[0];
      if (head === undefined || this.#pool.freeCount === 0 || !this.#admission.canAdmit(head)) {
        break;
      }
      this.#waiting.shift();
      const sequenceId = this.#pool.acquire()!;
      this.#admission.admit(sequenceId, head);
      head.status = 'running';
      head.sequenceId = sequenceId;
      this.#running.push(head);
      const count = Math.min(budget, head.uncomputedTokens);
      chunks.push(this.#chunk(head, count));
      budget -= count;
    }
    return { chunks, tokenCount: this.#config.maxNumBatchedTokens - budget };
  }

  #chunk(request: RequestState, count: number): ScheduledChunk {
    return {
      request,
      sequenceId: request.sequenceId!,
      startPosition: request.computedTokens,
      tokens: request.nextTokens(count),
      samples: count === request.uncomputedTokens,
    };
  }

  /**
   * Take a finished, failed or aborted request out of the queue or the running set. Its sequence
   * (if it had one) waits in `sequencesToFree()` until the engine removed its KV cells.
   */
  release(request: RequestState): void {
    if (request.status === 'finished') return;
    const queue = request.status === 'waiting' ? this.#waiting : this.#running;
    const index = queue.indexOf(request);
    if (index < 0) throw new Error(`request ${request.id} is not ${request.status}`);
    queue.splice(index, 1);
    if (request.status === 'running') this.#toFree.set(request.sequenceId!, request.computedTokens);
    request.status = 'finished';
  }

  /** Sequences released but still holding KV cells, in release order. */
  sequencesToFree(): number[] {
    return [...this.#toFree.keys()];
  }

  /** The engine removed `sequenceId`'s KV cells: the id and its reservation are free again. */
  sequenceFreed(sequenceId: number): void {
    if (!this.#toFree.delete(sequenceId)) {
      throw new Error(`sequence ${sequenceId} was not awaiting cleanup`);
    }
    this.#admission.free(sequenceId);
    this.#pool.release(sequenceId);
  }
}
