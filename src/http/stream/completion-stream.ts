/**
 * `/v1/completions` responses: engine outputs to `text_completion` chunks, and chunks to the
 * non-streaming response.
 *
 * Owns: one chunk per output that carries text or ends its choice (vLLM sends no empty
 * intermediate chunks), `finish_reason`/`stop_reason` on the choice's last chunk only, and the
 * assembly of a whole response from the same events (texts joined per choice, choices by index).
 */
import type { RequestOutput } from '../../engine/engine-types.ts';
import { InternalServerError } from '../errors.ts';
import type {
  CompletionChoice,
  CompletionChunk,
  CompletionResponse,
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

/** Pure state of one completions stream; choice index = prompt position. */
export class CompletionStreamState implements ChunkState<CompletionChunk> {
  readonly #header: ResponseHeader;
  readonly #usage = new UsageCounter();

  constructor(header: ResponseHeader) {
    this.#header = header;
  }

  push(index: number, output: RequestOutput): readonly ChunkEvent<CompletionChunk>[] {
    this.#usage.record(index, output);
    const finished = output.finishReason !== null;
    if (!finished && output.text === '') return [];
    const chunk: CompletionChunk = {
      id: this.#header.id,
      object: 'text_completion',
      created: this.#header.created,
      model: this.#header.model,
      choices: [
        {
          index,
          text: output.text,
          logprobs: null,
          finish_reason: output.finishReason,
          stop_reason: finished ? output.stopReason : null,
          prompt_token_ids: null,
          token_ids: null,
        },
      ],
    };
    return [{ type: 'chunk', chunk, usage: this.#usage.choice(index) }];
  }

  usage(): Usage {
    return this.#usage.total();
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

/** Consumes a completions event stream into the non-streaming response. */
export async function assembleCompletion(
  events: AsyncIterable<StreamEvent<CompletionChunk>>,
  header: ResponseHeader,
  fingerprint: string,
): Promise<CompletionResponse> {
  const texts = new Map<number, string[]>();
  const ends = new Map<number, { finish: CompletionChoice['finish_reason']; stop: StopReason }>();
  let usage: Usage | null = null;
  for await (const event of events) {
    if (event.type === 'usage') {
      usage = event.usage;
      continue;
    }
    const choice = event.chunk.choices[0];
    const parts = texts.get(choice.index) ?? [];
    parts.push(choice.text);
    texts.set(choice.index, parts);
    if (choice.finish_reason !== null) {
      ends.set(choice.index, { finish: choice.finish_reason, stop: choice.stop_reason });
    }
  }
  if (usage === null) throw new InternalServerError('No output received from the engine.');
  const choices = [...texts.keys()]
    .sort((a, b) => a - b)
    .map((index): CompletionChoice => {
      const end = ends.get(index);
      if (end === undefined) throw new InternalServerError(`Choice ${index} did not finish.`);
      return {
        index,
        text: texts.get(index)!.join(''),
        logprobs: null,
        finish_reason: end.finish,
        stop_reason: end.stop,
        token_ids: null,
        prompt_logprobs: null,
        prompt_token_ids: null,
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
