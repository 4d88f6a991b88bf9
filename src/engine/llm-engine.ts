/**
 * The async engine (vLLM's engine core loop over our scheduler): requests in, per-request output
 * streams out, one batched backend decode per step.
 *
 * Owns: the step loop and its threading rule. The loop runs while there is work and stops when
 * there is none (an `add` restarts it; no polling). Each step: remove the KV cells of released
 * sequences, schedule, execute ONE `backend.decode`, process its rows into outputs. KV operations
 * happen only while no decode is in flight: an abort during a decode ends the request's stream
 * at once, and its cells are removed as soon as the decode returns. A rejected decode fails the
 * requests of that step only (a batch fails together); the engine serves the rest. A failure of
 * one request's own work (building its rows, its grammar, its output processor) fails that
 * request alone: the step goes on without it.
 */
import type {
  DecodeRequest,
  DecodeResult,
  ModelBackend,
  RowResult,
  SequenceChunk,
} from '../backend/model-backend.ts';
import { checkAdmission, DEFAULT_MAX_WAITING_REQUESTS } from './admission.ts';
import { BeamSearchRun } from './beam-search-run.ts';
import {
  DEFAULT_BLOCK_SIZE,
  DEFAULT_STEP_LATENCY_FACTOR,
  validateEngineConfig,
  type EngineConfig,
} from './engine-config.ts';
import {
  EngineOverloadedError,
  EngineRequestError,
  type BeamSearchSettings,
  type EngineClient,
  type EngineRequest,
  type EngineStats,
  type RequestOutput,
} from './engine-types.ts';
import { KvCacheManager } from './kv-cache-manager.ts';
import { LiveRequest } from './live-request.ts';
import { PrefillLimiter } from './prefill-limiter.ts';
import { monotonicMs, type EngineMetricsSink } from './request-clock.ts';
import type { RequestState } from './request-state.ts';
import { validateEngineRequest } from './request-validation.ts';
import { GrammarMatchers } from './structured-output.ts';
import { RequestSeedSource } from './row-sampling.ts';
import { Scheduler, type ScheduledChunk, type StepPlan } from './scheduler.ts';
import { StepTimer, type StepTimingSummary } from './step-timer.ts';

/** Where a request the engine holds is (`LlmEngine.requestPhase`). */
export type RequestPhase = 'waiting' | 'prefilling' | 'decoding';

/** A chunk's prompt-scoring rows when it has none (no allocation per step). */
const NO_ROWS: readonly RowResult[] = [];

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * vLLM's engine over one ModelBackend: continuous batching with chunked prefill, FIFO admission,
 * per-request output streams. The backend stays the caller's (shutdown does not dispose it).
 */
export class LlmEngine implements EngineClient {
  readonly maxModelLen: number;
  /** The validated limits this engine runs with. */
  readonly config: EngineConfig;
  readonly #backend: ModelBackend;
  readonly #scheduler: Scheduler;
  readonly #kv: KvCacheManager;
  readonly #prefillLimiter: PrefillLimiter;
  readonly #live = new Map<string, LiveRequest>();
  /** Beam searches in flight, by request id. */
  readonly #beamRuns = new Map<string, BeamSearchRun>();
  #steps = 0;
  #decodes = 0;
  #promptTokens = 0;
  /** Prompt tokens copied from a sibling's KV instead of computed. */
  #forkedPromptTokens = 0;
  #generationTokens = 0;
  readonly #stepTimer = new StepTimer();
  #decodeInFlight = false;
  #looping = false;
  #loop: Promise<void> = Promise.resolve();
  #shutDown = false;
  /** A KV operation that failed outside the loop (an abort's cleanup), thrown by the loop. */
  #kvFailure: Error | null = null;
  readonly #seeds: RequestSeedSource;
  /** Token matchers of structured outputs (the vocabulary is built on first use). */
  readonly #grammars: GrammarMatchers;
  /** Where per-step and per-request figures go (vLLM's stat loggers), or null. */
  readonly #metrics: EngineMetricsSink | null;

  /**
   * Throws a RangeError when `config` does not fit `backend.kvLayout` (see EngineConfig).
   * `metrics` receives each step's token counts and each request's latencies (beam searches
   * excepted).
   */
  constructor(
    backend: ModelBackend,
    config: EngineConfig,
    metrics: EngineMetricsSink | null = null,
  ) {
    validateEngineConfig(config, backend.kvLayout);
    this.#backend = backend;
    this.#metrics = metrics;
    this.config = { ...config };
    this.maxModelLen = config.maxModelLen;
    this.#seeds = new RequestSeedSource(config.seed ?? null);
    this.#grammars = new GrammarMatchers(backend.info, backend.tokenizer);
    const layout = backend.kvLayout;
    this.#kv = new KvCacheManager({
      blockSize: config.blockSize ?? DEFAULT_BLOCK_SIZE,
      sequences: layout.maxSequences,
      sharedCells: layout.unified,
      totalCells: layout.totalCells,
      cellsPerSequence: layout.cellsPerSequence,
      prefixCaching: config.enablePrefixCaching ?? true,
    });
    this.#prefillLimiter = new PrefillLimiter(
      config.stepLatencyFactor ?? DEFAULT_STEP_LATENCY_FACTOR,
    );
    this.#scheduler = new Scheduler(config, this.#kv, this.#prefillLimiter);
  }

  /**
   * Queue a request; it joins the running batch at the next step. Throws EngineRequestError (the
   * caller's fault, naming the parameter) at once for a request that can never run or whose id is
   * live, EngineOverloadedError when the engine holds all it may (`maxWaitingRequests`), and
   * Error after shutdown. Stopping the iteration early aborts the request.
   */
  add(request: EngineRequest): AsyncIterable<RequestOutput> {
    this.#checkNewRequest(request);
    this.#admit(1, request.siblings ?? 1);
    const live = new LiveRequest(request, {
      info: this.#backend.info,
      tokenizer: this.#backend.tokenizer,
      maxModelLen: this.maxModelLen,
      seed: request.params.seed ?? this.#seeds.next(),
      grammars: this.#grammars,
      onCancel: () => this.abort(request.id),
    });
    this.#live.set(request.id, live);
    // A request that reports its prompt's logprobs computes its prompt itself.
    const leader =
      request.sharesPromptWith === undefined || request.params.promptLogprobs !== null
        ? undefined
        : this.#live.get(request.sharesPromptWith);
    this.#scheduler.add(live.state, leader?.state ?? null);
    this.#startLoop();
    return live.stream;
  }

  /**
   * Queue a beam search (vLLM's `use_beam_search`, width = `n`): one stream per answer, best
   * first, each getting one output when the search ends. The request's sampling parameters other
   * than temperature, max tokens, ignore_eos, skip_special_tokens and logprobs play no part, as
   * in vLLM. Throws like `add`, and for a width the engine cannot hold.
   */
  addBeamSearch(
    request: EngineRequest,
    options: BeamSearchSettings,
  ): AsyncIterable<RequestOutput>[] {
    this.#checkNewRequest(request);
    const { width, lengthPenalty } = options;
    if (!Number.isInteger(width) || width < 1 || width > this.config.maxNumSeqs) {
      throw new EngineRequestError(
        `The beam width (n=${width}) must be between 1 and max_num_seqs=${this.config.maxNumSeqs}.`,
        'n',
      );
    }
    if (2 * width > this.#backend.info.vocabSize) {
      throw new EngineRequestError(`The beam width (n=${width}) exceeds half the vocabulary.`, 'n');
    }
    if (this.#kv.config.sharedCells) {
      // Beams are never preempted: all of them at full length must fit the unified pool.
      const blockSize = this.#kv.blockSize;
      const perBeam = Math.ceil(
        (request.promptTokens.length + request.params.maxTokens) / blockSize,
      );
      const capacity = this.#kv.usage().capacityBlocks;
      if (width * perBeam > capacity) {
        throw new EngineRequestError(
          `A beam search of n=${width} beams of up to ${perBeam * blockSize} tokens needs ${width * perBeam} KV blocks; the KV cache has ${capacity}. Lower n or max_tokens.`,
          'n',
        );
      }
    }
    if (!Number.isFinite(lengthPenalty)) {
      throw new EngineRequestError(
        `length_penalty must be finite, got ${lengthPenalty}.`,
        'length_penalty',
      );
    }
    // A search takes `width` sequences: it needs as many places as `width` requests.
    this.#admit(width, width * (request.siblings ?? 1));
    const run = new BeamSearchRun(
      request,
      { ...options, eosToken: this.#backend.info.eosToken },
      {
        scheduler: this.#scheduler,
        tokenizer: this.#backend.tokenizer,
        maxModelLen: this.maxModelLen,
      },
      request.params.seed ?? this.#seeds.next(),
      () => this.abort(request.id),
    );
    this.#beamRuns.set(request.id, run);
    this.#scheduler.add(run.firstState, null, width);
    this.#startLoop();
    return [...run.streams];
  }

  /**
   * End a queued or running request now: its stream gets a final `abort` output. Its KV cells are
   * removed at once, or right after the decode in flight returns. No-op for unknown ids.
   */
  abort(requestId: string): void {
    const live = this.#live.get(requestId);
    const run = this.#beamRuns.get(requestId);
    if (live !== undefined) this.#finish(live, live.processor.abortOutput());
    else if (run !== undefined) {
      this.#beamRuns.delete(requestId);
      run.abort();
    } else return;
    if (!this.#decodeInFlight) this.#tryApplyKvOperations();
  }

  /**
   * Where request `requestId` is, or null when the engine does not hold it (never added,
   * finished, aborted): for leak checks and diagnostics. A beam search is `waiting` until
   * admitted, then `decoding`.
   */
  requestPhase(requestId: string): RequestPhase | null {
    const run = this.#beamRuns.get(requestId);
    if (run !== undefined) return run.firstState.status === 'waiting' ? 'waiting' : 'decoding';
    const state = this.#live.get(requestId)?.state;
    if (state === undefined) return null;
    if (state.status !== 'running') return 'waiting';
    return state.isPrefilling ? 'prefilling' : 'decoding';
  }

  /** The requests (and beam searches) the engine holds, queued or running: for leak checks. */
  get liveRequests(): number {
    return this.#live.size + this.#beamRuns.size;
  }

  /** Counts at this instant. */
  stats(): EngineStats {
    const usage = this.#kv.usage();
    const counters = this.#scheduler.counters;
    return {
      running: this.#scheduler.runningCount,
      waiting: this.#scheduler.waitingCount,
      kvUsage: usage.capacityBlocks === 0 ? 0 : usage.runningBlocks / usage.capacityBlocks,
      kvBlocksUsed: usage.usedBlocks,
      kvBlocksTotal: usage.capacityBlocks,
      cachedSequences: usage.cachedSequences,
      prefixCacheQueries: counters.prefixCacheQueries,
      prefixCacheHits: counters.prefixCacheHits,
      preemptions: counters.preemptions,
      steps: this.#steps,
      decodes: this.#decodes,
      promptTokens: this.#promptTokens,
      forkedPromptTokens: this.#forkedPromptTokens,
      generationTokens: this.#generationTokens,
    };
  }

  /**
   * Drop the KV of every cached sequence (vLLM's reset_prefix_cache); running requests keep
   * theirs. The cells go at once, or right after the decode in flight returns.
   */
  resetPrefixCache(): void {
    this.#kv.dropCached();
    if (!this.#decodeInFlight) this.#tryApplyKvOperations();
  }

  /** The step timer's figures since the previous call (see step-timer.ts). */
  drainStepTiming(): StepTimingSummary {
    return this.#stepTimer.drain();
  }

  /**
   * Resolves when the step loop has stopped: no work left, no decode in flight, released KV freed.
   * For tests and orderly shutdown; a later `add` starts the loop again.
   */
  whenIdle(): Promise<void> {
    return this.#loop;
  }

  /**
   * Abort every request, wait for the step in flight, free all KV (cached prefixes too). Does
   * not dispose the backend.
   */
  async shutdown(): Promise<void> {
    this.#shutDown = true;
    for (const requestId of [...this.#live.keys(), ...this.#beamRuns.keys()]) {
      this.abort(requestId);
    }
    await this.#loop;
    // The backend may outlive the engine (and serve another): leave no cached KV in it.
    this.#kv.dropCached();
    this.#applyKvOperations();
  }

  #startLoop(): void {
    if (this.#looping) return;
    this.#looping = true;
    this.#loop = this.#runLoop();
  }

  async #runLoop(): Promise<void> {
    try {
      // Let requests added in the same turn of the event loop join the first step.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#stepTimer.loopStarted();
      for (;;) {
        this.#countForks();
        let plan = this.#scheduler.schedule();
        if (plan.chunks.length === 0 && this.#scheduler.hasWork) {
          // A leader admitted with its whole prompt but the last token cached has nothing to
          // compute before its siblings fork: fork them now and plan again.
          this.#countForks();
          plan = this.#scheduler.schedule();
        }
        this.#resetPreempted();
        this.#applyKvOperations();
        if (plan.chunks.length === 0) {
          if (this.#scheduler.hasWork) throw new Error('the scheduler planned an empty step');
          return;
        }
        await this.#executeStep(plan);
      }
    } catch (error) {
      // A bug, not a request's fault: end every stream rather than leave one hanging.
      this.#failAll(asError(error));
    } finally {
      this.#looping = false;
      // No step follows: the backend's decode threads may sleep instead of polling for one.
      this.#backend.idle();
    }
  }

  async #executeStep(scheduled: StepPlan): Promise<void> {
    const promptRows: number[] = [];
    const { plan, chunks } = this.#backendChunks(scheduled, promptRows);
    // Every request of the step failed while its rows were built: nothing to decode.
    if (chunks.length === 0) return;
    const sampledRows = this.#countStep(plan);
    // When the step's requests count as scheduled (the metrics' queue and prefill times).
    const scheduledAt = this.#metrics === null ? 0 : monotonicMs();
    let expectedRows = 0;
    for (const chunk of chunks) expectedRows += chunk.rows.length;
    this.#decodeInFlight = true;
    let result: DecodeResult;
    try {
      const decoding = this.#backend.decode({ chunks } satisfies DecodeRequest);
      this.#stepTimer.dispatched(sampledRows, plan.tokenCount);
      result = await decoding;
    } catch (error) {
      this.#stepTimer.returned(null);
      this.#failStep(plan, asError(error));
      return;
    } finally {
      this.#decodeInFlight = false;
    }
    this.#stepTimer.returned(result.decodeMs + result.sampleMs);
    this.#kv.commitStep();
    let decodeRows = 0;
    for (const chunk of plan.chunks) {
      // A decode row: one token past the prompt (a one-token prompt chunk is prompt work).
      if (chunk.tokens.length === 1 && !chunk.request.isPrefilling) decodeRows++;
    }
    this.#prefillLimiter.record(
      decodeRows,
      plan.tokenCount - decodeRows,
      result.decodeMs + result.sampleMs,
    );
    if (result.rows.length !== expectedRows) {
      this.#failStep(
        plan,
        new Error(`the backend returned ${result.rows.length} rows, expected ${expectedRows}`),
      );
      return;
    }
    this.#processStep(plan, promptRows, result, scheduledAt);
    this.#advanceBeamSearches();
  }

  /**
   * The step's chunks as the backend takes them, and the plan of those that remain: a request
   * whose rows cannot be built (its constraints or structured output threw) fails alone, its
   * KV cells are dropped (removed once the step's decode returned) and its chunk is left out.
   */
  #backendChunks(
    scheduled: StepPlan,
    promptRows: number[],
  ): { plan: StepPlan; chunks: SequenceChunk[] } {
    const kept: ScheduledChunk[] = [];
    const chunks: SequenceChunk[] = [];
    let tokenCount = 0;
    for (const chunk of scheduled.chunks) {
      const run = this.#beamRunOf(chunk.request);
      const live = run === undefined ? this.#live.get(chunk.request.id) : undefined;
      // A beam of a search that failed earlier in this loop.
      if (run === undefined && live === undefined) continue;
      let built: SequenceChunk;
      try {
        built = this.#sequenceChunk(chunk, promptRows);
      } catch (error) {
        if (run !== undefined) {
          this.#beamRuns.delete(run.id);
          run.fail(asError(error));
        } else this.#fail(live!, asError(error), false);
        continue;
      }
      kept.push(chunk);
      chunks.push(built);
      tokenCount += chunk.tokens.length;
    }
    if (kept.length === scheduled.chunks.length) return { plan: scheduled, chunks };
    // A failed beam search may have kept chunks of its other beams: their results are ignored.
    return { plan: { chunks: kept, tokenCount }, chunks };
  }

  /**
   * A scheduled chunk as the backend takes it: a row scoring the next prompt token after each of
   * its prompt positions when the request asked for prompt logprobs (their count is appended to
   * `promptRows`), then the sampling row when the chunk reaches the last known token.
   */
  #sequenceChunk(chunk: ScheduledChunk, promptRows: number[]): SequenceChunk {
    const run = this.#beamRunOf(chunk.request);
    const { rows, promptRows: count } =
      run === undefined
        ? this.#live.get(chunk.request.id)!.rowsFor(chunk)
        : { rows: chunk.samples ? [run.row(chunk)] : [], promptRows: 0 };
    promptRows.push(count);
    return {
      sequenceId: chunk.sequenceId,
      startPosition: chunk.startPosition,
      tokens: chunk.tokens,
      rows,
    };
  }

  /** Count the step, its decode and its tokens; returns the number of rows it samples. */
  #countStep(plan: StepPlan): number {
    this.#steps++;
    this.#decodes++;
    let rows = 0;
    for (const chunk of plan.chunks) {
      const promptLength = chunk.request.promptTokens.length;
      const promptEnd = Math.min(chunk.startPosition + chunk.tokens.length, promptLength);
      this.#promptTokens += Math.max(0, promptEnd - chunk.startPosition);
      if (chunk.samples) rows++;
    }
    this.#generationTokens += rows;
    return rows;
  }

  /** `scheduledAt`: when the step was planned, for the metrics (the first step counts). */
  #processStep(
    plan: StepPlan,
    promptRows: readonly number[],
    result: DecodeResult,
    scheduledAt: number,
  ): void {
    const metrics = this.#metrics;
    const now = metrics === null ? 0 : monotonicMs();
    let promptTokens = 0;
    let cachedPromptTokens = 0;
    let generationTokens = 0;
    let row = 0;
    for (let c = 0; c < plan.chunks.length; c++) {
      const chunk = plan.chunks[c]!;
      const firstPromptRow = row;
      row += promptRows[c]!;
      const sampleRow = chunk.samples ? result.rows[row++]! : null;
      const run = this.#beamRunOf(chunk.request);
      if (run !== undefined) {
        run.record(chunk.request, chunk.tokens.length, sampleRow);
        continue;
      }
      const live = this.#live.get(chunk.request.id);
      // Aborted while the decode was in flight: its cells are freed before the next schedule.
      if (live === undefined || live.state !== chunk.request) continue;
      if (metrics !== null) live.clock.scheduled(scheduledAt);
      if (metrics !== null && sampleRow !== null) {
        const latency = live.clock.token(now);
        generationTokens++;
        if (latency.first) {
          metrics.timeToFirstToken(latency.seconds);
          promptTokens += chunk.request.promptTokens.length;
          cachedPromptTokens += chunk.request.cachedPromptTokens ?? 0;
        } else {
          metrics.interTokenLatency(latency.seconds);
        }
      }
      try {
        const scored =
          promptRows[c] === 0
            ? NO_ROWS
            : result.rows.slice(firstPromptRow, firstPromptRow + promptRows[c]!);
        const output = live.takeRows(chunk, scored, sampleRow);
        if (output === null) continue;
        if (output.finishReason === null) live.stream.push(output);
        else this.#finish(live, output);
      } catch (error) {
        this.#fail(live, asError(error));
      }
    }
    metrics?.step({ promptTokens, cachedPromptTokens, generationTokens });
  }

  /**
   * What `add` and `addBeamSearch` check first: the engine runs, the request can run, its id is
   * not live, and its priority is allowed (vLLM's refusal without the priority policy).
   */
  #checkNewRequest(request: EngineRequest): void {
    if (this.#shutDown) throw new Error('the engine is shut down');
    validateEngineRequest(request, {
      vocabSize: this.#backend.info.vocabSize,
      maxModelLen: this.maxModelLen,
    });
    if (this.#live.has(request.id) || this.#beamRuns.has(request.id)) {
      throw new EngineRequestError(`Request id ${request.id} already running.`, null);
    }
    const priority = request.priority ?? 0;
    if (!Number.isSafeInteger(priority)) {
      throw new EngineRequestError(`priority must be an integer, got ${priority}.`, 'priority');
    }
    if (priority !== 0 && this.config.schedulingPolicy !== 'priority') {
      throw new EngineRequestError(
        `Got priority ${priority} but Priority scheduling is not enabled.`,
        'priority',
      );
    }
  }

  /**
   * Admission control (see admission.ts): `places` more requests of a call of `callSize`
   * engine requests. Throws EngineOverloadedError (counted as a rejection in the metrics) when
   * the engine holds all it may, EngineRequestError when the call could never fit.
   */
  #admit(places: number, callSize: number): void {
    try {
      checkAdmission(
        {
          running: this.#scheduler.runningCount,
          waiting: this.#scheduler.waitingCount,
          maxNumSeqs: this.config.maxNumSeqs,
          maxWaitingRequests: this.config.maxWaitingRequests ?? DEFAULT_MAX_WAITING_REQUESTS,
        },
        places,
        callSize,
      );
    } catch (error) {
      if (error instanceof EngineOverloadedError) this.#metrics?.rejected();
      throw error;
    }
  }

  /** The beam searches of a step that returned take their next beams (or end). */
  #advanceBeamSearches(): void {
    for (const run of [...this.#beamRuns.values()]) {
      if (!run.stepped) continue;
      try {
        if (run.advance()) this.#beamRuns.delete(run.id);
      } catch (error) {
        this.#beamRuns.delete(run.id);
        run.fail(asError(error));
      }
    }
  }

  /** The beam search `state` is a live beam of, if any. */
  #beamRunOf(state: RequestState): BeamSearchRun | undefined {
    if (this.#beamRuns.size === 0) return undefined;
    for (const run of this.#beamRuns.values()) if (run.owns(state)) return run;
    return undefined;
  }

  /** The request leaves the engine with its last output; its KV is freed before the next step. */
  #finish(live: LiveRequest, output: RequestOutput): void {
    const reason = output.finishReason;
    if (this.#metrics !== null && reason !== null && reason !== 'abort') {
      const { request } = live;
      this.#metrics.finished(
        live.clock.finished(
          monotonicMs(),
          reason,
          request.promptTokens.length,
          request.params.maxTokens,
          request.siblings ?? 1,
        ),
      );
    }
    this.#live.delete(live.request.id);
    this.#scheduler.release(live.state);
    live.stream.push(output);
    live.stream.end();
  }

  /** The request fails; `keepKv` false when its cells are not trusted (a failed step). */
  #fail(live: LiveRequest, error: Error, keepKv = true): void {
    this.#live.delete(live.request.id);
    this.#scheduler.release(live.state, keepKv);
    live.stream.fail(error);
  }

  #failStep(plan: StepPlan, error: Error): void {
    for (const chunk of plan.chunks) {
      const run = this.#beamRunOf(chunk.request);
      if (run !== undefined) {
        this.#beamRuns.delete(run.id);
        run.fail(new Error(`decode failed: ${error.message}`, { cause: error }));
        continue;
      }
      const live = this.#live.get(chunk.request.id);
      if (live !== undefined && live.state === chunk.request) {
        this.#fail(live, new Error(`decode failed: ${error.message}`, { cause: error }), false);
      }
    }
  }

  #failAll(error: Error): void {
    for (const live of [...this.#live.values()]) this.#fail(live, error, false);
    for (const run of [...this.#beamRuns.values()]) run.fail(error);
    this.#beamRuns.clear();
    if (!this.#decodeInFlight) this.#tryApplyKvOperations();
  }

  /** Apply now if the backend lets us; a failure is reported by the next step loop. */
  #tryApplyKvOperations(): void {
    try {
      this.#applyKvOperations();
    } catch (error) {
      this.#kvFailure = asError(error);
    }
  }

  /**
   * Siblings whose leader computed the shared prompt (but its last token) are admitted with a copy
   * of the leader's KV (queued in the KV manager, applied before the step's decode).
   */
  #countForks(): void {
    for (const { leader } of this.#scheduler.forkParked()) {
      this.#forkedPromptTokens += leader.computedTokens;
    }
  }

  /** Requests the scheduler preempted start their prompt logprobs again (they recompute). */
  #resetPreempted(): void {
    for (const state of this.#scheduler.takePreempted()) this.#live.get(state.id)?.preempted();
  }

  /**
   * Make the backend's KV cache match the KV manager: apply its queued operations in order
   * (removals of released and evicted sequences, prefix copies). Only while no decode is in
   * flight.
   */
  #applyKvOperations(): void {
    if (this.#kvFailure !== null) {
      const error = this.#kvFailure;
      this.#kvFailure = null;
      throw error;
    }
    const kv = this.#backend.kv;
    for (const operation of this.#kv.drainOperations()) {
      if (operation.kind === 'copy') {
        kv.copy(operation.source, operation.destination, 0, operation.to);
      } else if (!kv.remove(operation.sequenceId, operation.from, null)) {
        throw new Error(
          `the backend refused to remove cells of KV sequence ${operation.sequenceId}`,
        );
      }
    }
  }
}
