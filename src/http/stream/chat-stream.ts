/**
 * `/v1/chat/completions` responses: engine outputs to `chat.completion.chunk`s, and chunks to
 * the non-streaming response.
 *
 * Owns: the chat stream's state as a small pure class: on the first engine output one role
 * chunk per choice (`delta: {role, content: ""}`, as vLLM sends it once generation has
 * started), then one content chunk per output that carries text, and exactly one last chunk per
 * choice with `finish_reason` and `stop_reason`; plus the assembly of the whole message from
 * the same events.
 */
import type { RequestOutput } from '../../engine/engine-types.ts';
import { InternalServerError } from '../errors.ts';
import type {
  ChatChoice,
  ChatCompletionChunk,
  ChatCompletionResponse,
  ChatStreamChoice,
  ResponseHeader,
  StopReason,
  Usage,
  UsageChunk,
} from '../wire-types.ts';
import {
  UsageCounter,
  usageOf,
  type ChunkEvent,
  type ChunkState,
  type StreamEvent,
} from './stream-events.ts';

/** Pure state of one chat stream. */
export class ChatStreamState implements ChunkState<ChatCompletionChunk> {
  readonly #header: ResponseHeader;
  readonly #role: string;
  readonly #choiceCount: number;
  readonly #usage = new UsageCounter();
  #started = false;

  /**
   * @param role the answer's role (`--response-role`, or the last message's role)
   * @param choiceCount choices in the response (each gets a role chunk first)
   */
  constructor(header: ResponseHeader, role: string, choiceCount: number) {
    this.#header = header;
    this.#role = role;
    this.#choiceCount = choiceCount;
  }

  push(index: number, output: RequestOutput): readonly ChunkEvent<ChatCompletionChunk>[] {
    const events: ChunkEvent<ChatCompletionChunk>[] = [];
    if (!this.#started) {
      this.#started = true;
      const usage = usageOf(output.promptTokens, 0);
      for (let choice = 0; choice < this.#choiceCount; choice += 1) {
        const delta = { role: this.#role, content: '' };
        const roleChoice = { index: choice, delta, logprobs: null, finish_reason: null };
        events.push({ type: 'chunk', chunk: this.#chunk(roleChoice, true), usage });
      }
    }
    this.#usage.record(index, output);
    const usage = this.#usage.choice(index);
    if (output.finishReason !== null) {
      const last: ChatStreamChoice = {
        index,
        delta: { content: output.text },
        logprobs: null,
        finish_reason: output.finishReason,
        stop_reason: output.stopReason,
        token_ids: null,
      };
      events.push({ type: 'chunk', chunk: this.#chunk(last, false), usage });
    } else if (output.text !== '') {
      const content: ChatStreamChoice = {
        index,
        delta: { content: output.text },
        logprobs: null,
        finish_reason: null,
        token_ids: null,
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
  end: { finish: ChatChoice['finish_reason']; stop: StopReason } | null;
}

/** Consumes a chat event stream into the non-streaming response. */
export async function assembleChat(
  events: AsyncIterable<StreamEvent<ChatCompletionChunk>>,
  header: ResponseHeader,
  fingerprint: string,
): Promise<ChatCompletionResponse> {
  const parts = new Map<number, ChoiceParts>();
  let usage: Usage | null = null;
  for await (const event of events) {
    if (event.type === 'usage') {
      usage = event.usage;
      continue;
    }
    const choice = event.chunk.choices[0];
    const entry = parts.get(choice.index) ?? { role: null, content: [], end: null };
    parts.set(choice.index, entry);
    if (choice.delta.role !== undefined) entry.role = choice.delta.role;
    if (choice.delta.content !== undefined) entry.content.push(choice.delta.content);
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
          content: entry.content.join(''),
          refusal: null,
          annotations: null,
          audio: null,
          function_call: null,
          tool_calls: [],
          reasoning: null,
        },
        logprobs: null,
        finish_reason: entry.end.finish,
        stop_reason: entry.end.stop,
        token_ids: null,
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
    prompt_logprobs: null,
    prompt_token_ids: null,
    kv_transfer_params: null,
  };
}
