/**
 * `/v1/chat/completions` responses: engine outputs to `chat.completion.chunk`s, and chunks to
 * the non-streaming response.
 *
 * Owns: the chat stream's state as a small pure class: on the first engine output one role
 * chunk per choice (`delta: {role, content: ""}`, as vLLM sends it once generation has
 * started), with `echo` one chunk per choice carrying the echoed text (`delta: {content}`), then
 * one content chunk per output that carries text (or tokens, with logprobs
 * asked), and exactly one last chunk per choice with `finish_reason` and `stop_reason`, each
 * with the logprobs of its tokens; plus the assembly of the whole message (and its logprobs and
 * prompt_logprobs) from the same events.
 */
import type { RequestOutput } from '../../engine/engine-types.ts';
import { ChoiceToolFilter } from '../tools/choice-tool-filter.ts';
import { assembleToolUpdates, type ToolCallDelta } from '../tools/tool-call-parser.ts';
import type { ToolMode } from '../tools/tool-choice.ts';
import { InternalServerError } from '../errors.ts';
import { chatLogprobContent } from '../logprobs/chat-logprobs.ts';
import type { LogprobsFormat } from '../logprobs/completion-logprobs.ts';
import { promptLogprobsField } from '../logprobs/prompt-logprobs.ts';
import type { TokenTexts } from '../logprobs/token-texts.ts';
import type {
  ChatChoice,
  ChatDelta,
  ChatLogprobs,
  ChatTokenLogprob,
  ChatCompletionChunk,
  ChatCompletionResponse,
  ChatStreamChoice,
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

/** What shapes a chat response beyond the engine's outputs. */
export interface ChatResponseOptions {
  /** The answer's role (`--response-role`, or the last message's role). */
  readonly role: string;
  /** Choices in the response (each gets a role chunk first). */
  readonly choiceCount: number;
  /** Null: no logprobs asked. */
  readonly logprobs: LogprobsFormat | null;
  /** `echo`: the text each choice's content starts with, sent after the role chunks. Default none. */
  readonly echo?: string | null;
  /** Names the tokens of prompt_logprobs. */
  readonly texts: TokenTexts;
  /** return_token_ids: the prompt's token ids; absent: not asked. */
  readonly promptTokenIds?: readonly number[] | undefined;
  /** `--enable-prompt-tokens-details`: usage reports the cached prompt tokens. Default false. */
  readonly promptTokensDetails?: boolean;
  /** How outputs become tool calls (tool-choice.ts); default none: all text is content. */
  readonly tools?: { readonly mode: ToolMode; readonly parallelToolCalls: boolean };
}

/** Pure state of one chat stream. */
export class ChatStreamState implements ChunkState<ChatCompletionChunk> {
  readonly #header: ResponseHeader;
  readonly #options: ChatResponseOptions;
  readonly #usage: UsageCounter;
  #started = false;
  #promptLogprobs: PromptLogprobs | null = null;
  readonly #filters = new Map<number, ChoiceToolFilter>();

  constructor(header: ResponseHeader, options: ChatResponseOptions) {
    this.#header = header;
    this.#options = options;
    // Every choice answers the one prompt.
    this.#usage = new UsageCounter({
      choicesPerPrompt: options.choiceCount,
      promptTokensDetails: options.promptTokensDetails ?? false,
    });
  }

  /** Choice `index`'s tool filter (created on first use). */
  filter(index: number): ChoiceToolFilter {
    let filter = this.#filters.get(index);
    if (filter === undefined) {
      const tools = this.#options.tools;
      filter = new ChoiceToolFilter(
        tools?.mode ?? { kind: 'none' },
        tools?.parallelToolCalls ?? true,
      );
      this.#filters.set(index, filter);
    }
    return filter;
  }

  /** The prompt's logprobs (vLLM's top-level prompt_logprobs), once the first output came. */
  get promptLogprobs(): PromptLogprobs | null {
    return this.#promptLogprobs;
  }

  push(index: number, output: RequestOutput): readonly ChunkEvent<ChatCompletionChunk>[] {
    const events: ChunkEvent<ChatCompletionChunk>[] = [];
    this.#usage.record(index, output);
    if (!this.#started) {
      this.#started = true;
      const usage = this.#usage.promptOnly(index);
      for (let choice = 0; choice < this.#options.choiceCount; choice += 1) {
        const delta = { role: this.#options.role, content: '' };
        const roleChoice = { index: choice, delta, logprobs: null, finish_reason: null };
        const chunk = this.#chunk(roleChoice, true);
        const ids = this.#options.promptTokenIds;
        events.push({
          type: 'chunk',
          // return_token_ids: the prompt's ids on the very first chunk only.
          chunk:
            ids === undefined ? chunk : { ...chunk, prompt_token_ids: choice === 0 ? ids : null },
          usage,
        });
      }
      const echo = this.#options.echo ?? null;
      for (let choice = 0; echo !== null && choice < this.#options.choiceCount; choice += 1) {
        const echoChoice = {
          index: choice,
          delta: { content: echo },
          logprobs: null,
          finish_reason: null,
        };
        events.push({ type: 'chunk', chunk: this.#chunk(echoChoice, false), usage });
      }
    }
    if (output.promptLogprobs !== null) {
      this.#promptLogprobs = promptLogprobsField(output.promptLogprobs, this.#options.texts);
    }
    const usage = this.#usage.choice(index);
    const format = this.#options.logprobs;
    const logprobs: ChatLogprobs | null =
      format === null
        ? null
        : { content: chatLogprobContent(output.tokenIds, output.logprobs ?? [], format) };
    const tokenIds = this.#options.promptTokenIds === undefined ? null : output.tokenIds;
    const reportsTokens = logprobs !== null || tokenIds !== null;
    const filter = this.filter(index);
    const update = filter.push(output.text);
    if (output.finishReason !== null) {
      const end = filter.finish();
      const last: ChatStreamChoice = {
        index,
        delta: deltaOf(update.content + end.content, [...update.toolCalls, ...end.toolCalls]),
        logprobs,
        finish_reason: filter.finishReason(output.finishReason),
        stop_reason: output.stopReason,
        token_ids: tokenIds,
      };
      events.push({ type: 'chunk', chunk: this.#chunk(last, false), usage });
    } else if (
      update.content !== '' ||
      update.toolCalls.length > 0 ||
      (reportsTokens && output.tokenIds.length > 0)
    ) {
      const content: ChatStreamChoice = {
        index,
        delta: deltaOf(update.content, update.toolCalls),
        logprobs,
        finish_reason: null,
        token_ids: tokenIds,
      };
      events.push({ type: 'chunk', chunk: this.#chunk(content, false), usage });
    }
    return events;
  }

  usage(): Usage {
    return this.#usage.total();
  }

  #chunk(choice: ChatStreamChoice, first: boolean): ChatCompletionChunk {
    const chunk: ChatCompletionChunk = {
      id: this.#header.id,
      object: 'chat.completion.chunk',
      created: this.#header.created,
      model: this.#header.model,
      choices: [choice],
    };
    return first ? { ...chunk, prompt_token_ids: null } : chunk;
  }
}

/** A content delta, with tool-call deltas when there are any (then content only if non-empty). */
function deltaOf(content: string, toolCalls: readonly ToolCallDelta[]): ChatDelta {
  if (toolCalls.length === 0) return { content };
  return content === '' ? { tool_calls: toolCalls } : { content, tool_calls: toolCalls };
}

/** The `choices: []` usage chunk of a chat stream. */
export function chatUsageChunk(
  header: ResponseHeader,
  usage: Usage,
  fingerprint: string,
): UsageChunk {
  return {
    id: header.id,
    object: 'chat.completion.chunk',
    created: header.created,
    model: header.model,
    choices: [],
    usage,
    system_fingerprint: fingerprint,
  };
}

interface ChoiceParts {
  role: string | null;
  content: string[];
  /** Null until a chunk carried logprobs. */
  logprobs: ChatTokenLogprob[] | null;
  /** Null until a chunk carried token ids. */
  tokenIds: number[] | null;
  /** The choice's streamed tool-call deltas, merged into calls at the end. */
  toolDeltas: ToolCallDelta[];
  end: { finish: ChatChoice['finish_reason']; stop: StopReason } | null;
}

/** Consumes a chat event stream (made by `state`) into the non-streaming response. */
export async function assembleChat(
  events: AsyncIterable<StreamEvent<ChatCompletionChunk>>,
  state: ChatStreamState,
  header: ResponseHeader,
  fingerprint: string,
): Promise<ChatCompletionResponse> {
  const parts = new Map<number, ChoiceParts>();
  let usage: Usage | null = null;
  let promptTokenIds: readonly number[] | null = null;
  for await (const event of events) {
    if (event.type === 'usage') {
      usage = event.usage;
      continue;
    }
    const choice = event.chunk.choices[0];
    const entry = parts.get(choice.index) ?? {
      role: null,
      content: [],
      logprobs: null,
      tokenIds: null,
      toolDeltas: [],
      end: null,
    };
    parts.set(choice.index, entry);
    if (choice.delta.role !== undefined) entry.role = choice.delta.role;
    if (choice.delta.content !== undefined) entry.content.push(choice.delta.content);
    entry.toolDeltas.push(...(choice.delta.tool_calls ?? []));
    if (choice.logprobs !== null) (entry.logprobs ??= []).push(...choice.logprobs.content);
    if (choice.token_ids !== undefined && choice.token_ids !== null) {
      (entry.tokenIds ??= []).push(...choice.token_ids);
    }
    if (event.chunk.prompt_token_ids !== undefined && event.chunk.prompt_token_ids !== null) {
      promptTokenIds = event.chunk.prompt_token_ids;
    }
    if (choice.finish_reason !== null) {
      entry.end = { finish: choice.finish_reason, stop: choice.stop_reason ?? null };
    }
  }
  if (usage === null) throw new InternalServerError('No output received from the engine.');
  const choices = [...parts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, entry]): ChatChoice => {
      if (entry.end === null || entry.role === null) {
        throw new InternalServerError(`Choice ${index} did not finish.`);
      }
      return {
        index,
        message: {
          role: entry.role,
          content: state.filter(index).messageContent(entry.content.join('')),
          refusal: null,
          annotations: null,
          audio: null,
          function_call: null,
          tool_calls: assembleToolUpdates([
            { content: '', toolCalls: entry.toolDeltas },
          ]).toolCalls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
          reasoning: null,
        },
        logprobs: entry.logprobs === null ? null : { content: entry.logprobs },
        finish_reason: entry.end.finish,
        stop_reason: entry.end.stop,
        token_ids: entry.tokenIds,
      };
    });
  return {
    id: header.id,
    object: 'chat.completion',
    created: header.created,
    model: header.model,
    choices,
    service_tier: null,
    system_fingerprint: fingerprint,
    usage,
    prompt_logprobs: state.promptLogprobs,
    prompt_token_ids: promptTokenIds,
    kv_transfer_params: null,
  };
}
