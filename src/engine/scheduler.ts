/**
 * The continuous-batching scheduler (vLLM v1's `Scheduler.schedule`, fcfs or priority policy, no
 * preemption): a plain synchronous data structure that turns the waiting queue and the running
 * set into one step plan, and keeps KV sequences and their cleanup in order.
 *
 * Owns: the waiting queue (arrival order, or by priority then arrival), the running set, the
 * sequence pool, KV admission and the list of sequences whose KV cells must be removed before
 * they can be reused. It never touches the backend: the engine executes the plan, removes the KV
 * cells of `sequencesToFree()` while no decode is in flight, and reports back with
 * `sequenceFreed`.
 *
 * One step, within maxNumBatchedTokens tokens: (1) every running request past its prompt decodes
 * one token; (2) running requests still prefilling get prompt chunks, in arrival order; (3) waiting
 * requests are admitted in queue order while a sequence is free, fewer than maxNumSeqs run, the KV
 * admits the head of the queue and tokens are left, and get their first chunk. The head of the
 * queue is never overtaken.
 *
 * Shared prompts (the `n` samples of one prompt): a request added with a leader that has the same
 * prompt waits parked beside the queue; the leader computes all of its prompt but the last token,
 * then `forkParked` admits the parked siblings (as many as fit; the rest go back to the head of
 * the queue and prefill on their own) so the engine can copy the leader's KV cells into theirs.
 * From there each feeds the last prompt token itself and samples its own first token.
 */
import type { KvAdmission } from './kv-admission.ts';
import type { RequestState } from './request-state.ts';
import { SequencePool } from './sequence-pool.ts';

/** The scheduler's limits (validated by `validateEngineConfig`) and policy. */
export interface SchedulerConfig {
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  /** Absent: fcfs. */
  readonly schedulingPolicy?: 'fcfs' | 'priority';
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

/** A parked sibling admitted next to its leader: the engine copies the leader's KV into it. */
export interface Fork {
  readonly leader: RequestState;
  readonly child: RequestState;
}

/** Everything one decode executes: decode chunks first, then prefill chunks. */
export interface StepPlan {
  readonly chunks: readonly ScheduledChunk[];
  readonly tokenCount: number;
}

/** The sequences a running beam search holds beyond its live beams. */
interface BeamReservation {
  readonly spares: number[];
  ended: boolean;
}

/** Whether `leader` can still share its prompt with `request` (see Scheduler.add). */
function canLead(leader: RequestState, request: RequestState): boolean {
  const prompt = leader.promptTokens;
  return (
    leader.status === 'waiting' &&
    leader.computedTokens === 0 &&
    prompt.length >= 2 &&
    prompt.length === request.promptTokens.length &&
    prompt.every((token, i) => token === request.promptTokens[i])
  );
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
  /** Leaders -> the siblings parked until the leader's prompt (but its last token) is computed. */
  readonly #parked = new Map<RequestState, RequestState[]>();
  /** Parked sibling -> its leader. */
  readonly #leaderOf = new Map<RequestState, RequestState>();
  /** Waiting beam searches -> their width (the sequences they take at admission). */
  readonly #beamWidth = new Map<RequestState, number>();
  /** Every running beam of a beam search -> the search's reservation. */
  readonly #beamOf = new Map<RequestState, BeamReservation>();
  /** Sequences of retired beams, until their cells are removed: they go back to the search. */
  readonly #returning = new Map<number, BeamReservation>();
  /** Spare sequences held by running beam searches (they count against maxNumSeqs). */
  #spares = 0;

  constructor(config: SchedulerConfig, admission: KvAdmission) {
    if (config.maxNumSeqs > config.maxNumBatchedTokens) {
      throw new RangeError('maxNumSeqs must not exceed maxNumBatchedTokens');
    }
    this.#config = config;
    this.#admission = admission;
    this.#pool = new SequencePool(config.maxNumSeqs);
  }

  get waitingCount(): number {
    return this.#waiting.length + this.#leaderOf.size;
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

  /**
   * Queue a new request at the back, or park it beside `sharesPromptWith` (a request added just
   * before, still waiting, with the same prompt of at least 2 tokens) to copy its prompt's KV.
   * Returns whether it was parked. A beam search (`beamWidth` > 1) is admitted only with
   * `beamWidth` sequences free: one for its first beam, the rest held for the beams it forks.
   */
  add(request: RequestState, sharesPromptWith: RequestState | null = null, beamWidth = 1): boolean {
    if (request.status !== 'waiting' || request.computedTokens !== 0) {
      throw new Error(`request ${request.id} is not new`);
    }
    if (beamWidth > this.#config.maxNumSeqs) {
      throw new RangeError(
        `a beam search of width ${beamWidth} needs more than maxNumSeqs=${this.#config.maxNumSeqs} sequences`,
      );
    }
    if (beamWidth > 1) {
      this.#beamWidth.set(request, beamWidth);
      this.#enqueue(request);
      return false;
    }
    const leader = sharesPromptWith;
    if (leader !== null && canLead(leader, request)) {
      const siblings = this.#parked.get(leader) ?? [];
      siblings.push(request);
      this.#parked.set(leader, siblings);
      this.#leaderOf.set(request, leader);
      leader.heldBackTokens = 1;
      return true;
    }
    this.#enqueue(request);
    return false;
  }

  /**
   * Queue at the back (fcfs), or (priority policy) behind every waiting request of a lower or
   * equal priority value: lower values first, arrival order among equals.
   */
  #enqueue(request: RequestState): void {
    if (this.#config.schedulingPolicy !== 'priority') {
      this.#waiting.push(request);
      return;
    }
    let at = this.#waiting.length;
    while (at > 0 && this.#waiting[at - 1]!.priority > request.priority) at--;
    this.#waiting.splice(at, 0, request);
  }

  /**
   * Admit the parked siblings of every leader whose prompt is computed but for its last token,
   * as far as sequences, maxNumSeqs and the KV admit them; the others return to the head of the
   * queue (they prefill on their own). The leader's last prompt token is released. The engine
   * must copy each fork's leader KV into the child's sequence and call adoptComputedPrompt.
   */
  forkParked(): Fork[] {
    const forks: Fork[] = [];
    for (const [leader, siblings] of this.#parked) {
      if (leader.status !== 'running' || leader.schedulableTokens > 0) continue;
      this.#parked.delete(leader);
      leader.heldBackTokens = 0;
      const left: RequestState[] = [];
      for (const child of siblings) {
        this.#leaderOf.delete(child);
        if (left.length === 0 && this.#canAdmitNow(child)) {
          this.#admit(child);
          forks.push({ leader, child });
        } else {
          left.push(child);
        }
      }
      this.#waiting.unshift(...left);
    }
    return forks;
  }

  #canAdmitNow(request: RequestState): boolean {
    const sequences = this.#beamWidth.get(request) ?? 1;
    return (
      this.#running.length + this.#spares + sequences <= this.#config.maxNumSeqs &&
      this.#pool.freeCount >= sequences &&
      this.#admission.canAdmit(request, sequences)
    );
  }

  /** Give `request` a sequence and its KV reservation (a beam search its spares too). */
  #admit(request: RequestState): void {
    const sequenceId = this.#pool.acquire()!;
    this.#admission.admit(sequenceId, request);
    request.status = 'running';
    request.sequenceId = sequenceId;
    this.#running.push(request);
    const width = this.#beamWidth.get(request);
    if (width === undefined) return;
    this.#beamWidth.delete(request);
    const reservation: BeamReservation = { spares: [], ended: false };
    for (let i = 1; i < width; i++) {
      const spare = this.#pool.acquire()!;
      this.#admission.admit(spare, request);
      reservation.spares.push(spare);
    }
    this.#spares += width - 1;
    this.#beamOf.set(request, reservation);
  }

  /**
   * A beam search forks `child` (new) from its live beam `parent`: the child runs on one of the
   * search's spare sequences. The engine then copies the parent's KV into it.
   */
  forkBeam(parent: RequestState, child: RequestState): void {
    const reservation = this.#beamOf.get(parent);
    const spare = reservation?.spares.pop();
    if (reservation === undefined || spare === undefined) {
      throw new Error(`beam ${parent.id} has no spare sequence to fork into`);
    }
    this.#spares--;
    child.status = 'running';
    child.sequenceId = spare;
    this.#running.push(child);
    this.#beamOf.set(child, reservation);
  }

  /**
   * A live beam of a running search has no continuation: it leaves the batch and its sequence
   * returns to the search's spares once its cells are removed (sequencesToFree).
   */
  retireBeam(beam: RequestState): void {
    const reservation = this.#beamOf.get(beam);
    if (reservation === undefined) throw new Error(`request ${beam.id} is not a beam`);
    this.#beamOf.delete(beam);
    this.release(beam);
    this.#returning.set(beam.sequenceId!, reservation);
  }

  /**
   * The beam search `anyBeam` belongs to is over: its spares return to the pool now; its live
   * beams are released by the engine (`release`) and go back to the pool as usual.
   */
  endBeamSearch(anyBeam: RequestState): void {
    const reservation = this.#beamOf.get(anyBeam);
    if (reservation === undefined || reservation.ended) return;
    reservation.ended = true;
    for (const [beam, owner] of this.#beamOf) if (owner === reservation) this.#beamOf.delete(beam);
    for (const spare of reservation.spares) {
      this.#admission.free(spare);
      this.#pool.release(spare);
    }
    this.#spares -= reservation.spares.length;
    reservation.spares.length = 0;
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
      const count = Math.min(budget, request.schedulableTokens);
      if (count === 0) continue; // a leader waiting for its siblings to fork
      chunks.push(this.#chunk(request, count));
      budget -= count;
    }
    while (budget > 0) {
      const head = this.#waiting[0];
      if (head === undefined || !this.#canAdmitNow(head)) break;
      this.#waiting.shift();
      this.#admit(head);
      const count = Math.min(budget, head.schedulableTokens);
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
    this.#beamWidth.delete(request);
    const leader = this.#leaderOf.get(request);
    if (leader !== undefined) {
      this.#leaderOf.delete(request);
      const siblings = this.#parked.get(leader)!;
      siblings.splice(siblings.indexOf(request), 1);
      if (siblings.length === 0) {
        this.#parked.delete(leader);
        leader.heldBackTokens = 0;
      }
      request.status = 'finished';
      return;
    }
    const siblings = this.#parked.get(request);
    if (siblings !== undefined) {
      // The leader leaves before the fork: its siblings prefill on their own, first in line.
      this.#parked.delete(request);
      for (const sibling of siblings) this.#leaderOf.delete(sibling);
      this.#waiting.unshift(...siblings);
    }
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
    const reservation = this.#returning.get(sequenceId);
    this.#returning.delete(sequenceId);
    if (reservation !== undefined && !reservation.ended) {
      reservation.spares.push(sequenceId);
      this.#spares++;
      return;
    }
    this.#admission.free(sequenceId);
    this.#pool.release(sequenceId);
  }
}
