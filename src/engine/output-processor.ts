/**
 * One request's output processing (vLLM v1's output processor and `check_stop`): each generated
 * token becomes a `RequestOutput` delta with its finish reason decided.
 *
 * Owns: the stop rules and their order, as vLLM applies them to every new token:
 *  1. `length`: maxTokens reached (or the context end, maxModelLen);
 *  2. `stop` with stopReason null: an end-of-generation token (EOS/EOT) unless ignoreEos;
 *  3. `stop` with stopReason = the token id: a token of stopTokenIds.
 * Rules 2 and 3 wait until minTokens tokens were generated, and stop strings until more than
 * that (vLLM's check_stop and detokenizer).
 * The token that ended the request by rule 2 or 3 adds no text unless includeStopStrInOutput
 * (vLLM skips detokenizing it), and no stop-string check follows it. Otherwise the token's text
 * goes through the stop-string matcher, whose match overrides `length`: `stop` with stopReason =
 * the stop string. When the request ends, everything still held back (incomplete UTF-8, a stop
 * string prefix that never completed) is released. Every generated token is counted and listed,
 * the final EOS/stop token included, with its logprobs when the request asked for them; the
 * prompt's logprobs go out with the first output.
 */
import type { Tokenizer } from '../backend/model-backend.ts';
import type {
  FinishReason,
  PositionLogprobs,
  RequestOutput,
  SamplingParams,
} from './engine-types.ts';
import { IncrementalDetokenizer } from './incremental-detokenizer.ts';
import { StopStringMatcher } from './stop-string-matcher.ts';

/** What a processor needs to know about its request. */
export interface OutputProcessorOptions {
  readonly requestId: string;
  readonly promptTokens: number;
  readonly params: SamplingParams;
  readonly tokenizer: Tokenizer;
  /** The engine's maxModelLen: prompt + output never exceed it. */
  readonly maxModelLen: number;
  /**
   * The prompt tokens the request found in the prefix cache (RequestOutput.cachedTokens), read
   * at each output: the count is known only once the request has started.
   */
  readonly cachedTokens: () => number;
}

export class RequestOutputProcessor {
  readonly #options: OutputProcessorOptions;
  readonly #stopTokenIds: ReadonlySet<number>;
  readonly #detokenizer: IncrementalDetokenizer;
  readonly #stopMatcher: StopStringMatcher;
  #completionTokens = 0;
  #finished = false;
  /** The prompt's logprobs until the first output carries them. */
  #promptLogprobs: readonly (PositionLogprobs | null)[] | null = null;

  constructor(options: OutputProcessorOptions) {
    this.#options = options;
    this.#stopTokenIds = new Set(options.params.stopTokenIds);
    this.#detokenizer = new IncrementalDetokenizer(
      options.tokenizer,
      options.params.skipSpecialTokens,
    );
    this.#stopMatcher = new StopStringMatcher(
      options.params.stop,
      options.params.includeStopStrInOutput,
    );
  }

  /** Whether a finishing output was produced. */
  get finished(): boolean {
    return this.#finished;
  }

  get completionTokens(): number {
    return this.#completionTokens;
  }

  /** The prompt's logprobs (first entry null), sent with the next output. */
  setPromptLogprobs(logprobs: readonly (PositionLogprobs | null)[]): void {
    this.#promptLogprobs = logprobs;
  }

  /**
   * Process one generated token and its logprobs (when the request asked for them); the delta it
   * produces (finishReason set when it ends the request).
   */
  processToken(token: number, logprobs: PositionLogprobs | null = null): RequestOutput {
    if (this.#finished) throw new Error(`request ${this.#options.requestId} already finished`);
    const { params, tokenizer, promptTokens, maxModelLen } = this.#options;
    this.#completionTokens++;
    let finishReason: FinishReason | null = null;
    let stopReason: string | number | null = null;
    let stoppedByToken = false;
    if (
      this.#completionTokens >= params.maxTokens ||
      promptTokens + this.#completionTokens >= maxModelLen
    ) {
      finishReason = 'length';
    } else if (this.#completionTokens < params.minTokens) {
      // vLLM: no stop before min_tokens (its stop tokens are masked until then anyway).
    } else if (!params.ignoreEos && tokenizer.isEndOfGeneration(token)) {
      finishReason = 'stop';
      stoppedByToken = true;
    } else if (this.#stopTokenIds.has(token)) {
      finishReason = 'stop';
      stopReason = token;
      stoppedByToken = true;
    }

    let text = '';
    if (!stoppedByToken || params.includeStopStrInOutput) text = this.#detokenizer.push(token);
    if (finishReason !== null) text += this.#detokenizer.flush();

    if (stoppedByToken) {
      text = this.#stopMatcher.flush() + text;
    } else {
      // As vLLM's detokenizer: stop strings count only once more than min_tokens were generated.
      const match = this.#stopMatcher.push(text, this.#completionTokens > params.minTokens);
      text = match.text;
      if (match.stop !== null) {
        finishReason = 'stop';
        stopReason = match.stop;
      } else if (finishReason !== null) {
        text += this.#stopMatcher.flush();
      }
    }
    this.#finished = finishReason !== null;
    if (params.logprobs !== null && logprobs === null) {
      throw new Error(`request ${this.#options.requestId} asked for logprobs but got none`);
    }
    return this.#output(text, [token], finishReason, stopReason, logprobs);
  }

  /** The final delta of an aborted request: no text (held-back text is dropped), reason `abort`. */
  abortOutput(): RequestOutput {
    this.#finished = true;
    return this.#output('', [], 'abort', null, null);
  }

  #output(
    text: string,
    tokenIds: readonly number[],
    finishReason: FinishReason | null,
    stopReason: string | number | null,
    logprobs: PositionLogprobs | null,
  ): RequestOutput {
    const promptLogprobs = this.#promptLogprobs;
    this.#promptLogprobs = null;
    return {
      requestId: this.#options.requestId,
      text,
      tokenIds,
      promptTokens: this.#options.promptTokens,
      completionTokens: this.#completionTokens,
      cachedTokens: this.#options.cachedTokens(),
      finishReason,
      stopReason,
      logprobs: this.#options.params.logprobs === null ? null : logprobs === null ? [] : [logprobs],
      promptLogprobs: finishReason === 'abort' ? null : promptLogprobs,
    };
  }
}
