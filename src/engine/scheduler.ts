/**
 * The continuous-batching scheduler (vLLM v1's `Scheduler.schedule`, fcfs or priority policy,
 * preemption by recomputation): a plain synchronous data structure that turns the waiting queue
 * and the running set into one step plan.
 *
 * Owns: the waiting queue (arrival order, or by priority then arrival), the running set, and the
 * requests' use of the KV memory (`KvCacheManager`: which sequence a request holds, prefix reuse
 * at admission, blocks before each chunk). It never touches the backend: the engine applies the
 * manager's queued KV operations while no decode is in flight, executes the plan, and confirms it
 * (`KvCacheManager.commitStep`).
 *
 * One step, within maxNumBatchedTokens tokens: (1) every running request whose next token is its
 * last known one decodes it; (2) running requests with more to compute (a prompt, or a preempted
 * request's prompt and output) get chunks, in running order; (3) unless this step preempted,
 * waiting requests are admitted in queue order while fewer than maxNumSeqs run, a sequence id is
 * available and the KV has room for their first chunk; each reuses the longest cached prefix of
 * its tokens, and one whose prefix a running request is still computing waits for it. The head
 * of the queue is never overtaken. While requests decode, the chunks of long prompts share what
 * the `PrefillLimiter` allows (the latency bound); short prompts go whole. Chunks go to the
 * backend in ascending sequence id (see PlanBuilder.build). When a running request's chunk finds no
 * room (unified KV, cached sequences already evicted), the newest running request (priority
 * policy: the lowest priority, then the latest arrival) is preempted: its KV is cached and may be
 * evicted, it goes back to the front of the queue and later recomputes (or finds cached) its
 * tokens. Beams of a beam search are never preempted.
 *
 * Shared prompts (the `n` samples of one prompt): a request added with a leader that has the same
 * prompt waits parked beside the queue; the leader computes all of its prompt but the last token,
 * then `forkParked` admits the parked siblings (as many as fit; the rest go back to the head of
 * the queue and prefill on their own) with a copy of the leader's KV. From there each feeds the
 * last prompt token itself and samples its own first token.
 */
import type { KvCacheManager } from './kv-cache-manager.ts';
import type { PrefillLimiter } from './prefill-limiter.ts';
import type { RequestState } from './request-state.ts';
import { PlanBuilder, type StepPlan } from './step-plan.ts';

export type { ScheduledChunk, StepPlan } from './step-plan.ts';

/** The scheduler's limits (validated by `validateEngineConfig`) and policy. */
export interface SchedulerConfig {
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  /** Absent: fcfs. */
  readonly schedulingPolicy?: 'fcfs' | 'priority';
}

/** A parked sibling admitted next to its leader, holding a copy of the leader's KV. */
export interface Fork {
  readonly leader: RequestState;
  readonly child: RequestState;
}

/** Counters since the scheduler was made (vLLM's prefix cache and preemption statistics). */
export interface SchedulerCounters {
  /** Tokens of requests that looked up the prefix cache at their start. */
  readonly prefixCacheQueries: number;
  /** Of those, tokens found cached (not computed). */
  readonly prefixCacheHits: number;
  readonly preemptions: number;
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
  readonly #kv: KvCacheManager;
  readonly #prefillLimiter: Pick<PrefillLimiter, 'limit' | 'isLongPrompt'> | null;
  /** Requests whose prompt the latency bound cut: it stays bounded until they are computed. */
  readonly #spreading = new Set<RequestState>();
  readonly #waiting: RequestState[] = [];
  /** In admission order. */
  readonly #running: RequestState[] = [];
  /** Leaders -> the siblings parked until the leader's prompt (but its last token) is computed. */
  readonly #parked = new Map<RequestState, RequestState[]>();
  /** Parked sibling -> its leader. */
  readonly #leaderOf = new Map<RequestState, RequestState>();
  /** Waiting beam searches -> their width (the sequences they take at admission). */
  readonly #beamWidth = new Map<RequestState, number>();
  /** Every running beam of a beam search -> the search's reservation. */
  readonly #beamOf = new Map<RequestState, BeamReservation>();
  /** Spare sequences held by running beam searches (they count against maxNumSeqs). */
  #spares = 0;
  /** Requests preempted since the engine last asked (`takePreempted`). */
  #preempted: RequestState[] = [];
  #arrivals = 0;
  readonly #arrival = new WeakMap<RequestState, number>();
  #prefixCacheQueries = 0;
  #prefixCacheHits = 0;
  #preemptions = 0;

  /**
   * `prefillLimiter` bounds the prompt tokens of a step that has decode rows (see
   * PrefillLimiter); null: only maxNumBatchedTokens bounds them.
   */
  constructor(
    config: SchedulerConfig,
    kv: KvCacheManager,
    prefillLimiter: Pick<PrefillLimiter, 'limit' | 'isLongPrompt'> | null = null,
  ) {
    if (config.maxNumSeqs > config.maxNumBatchedTokens) {
      throw new RangeError('maxNumSeqs must not exceed maxNumBatchedTokens');
    }
    this.#config = config;
    this.#kv = kv;
    this.#prefillLimiter = prefillLimiter;
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

  get counters(): SchedulerCounters {
    return {
      prefixCacheQueries: this.#prefixCacheQueries,
      prefixCacheHits: this.#prefixCacheHits,
      preemptions: this.#preemptions,
    };
  }

  /** The requests preempted since the last call (the engine resets their per-run state). */
  takePreempted(): RequestState[] {
    const preempted = this.#preempted;
    this.#preempted = [];
    return preempted;
  }

  /**
   * Queue a new request at the back, or park it beside `sharesPromptWith` (a request added just
   * before, still waiting, with the same prompt of at least 2 tokens) to copy its prompt's KV.
   * Returns whether it was parked. A beam search (`beamWidth` > 1) is admitted only with
   * `beamWidth` sequences available: one for its first beam, the rest held for the beams it forks.
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
    this.#arrival.set(request, this.#arrivals++);
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
   * Queue `request`: fcfs at the back (a preempted one at the front); priority policy by
   * priority, then arrival.
   */
  #enqueue(request: RequestState): void {
    if (this.#config.schedulingPolicy !== 'priority') {
      if (request.preemptions > 0) this.#waiting.unshift(request);
      else this.#waiting.push(request);
      return;
    }
    let at = this.#waiting.length;
    while (at > 0 && this.#before(request, this.#waiting[at - 1]!)) at--;
    this.#waiting.splice(at, 0, request);
  }

  /** Priority order: lower priority value first, then earlier arrival. */
  #before(a: RequestState, b: RequestState): boolean {
    if (a.priority !== b.priority) return a.priority < b.priority;
    return this.#arrival.get(a)! < this.#arrival.get(b)!;
  }

  /**
   * Admit the parked siblings of every leader whose prompt is computed but for its last token,
   * as far as sequences, maxNumSeqs and the KV admit them, each with a copy of the leader's KV
   * (queued in the KV manager); the others return to the head of the queue (they prefill on
   * their own). The leader's last prompt token is released.
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
        const sequenceId =
          left.length === 0 && this.#canAdmitNow(child) ? this.#kv.acquire() : null;
        if (sequenceId !== null && this.#kv.fork(leader.sequenceId!, sequenceId)) {
          this.#admit(child, sequenceId);
          child.adoptComputedPrompt(leader.computedTokens);
          forks.push({ leader, child });
        } else {
          if (sequenceId !== null) this.#kv.release(sequenceId, false);
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
      this.#kv.availableSequences() >= sequences
    );
  }

  /** `request` runs on `sequenceId` from now on (a beam search takes its spares too). */
  #admit(request: RequestState, sequenceId: number): void {
    request.status = 'running';
    request.sequenceId = sequenceId;
    this.#running.push(request);
    const width = this.#beamWidth.get(request);
    if (width === undefined) return;
    this.#beamWidth.delete(request);
    const reservation: BeamReservation = { spares: [], ended: false };
    for (let i = 1; i < width; i++) reservation.spares.push(this.#kv.acquire()!);
    this.#spares += width - 1;
    this.#beamOf.set(request, reservation);
  }

  /**
   * A beam search forks `child` (new) from its live beam `parent`: the child runs on one of the
   * search's spare sequences, with a copy of the parent's KV (queued in the KV manager). Unified
   * KV without room for the copy preempts other requests first.
   */
  forkBeam(parent: RequestState, child: RequestState): void {
    const reservation = this.#beamOf.get(parent);
    const spare = reservation?.spares.pop();
    if (reservation === undefined || spare === undefined) {
      throw new Error(`beam ${parent.id} has no spare sequence to fork into`);
    }
    while (!this.#kv.fork(parent.sequenceId!, spare)) {
      const victim = this.#victim();
      if (victim === null) {
        reservation.spares.push(spare);
        throw new Error('the KV cache has no room for a beam, even without other requests');
      }
      this.#preempt(victim, null);
    }
    this.#spares--;
    child.status = 'running';
    child.sequenceId = spare;
    this.#running.push(child);
    this.#beamOf.set(child, reservation);
  }

  /**
   * A live beam of a running search has no continuation: it leaves the batch, its sequence is
   * cleared and returns to the search's spares.
   */
  retireBeam(beam: RequestState): void {
    const reservation = this.#beamOf.get(beam);
    if (reservation === undefined) throw new Error(`request ${beam.id} is not a beam`);
    this.#beamOf.delete(beam);
    this.#running.splice(this.#running.indexOf(beam), 1);
    this.#kv.clear(beam.sequenceId!);
    reservation.spares.push(beam.sequenceId!);
    this.#spares++;
    beam.status = 'finished';
  }

  /**
   * The beam search `anyBeam` belongs to is over: its spares are released now; its live beams
   * are released by the engine (`release`).
   */
  endBeamSearch(anyBeam: RequestState): void {
    const reservation = this.#beamOf.get(anyBeam);
    if (reservation === undefined || reservation.ended) return;
    reservation.ended = true;
    for (const [beam, owner] of this.#beamOf) if (owner === reservation) this.#beamOf.delete(beam);
    for (const spare of reservation.spares) this.#kv.release(spare, false);
    this.#spares -= reservation.spares.length;
    reservation.spares.length = 0;
  }

  /** Plan the next step. Admits waiting requests (they are running from now on). */
  schedule(): StepPlan {
    const plan = new PlanBuilder(this.#config.maxNumBatchedTokens);
    const preemptedBefore = this.#preemptions;
    for (const request of [...this.#running]) {
      if (plan.budget === 0) break;
      if (request.status !== 'running' || request.uncomputedTokens !== 1) continue;
      if (request.heldBackTokens !== 0) continue;
      this.#planChunk(plan, request, 1);
    }
    // Prompt chunks (and preempted requests' recomputation) share what is left, within the
    // latency bound while requests decode.
    for (const request of this.#spreading) {
      if (request.status !== 'running' || !request.isPrefilling) this.#spreading.delete(request);
    }
    plan.limitLongPrompts(this.#prefillLimiter?.limit(plan.size) ?? Infinity);
    for (const request of [...this.#running]) {
      if (plan.budget === 0) break;
      if (request.status !== 'running' || plan.has(request)) continue;
      const count = Math.min(this.#promptBudget(plan, request), request.schedulableTokens);
      if (count === 0) continue; // a leader waiting for its siblings to fork
      this.#planChunk(plan, request, count);
    }
    // As vLLM: a step that had to preempt admits nobody.
    while (plan.budget > 0 && this.#preemptions === preemptedBefore) {
      const head = this.#waiting[0];
      if (head === undefined || !this.#canAdmitNow(head) || !this.#start(plan, head)) break;
    }
    return plan.build();
  }

  /**
   * What `request`'s next chunk may take: a long prompt (one whose rest takes longer than the
   * limiter lets a single step run, or one already being spread) is held to the latency bound;
   * a short one goes whole, as splitting it would cost more steps than the gap it saves.
   */
  #promptBudget(plan: PlanBuilder, request: RequestState, tokens = request.schedulableTokens) {
    return this.#isLongPrompt(request, tokens) ? plan.longBudget : plan.budget;
  }

  #isLongPrompt(request: RequestState, tokens: number): boolean {
    return this.#spreading.has(request) || (this.#prefillLimiter?.isLongPrompt(tokens) ?? false);
  }

  /**
   * Plan `count` tokens of the running `request`, making room in the KV first; without room,
   * preempt (possibly `request` itself, which then gets no chunk).
   */
  #planChunk(plan: PlanBuilder, request: RequestState, count: number): void {
    while (!this.#kv.grow(request.sequenceId!, request.computedTokens + count)) {
      const victim = this.#victim();
      if (victim === null) return; // only beams run and the pool is full: they wait
      this.#preempt(victim, plan);
      if (victim === request) return;
    }
    this.#addChunk(plan, request, count);
  }

  /**
   * Admit the head of the queue if a sequence and room for its first chunk are there: reuse the
   * longest cached prefix of its tokens (all but the last), then plan its first chunk.
   */
  #start(plan: PlanBuilder, head: RequestState): boolean {
    const tokens = head.allTokens();
    if (this.#awaitsPrefix(head, tokens)) return false;
    if (plan.longBudget === 0 && this.#prefillLimiter !== null) {
      // A long prompt with no room under the latency bound left this step starts next step
      // (checked before `start`, which may copy a cached prefix).
      const cached = head.readsCache
        ? (this.#kv.lookup(tokens, tokens.length - 1)?.length ?? 0)
        : 0;
      if (this.#isLongPrompt(head, tokens.length - cached - head.heldBackTokens)) return false;
    }
    const start = this.#kv.start(tokens, tokens.length - 1, head.readsCache);
    if (start === null) return false;
    const { sequenceId, cachedTokens } = start;
    const rest = tokens.length - cachedTokens - head.heldBackTokens;
    const count = Math.min(this.#promptBudget(plan, head, rest), rest);
    if (count === 0 && rest > 0) {
      // No room this step (a long prompt beyond the latency bound): it starts next step.
      this.#kv.release(sequenceId, true);
      return false;
    }
    if (count > 0 && !this.#kv.grow(sequenceId, cachedTokens + count)) {
      this.#kv.release(sequenceId, true); // what it copied stays cached
      return false;
    }
    this.#waiting.shift();
    this.#admit(head, sequenceId);
    head.adoptCachedTokens(cachedTokens);
    if (head.readsCache) {
      this.#prefixCacheQueries += tokens.length;
      this.#prefixCacheHits += cachedTokens;
    }
    head.cachedPromptTokens ??= Math.min(cachedTokens, head.promptTokens.length);
    if (count > 0) this.#addChunk(plan, head, count);
    return true;
  }

  /**
   * Whether `head` should wait for a prefix a running request is computing right now: when that
   * request's prompt shares at least one more block with `head` than the cache holds and it has
   * not computed it yet, `head` starts once it has (then copies the prefix instead of computing
   * it a second time). The concurrent requests of a shared system prompt compute it once.
   */
  #awaitsPrefix(head: RequestState, tokens: readonly number[]): boolean {
    const blockSize = this.#kv.blockSize;
    if (!head.readsCache || !this.#kv.config.prefixCaching || tokens.length <= blockSize) {
      return false;
    }
    const limit = tokens.length - 1;
    let shared = 0;
    for (const running of this.#running) {
      if (!running.isPrefilling || !running.readsCache) continue;
      const prompt = running.promptTokens;
      const end = Math.min(limit, prompt.length);
      let common = 0;
      while (common < end && prompt[common] === tokens[common]) common++;
      if (common > running.computedTokens) shared = Math.max(shared, common);
    }
    if (shared < blockSize) return false;
    const cached = this.#kv.lookup(tokens, limit)?.length ?? 0;
    return shared - cached >= blockSize;
  }

  #addChunk(plan: PlanBuilder, request: RequestState, count: number): void {
    const long = request.isPrefilling && this.#isLongPrompt(request, request.schedulableTokens);
    if (long && count < request.schedulableTokens) this.#spreading.add(request);
    const tokens = request.nextTokens(count);
    this.#kv.append(request.sequenceId!, tokens);
    plan.add(
      {
        request,
        sequenceId: request.sequenceId!,
        startPosition: request.computedTokens,
        tokens,
        samples: count === request.uncomputedTokens,
      },
      long,
    );
  }

  /**
   * The running request to preempt: the newest admitted (priority policy: the lowest priority,
   * then the latest arrival); never a beam. Null when only beams run.
   */
  #victim(): RequestState | null {
    let victim: RequestState | null = null;
    for (let i = this.#running.length - 1; i >= 0; i--) {
      const request = this.#running[i]!;
      if (this.#beamOf.has(request)) continue;
      if (this.#config.schedulingPolicy !== 'priority') return request;
      if (victim === null || this.#before(victim, request)) victim = request;
    }
    return victim;
  }

  /** Preempt `request`: drop its planned chunk, cache its KV, queue it again. */
  #preempt(request: RequestState, plan: PlanBuilder | null): void {
    plan?.drop(request);
    this.#running.splice(this.#running.indexOf(request), 1);
    this.#kv.release(request.sequenceId!, true);
    request.preempt();
    this.#preemptions++;
    this.#preempted.push(request);
    this.#enqueue(request);
  }

  /**
   * Take a finished, failed or aborted request out of the queue or the running set. Its KV stays
   * cached for prefix reuse when `keepKv` (the default: what it computed is valid), else it is
   * removed (a failed step's cells are not trusted).
   */
  release(request: RequestState, keepKv = true): void {
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
    if (request.status === 'running') this.#kv.release(request.sequenceId!, keepKv);
    request.status = 'finished';
  }
}
