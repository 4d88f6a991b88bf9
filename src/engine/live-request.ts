/**
 * One request the engine serves outside beam search: its scheduler state, its sampling
 * settings in the backend's form, its output processor and stream.
 *
 * Owns: what a step asks the backend for this request (`rowsFor`: a score-only row per prompt
 * position when prompt logprobs are asked, whose target is the next prompt token, then the
 * sampling row when the chunk reaches the last known token) and what the request takes from the
 * step's results (`takeRows`: the prompt logprobs gathered until the first output carries them,
 * the commit of the computed tokens, the sampled token through the output processor).
 */
import type {
  LogitBias,
  ModelInfo,
  OutputRow,
  RowResult,
  Tokenizer,
} from '../backend/model-backend.ts';
import type { EngineRequest, PositionLogprobs, RequestOutput } from './engine-types.ts';
import { RequestOutputProcessor } from './output-processor.ts';
import { OutputStream } from './output-stream.ts';
import { RequestClock } from './request-clock.ts';
import { RequestState } from './request-state.ts';
import { rowSamplingFor, toLogitBias } from './row-sampling.ts';
import { SamplingConstraints } from './sampling-constraints.ts';
import type { ScheduledChunk } from './scheduler.ts';
import type { GrammarCursor, GrammarMatchers } from './structured-output.ts';

/** What a request is built with. */
export interface LiveRequestContext {
  readonly info: ModelInfo;
  readonly tokenizer: Tokenizer;
  readonly maxModelLen: number;
  /** The request's own seed, or one the engine drew for it. */
  readonly seed: bigint;
  /** Where a request with a structured output gets its grammar cursor. */
  readonly grammars: GrammarMatchers;
  /** Runs when the consumer stops reading early (the engine aborts the request). */
  readonly onCancel: () => void;
}

/** A scored row's logprobs, for `token` (the sampled token, or the prompt token it targeted). */
function positionLogprobs(
  token: number,
  logprob: number,
  rank: number,
  row: RowResult,
): PositionLogprobs {
  return { token, logprob, rank, top: row.top };
}

export class LiveRequest {
  readonly request: EngineRequest;
  readonly state: RequestState;
  readonly seed: bigint;
  readonly stream: OutputStream<RequestOutput>;
  readonly processor: RequestOutputProcessor;
  /** Arrival, first step and token times, for the metrics (see request-clock.ts). */
  readonly clock = new RequestClock();
  /** The request's logit_bias in the backend's form, built once. */
  readonly #logitBias: LogitBias | null;
  /** Masks and penalties from the request's history; null when it asked for none. */
  readonly #constraints: SamplingConstraints | null;
  /** The structured output's position, or null when unconstrained. */
  readonly #grammar: GrammarCursor | null;
  /**
   * With prompt logprobs asked: the prompt's logprobs gathered so far, chunk by chunk (entry 0
   * null), until the first output takes them; null otherwise.
   */
  #promptLogprobs: (PositionLogprobs | null)[] | null;

  constructor(request: EngineRequest, context: LiveRequestContext) {
    const { params } = request;
    this.request = request;
    this.state = new RequestState(request.id, [...request.promptTokens], params.maxTokens);
    this.state.priority = request.priority ?? 0;
    // As vLLM: a request that reports its prompt's logprobs computes every prompt position.
    this.state.readsCache = params.promptLogprobs === null;
    this.seed = context.seed;
    this.stream = new OutputStream<RequestOutput>(context.onCancel);
    this.processor = new RequestOutputProcessor({
      requestId: request.id,
      promptTokens: request.promptTokens.length,
      params,
      tokenizer: context.tokenizer,
      maxModelLen: context.maxModelLen,
      cachedTokens: () => this.state.cachedPromptTokens ?? 0,
    });
    this.#logitBias = toLogitBias(params.logitBias);
    this.#constraints = SamplingConstraints.isNone(params)
      ? null
      : new SamplingConstraints(params, request.promptTokens, context.info);
    this.#grammar =
      params.structuredOutput === null ? null : context.grammars.cursor(params.structuredOutput);
    this.#promptLogprobs = params.promptLogprobs === null ? null : [null];
  }

  /**
   * The scheduler preempted the request: it recomputes its tokens from the start, so prompt
   * logprobs not handed out yet are gathered again.
   */
  preempted(): void {
    if (this.#promptLogprobs !== null) this.#promptLogprobs = [null];
  }

  /** The rows this request's chunk asks for; the first `promptRows` score prompt tokens. */
  rowsFor(chunk: ScheduledChunk): { rows: OutputRow[]; promptRows: number } {
    const { params } = this.request;
    const rows: OutputRow[] = [];
    if (this.#promptLogprobs !== null) {
      const prompt = chunk.request.promptTokens;
      const end = Math.min(chunk.tokens.length, prompt.length - 1 - chunk.startPosition);
      for (let offset = 0; offset < end; offset++) {
        rows.push({
          offset,
          sampling: null,
          topLogprobs: params.promptLogprobs ?? 0,
          targetToken: prompt[chunk.startPosition + offset + 1]!,
          returnLogits: false,
        });
      }
    }
    const promptRows = rows.length;
    if (chunk.samples) {
      const output = chunk.request.outputTokens;
      const constraints = this.#constraints;
      rows.push({
        offset: chunk.tokens.length - 1,
        sampling: rowSamplingFor(
          params,
          this.seed,
          output.length,
          this.#logitBias,
          constraints === null && this.#grammar === null
            ? undefined
            : {
                allowedTokens: this.#allowedTokens(output),
                penalties: constraints?.penalties(output) ?? null,
              },
        ),
        topLogprobs: params.logprobs ?? 0,
        targetToken: null,
        returnLogits: false,
        // As vLLM: score the drawn token only when logprobs are asked (a greedy row is one pass).
        scoreSample: params.logprobs !== null,
      });
    }
    return { rows, promptRows };
  }

  /**
   * The mask of the row drawing the token after `output`: the request's own constraints and its
   * structured output both. When they leave nothing (min_tokens holding back the end token of a
   * complete structured output), the structured output wins: it must be able to end.
   */
  #allowedTokens(output: readonly number[]): Uint32Array | null {
    const own = this.#constraints?.mask(output) ?? null;
    if (this.#grammar === null) return own;
    const grammar = this.#grammar.mask();
    if (own === null) return grammar;
    const both = new Uint32Array(grammar.length);
    let any = 0;
    for (let i = 0; i < both.length; i++) any |= both[i] = grammar[i]! & own[i]!;
    return any === 0 ? grammar : both;
  }

  /**
   * Take this request's rows of a step that returned: `promptRows` (the chunk's prompt-scoring
   * rows, in order) and `sampleRow` (null when the chunk did not sample). Returns the output the
   * sampled token produced, or null when the chunk only advanced the prompt. Throws on results
   * the backend should not have given.
   */
  takeRows(
    chunk: ScheduledChunk,
    promptRows: readonly RowResult[],
    sampleRow: RowResult | null,
  ): RequestOutput | null {
    if (this.#promptLogprobs !== null) {
      const prompt = chunk.request.promptTokens;
      promptRows.forEach((scored, i) => {
        if (scored.target === null) throw new Error('the backend scored no prompt token');
        const token = prompt[chunk.startPosition + i + 1]!;
        this.#promptLogprobs!.push(
          positionLogprobs(token, scored.target.logprob, scored.target.rank, scored),
        );
      });
    }
    const sampled = sampleRow === null ? null : sampleRow.token;
    if (chunk.samples && sampled === null) throw new Error('the backend sampled no token');
    this.state.commitStep(chunk.tokens.length, sampled);
    if (sampled === null) return null;
    this.#grammar?.advance(sampled);
    if (this.#promptLogprobs !== null) {
      this.processor.setPromptLogprobs(this.#promptLogprobs);
      this.#promptLogprobs = null;
    }
    return this.processor.processToken(
      sampled,
      this.request.params.logprobs === null
        ? null
        : positionLogprobs(sampled, sampleRow!.logprob, sampleRow!.rank, sampleRow!),
    );
  }
}
