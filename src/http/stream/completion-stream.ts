/**
 * `/v1/completions` responses: engine outputs to `text_completion` chunks, and chunks to the
 * non-streaming response.
 *
 * Owns: one chunk per output that carries text, tokens with logprobs asked, or the end of its
 * choice (vLLM sends no empty intermediate chunks), `finish_reason`/`stop_reason` on the choice's
 * last chunk only, echo (the prompt's text, tokens and logprobs in front of the choice's first
 * chunk; only those when the request asked for no output), each chunk's logprobs with offsets
 * that continue the text sent so far, and the assembly of a whole response from the same events
 * (texts and logprobs joined per choice, choices by index, each choice's prompt_logprobs), and
 * with return_token_ids each choice's prompt ids on its first event and its new ids on each.
 */
import type { PositionLogprobs, RequestOutput } from '../../engine/engine-types.ts';
import { InternalServerError } from '../errors.ts';
import type { EchoedPrompt } from '../params/completion-params.ts';
import {
  completionLogprobs,
  joinCompletionLogprobs,
  type LogprobsFormat,
} from '../logprobs/completion-logprobs.ts';
import { promptLogprobsField } from '../logprobs/prompt-logprobs.ts';
import { codePointLength, type TokenTexts } from '../logprobs/token-texts.ts';
import type {
  CompletionChoice,
  CompletionChunk,
  CompletionLogprobs,
  CompletionResponse,
  PromptLogprobs,
  ResponseHeader,
  StopReason,
  Usage,
  UsageChunk,
} from '../wire-types.ts';
import {
  UsageCounter,
  type ChunkEvent,
  type ChunkState,
  type StreamEvent,
} from './stream-events.ts';

/** What shapes a completions response beyond the engine's outputs. */
export interface CompletionResponseOptions {
  /** `n`: choice i answers prompt floor(i / n) (usage counts each prompt once). Default 1. */
  readonly choicesPerPrompt?: number;
  /** Null: no logprobs asked. */
  readonly logprobs: LogprobsFormat | null;
  /** Per choice index: the prompt to echo, or null. */
  readonly echo: readonly (EchoedPrompt | null)[];
  /** Names the tokens of prompt_logprobs. */
  readonly texts: TokenTexts;
  /** return_token_ids: each choice's prompt token ids (by choice index); absent: not asked. */
  readonly promptTokenIds?: readonly (readonly number[])[] | undefined;
  /** `--enable-prompt-tokens-details`: usage reports the cached prompt tokens. Default false. */
  readonly promptTokensDetails?: boolean;
}

/** The positions of an output without logprobs (shared, never written). */
const NO_POSITIONS: readonly (PositionLogprobs | null)[] = [];

interface ChoiceProgress {
  /** Code points of text sent so far (the next chunk's first text offset). */
  sentLength: number;
  /** Whether an event of this choice went out. */
  sent: boolean;
  /** Sum of the raw logprobs of the generated tokens (when the engine scored them). */
  cumulativeLogprob: number;
  echoed: boolean;
  promptLogprobs: PromptLogprobs | null;
}

/** Pure state of one completions stream; choice index = prompt position. */
export class CompletionStreamState implements ChunkState<CompletionChunk> {
  readonly #header: ResponseHeader;
  readonly #options: CompletionResponseOptions;
  readonly #usage: UsageCounter;
  readonly #choices = new Map<number, ChoiceProgress>();

  constructor(header: ResponseHeader, options: CompletionResponseOptions) {
    this.#header = header;
    this.#options = options;
    this.#usage = new UsageCounter({
      choicesPerPrompt: options.choicesPerPrompt ?? 1,
      promptTokensDetails: options.promptTokensDetails ?? false,
    });
  }

  push(index: number, output: RequestOutput): readonly ChunkEvent<CompletionChunk>[] {
    this.#usage.record(index, output);
    let progress = this.#choices.get(index);
    if (progress === undefined) {
      progress = {
        sentLength: 0,
        sent: false,
        cumulativeLogprob: 0,
        echoed: false,
        promptLogprobs: null,
      };
      this.#choices.set(index, progress);
    }
    if (output.promptLogprobs !== null) {
      progress.promptLogprobs = promptLogprobsField(output.promptLogprobs, this.#options.texts);
    }
    if (output.logprobs !== null) {
      for (const position of output.logprobs) progress.cumulativeLogprob += position.logprob;
    }
    let text = output.text;
    let tokens: readonly number[] = output.tokenIds;
    let positions: readonly (PositionLogprobs | null)[] = output.logprobs ?? NO_POSITIONS;
    const echo = this.#options.echo[index] ?? null;
    if (echo !== null && (echo.only || !progress.echoed)) {
      const promptPositions = progress.echoed ? [] : (output.promptLogprobs ?? []);
      const echoText = progress.echoed ? '' : echo.text;
      const echoTokens = progress.echoed ? [] : echo.tokens;
      text = echo.only ? echoText : echoText + text;
      tokens = echo.only ? echoTokens : [...echoTokens, ...tokens];
      positions = echo.only ? promptPositions : [...promptPositions, ...positions];
      progress.echoed = true;
    }
    const finished = output.finishReason !== null;
    const format = this.#options.logprobs;
    const ids = this.#options.promptTokenIds;
    const reportsTokens = format !== null || ids !== undefined;
    if (!finished && text === '' && (!reportsTokens || tokens.length === 0)) return [];
    const firstEvent = !progress.sent;
    progress.sent = true;
    const logprobs =
      format === null ? null : completionLogprobs(tokens, positions, format, progress.sentLength);
    progress.sentLength += codePointLength(text);
    const chunk: CompletionChunk = {
      id: this.#header.id,
      object: 'text_completion',
      created: this.#header.created,
      model: this.#header.model,
      choices: [
        {
          index,
          text,
          logprobs,
          finish_reason: output.finishReason,
          stop_reason: finished ? output.stopReason : null,
          prompt_token_ids: ids !== undefined && firstEvent ? (ids[index] ?? null) : null,
          token_ids: ids !== undefined ? output.tokenIds : null,
        },
      ],
    };
    return [{ type: 'chunk', chunk, usage: this.#usage.choice(index) }];
  }

  usage(): Usage {
    return this.#usage.total();
  }

  /** The sum of the raw logprobs of choice `index`'s tokens (0 when none were scored). */
  cumulativeLogprob(index: number): number {
    return this.#choices.get(index)?.cumulativeLogprob ?? 0;
  }

  /** The tokens choice `index` generated so far. */
  completionTokens(index: number): number {
    return this.#usage.choice(index).completion_tokens;
  }

  /** The prompt_logprobs of choice `index`, once its first output arrived with them. */
  promptLogprobs(index: number): PromptLogprobs | null {
    return this.#choices.get(index)?.promptLogprobs ?? null;
  }
}

/** The `choices: []` usage chunk of a completions stream. */
export function completionUsageChunk(
  header: ResponseHeader,
  usage: Usage,
  fingerprint: string,
): UsageChunk {
  return {
    id: header.id,
    object: 'text_completion',
    created: header.created,
    model: header.model,
    choices: [],
    usage,
    system_fingerprint: fingerprint,
  };
}

interface ChoiceParts {
  readonly texts: string[];
  readonly logprobs: CompletionLogprobs[];
  /** Null until an event carried token ids. */
  tokenIds: number[] | null;
  promptTokenIds: readonly number[] | null;
  end: { finish: CompletionChoice['finish_reason']; stop: StopReason } | null;
}

/** Consumes a completions event stream (made by `state`) into the non-streaming response. */
export async function assembleCompletion(
  events: AsyncIterable<StreamEvent<CompletionChunk>>,
  state: CompletionStreamState,
  header: ResponseHeader,
  fingerprint: string,
): Promise<CompletionResponse> {
  const parts = new Map<number, ChoiceParts>();
  let usage: Usage | null = null;
  for await (const event of events) {
    if (event.type === 'usage') {
      usage = event.usage;
      continue;
    }
    const choice = event.chunk.choices[0];
    let entry = parts.get(choice.index);
    if (entry === undefined) {
      entry = { texts: [], logprobs: [], tokenIds: null, promptTokenIds: null, end: null };
      parts.set(choice.index, entry);
    }
    entry.texts.push(choice.text);
    if (choice.logprobs !== null) entry.logprobs.push(choice.logprobs);
    if (choice.token_ids !== null) (entry.tokenIds ??= []).push(...choice.token_ids);
    if (choice.prompt_token_ids !== null) entry.promptTokenIds = choice.prompt_token_ids;
    if (choice.finish_reason !== null) {
      entry.end = { finish: choice.finish_reason, stop: choice.stop_reason };
    }
  }
  if (usage === null) throw new InternalServerError('No output received from the engine.');
  const choices = [...parts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, entry]): CompletionChoice => {
      if (entry.end === null) throw new InternalServerError(`Choice ${index} did not finish.`);
      return {
        index,
        text: entry.texts.join(''),
        logprobs: entry.logprobs.length === 0 ? null : joinCompletionLogprobs(entry.logprobs),
        finish_reason: entry.end.finish,
        stop_reason: entry.end.stop,
        token_ids: entry.tokenIds,
        prompt_logprobs: state.promptLogprobs(index),
        prompt_token_ids: entry.promptTokenIds,
      };
    });
  return {
    id: header.id,
    object: 'text_completion',
    created: header.created,
    model: header.model,
    choices,
    service_tier: null,
    system_fingerprint: fingerprint,
    usage,
    kv_transfer_params: null,
  };
}
