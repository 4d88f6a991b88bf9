/**
 * One beam search in flight: vLLM's beam search with every live beam a sequence of the batch.
 *
 * Owns: the search's live beams (a RequestState each, scheduled like any decoding request, so a
 * step decodes all of them together with everything else), the beams that ended, and the step
 * that turns the live beams' rows into the next beams (beam-search.ts): the first continuation
 * of a beam stays in its sequence; another one is forked into one of the search's spare
 * sequences with a copy of its parent's KV cells (so no prefix is computed twice); a beam
 * without continuation is retired and its sequence returns to the spares. When the search ends
 * (max tokens, the context, no live beam left, or with early stopping `width` ended beams) the
 * best `width` beams go out, one per stream.
 * Only the engine's step loop calls in, while no decode is in flight.
 */
import type { OutputRow, RowResult, Tokenizer } from '../backend/model-backend.ts';
import { bestBeams, expandBeams, type Beam, type BeamScoring } from './beam-search.ts';
import type {
  BeamSearchSettings,
  EngineRequest,
  PositionLogprobs,
  RequestOutput,
} from './engine-types.ts';
import { OutputStream } from './output-stream.ts';
import { RequestState } from './request-state.ts';
import { deriveRowSeed } from './row-sampling.ts';
import type { ScheduledChunk, Scheduler } from './scheduler.ts';

/** What a run needs of its engine. */
export interface BeamSearchHost {
  readonly scheduler: Scheduler;
  readonly tokenizer: Tokenizer;
  readonly maxModelLen: number;
}

/** The search's settings and the model's EOS token (null: none). */
export interface BeamSearchOptions extends BeamSearchSettings {
  readonly eosToken: number | null;
}

interface LiveBeam {
  readonly state: RequestState;
  readonly beam: Beam;
}

export class BeamSearchRun {
  readonly id: string;
  /** One per answer, best first; each gets one output (or an abort). */
  readonly streams: readonly OutputStream<RequestOutput>[];
  readonly #request: EngineRequest;
  readonly #options: BeamSearchOptions;
  readonly #scoring: BeamScoring;
  readonly #host: BeamSearchHost;
  readonly #seed: bigint;
  /** The first beam, which computed (or found cached) the prompt: the usage's cached tokens. */
  readonly #first: RequestState;
  #live: LiveBeam[];
  readonly #owned = new Set<RequestState>();
  readonly #ended: Beam[] = [];
  readonly #rows = new Map<RequestState, { count: number; row: RowResult | null }>();
  #forks = 0;
  #done = false;

  constructor(
    request: EngineRequest,
    options: BeamSearchOptions,
    host: BeamSearchHost,
    seed: bigint,
    onCancel: () => void,
  ) {
    this.id = request.id;
    this.#request = request;
    this.#options = options;
    this.#host = host;
    this.#seed = seed;
    this.#scoring = {
      promptLength: request.promptTokens.length,
      lengthPenalty: options.lengthPenalty,
      eosToken: request.params.ignoreEos ? null : options.eosToken,
    };
    const first = new RequestState(request.id, [...request.promptTokens], request.params.maxTokens);
    first.priority = request.priority ?? 0;
    this.#first = first;
    this.#live = [{ state: first, beam: { tokens: [], cumulativeLogprob: 0, logprobs: [] } }];
    this.#owned.add(first);
    this.streams = Array.from(
      { length: options.width },
      () => new OutputStream<RequestOutput>(onCancel),
    );
  }

  /** The first beam, to queue (it is admitted with the search's spare sequences). */
  get firstState(): RequestState {
    return this.#live[0]!.state;
  }

  /** Whether `state` is one of this search's live beams. */
  owns(state: RequestState): boolean {
    return this.#owned.has(state);
  }

  /** The row a beam's chunk asks for: its draw, scored, with the 2 x width most likely tokens. */
  row(chunk: ScheduledChunk): OutputRow {
    const { params } = this.#request;
    return {
      offset: chunk.tokens.length - 1,
      sampling: {
        temperature: params.temperature,
        topK: 0,
        topP: 1,
        minP: 0,
        seed: deriveRowSeed(this.#seed, chunk.request.outputTokens.length),
        allowedTokens: null,
        logitBias: null,
      },
      topLogprobs: 2 * this.#options.width,
      targetToken: null,
      returnLogits: false,
      scoreSample: true,
    };
  }

  /** A beam's share of the step that returned: `count` tokens fed, its row (null: no row). */
  record(state: RequestState, count: number, row: RowResult | null): void {
    this.#rows.set(state, { count, row });
  }

  /** Whether the step that returned included this search. */
  get stepped(): boolean {
    return this.#rows.size > 0;
  }

  /** Advance by the recorded step; returns true when the search has ended (outputs sent). */
  advance(): boolean {
    const recorded = this.#live.map(({ state }) => this.#rows.get(state));
    this.#rows.clear();
    if (recorded.some((entry) => entry === undefined)) {
      throw new Error(`beam search ${this.id}: a live beam missed a step`);
    }
    const steps = recorded as { count: number; row: RowResult | null }[];
    if (steps[0]!.row === null) {
      // The first beam's prompt is still being prefilled.
      this.#live[0]!.state.commitStep(steps[0]!.count, null);
      return false;
    }
    const positions: PositionLogprobs[] = steps.map(({ row }) => {
      if (row === null || row.token === null) throw new Error('a beam sampled no token');
      return { token: row.token, logprob: row.logprob, rank: row.rank, top: row.top };
    });
    const { next, finished } = expandBeams(
      this.#live.map(({ beam }) => beam),
      positions,
      this.#options.width,
      this.#scoring,
    );
    this.#ended.push(...finished);
    const generated = this.#live[0]!.beam.tokens.length + 1;
    const capped =
      generated >= this.#request.params.maxTokens ||
      this.#request.promptTokens.length + generated >= this.#host.maxModelLen;
    const firstChild = new Map<number, Beam>();
    for (const { parent, beam } of next) if (!firstChild.has(parent)) firstChild.set(parent, beam);
    this.#live.forEach(({ state }, i) => {
      const continued = firstChild.get(i);
      state.commitStep(steps[i]!.count, continued?.tokens.at(-1) ?? positions[i]!.token);
    });
    const enough = this.#options.earlyStopping && this.#ended.length >= this.#options.width;
    if (capped || next.length === 0 || enough) {
      // An early stop answers the ended beams only; otherwise the live ones compete too.
      if (!enough) this.#ended.push(...next.map(({ beam }) => beam));
      this.#finish();
      return true;
    }
    // Retire the beams without continuation first: their sequences become spares for the forks.
    this.#live.forEach(({ state }, i) => {
      if (!firstChild.has(i)) this.#retire(state);
    });
    const taken = new Set<number>();
    this.#live = next.map(({ parent, beam }) => {
      const parentState = this.#live[parent]!.state;
      if (!taken.has(parent)) {
        taken.add(parent);
        return { state: parentState, beam };
      }
      const child = new RequestState(
        `${this.id}#${++this.#forks}`,
        this.#request.promptTokens,
        this.#request.params.maxTokens,
      );
      this.#host.scheduler.forkBeam(parentState, child);
      this.#owned.add(child);
      child.adoptBeam(parentState.computedTokens, beam.tokens);
      return { state: child, beam };
    });
    return false;
  }

  /** End now: every stream gets an abort. */
  abort(): void {
    if (this.#done) return;
    this.#release();
    for (const stream of this.streams) {
      stream.push(this.#output([], '', 'abort', null));
      stream.end();
    }
  }

  /** End now with an error on every stream. */
  fail(error: Error): void {
    if (this.#done) return;
    this.#release();
    for (const stream of this.streams) stream.fail(error);
  }

  #retire(state: RequestState): void {
    this.#owned.delete(state);
    this.#host.scheduler.retireBeam(state);
  }

  /** Give back every sequence of the search (live beams are freed by the engine's loop). */
  #release(): void {
    this.#done = true;
    const { scheduler } = this.#host;
    scheduler.endBeamSearch(this.#live[0]!.state);
    for (const { state } of this.#live) scheduler.release(state);
    this.#owned.clear();
  }

  #finish(): void {
    this.#release();
    const best = bestBeams(this.#ended, this.#options.width, this.#scoring);
    this.streams.forEach((stream, j) => {
      const beam = best[j];
      if (beam === undefined) {
        stream.push(this.#output([], '', 'length', null));
      } else {
        const stopped = beam.tokens.at(-1) === this.#scoring.eosToken;
        const textTokens = stopped ? beam.tokens.slice(0, -1) : beam.tokens;
        const text = this.#host.tokenizer.detokenize(textTokens, {
          skipSpecial: this.#request.params.skipSpecialTokens,
        });
        stream.push(this.#output(beam.tokens, text, stopped ? 'stop' : 'length', beam.logprobs));
      }
      stream.end();
    });
  }

  #output(
    tokens: readonly number[],
    text: string,
    finishReason: RequestOutput['finishReason'],
    logprobs: readonly PositionLogprobs[] | null,
  ): RequestOutput {
    return {
      requestId: this.id,
      text,
      tokenIds: tokens,
      promptTokens: this.#request.promptTokens.length,
      completionTokens: tokens.length,
      cachedTokens: this.#first.cachedPromptTokens ?? 0,
      finishReason,
      stopReason: null,
      logprobs: this.#request.params.logprobs === null ? null : (logprobs ?? []),
      promptLogprobs: null,
    };
  }
}
