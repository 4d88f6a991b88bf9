/**
 * Responses as a typed sequence of events, shared by streaming and non-streaming answers.
 *
 * Owns: the event type (a chunk with that choice's running usage, then one final usage event),
 * the interface of the pure per-endpoint state that turns engine outputs into chunks, the loop
 * that drives it, and the usage bookkeeping (each prompt counted once, completions summed).
 * SSE framing (`sse.ts`) and the non-streaming assemblers consume the same events.
 */
import type { RequestOutput } from '../../engine/engine-types.ts';
import type { Usage } from '../wire-types.ts';
import type { IndexedOutput } from './generation.ts';

/** One wire chunk and the usage of its choice so far (for continuous_usage_stats). */
export interface ChunkEvent<Chunk> {
  readonly type: 'chunk';
  readonly chunk: Chunk;
  readonly usage: Usage;
}

/** The last event: the whole response's usage. */
export interface UsageEvent {
  readonly type: 'usage';
  readonly usage: Usage;
}

/** What a response stream is made of: chunks, then one usage event. */
export type StreamEvent<Chunk> = ChunkEvent<Chunk> | UsageEvent;

/** Pure state that turns engine outputs into chunks (one per endpoint). */
export interface ChunkState<Chunk> {
  /** The chunks one output of choice `index` produces, in order (possibly none). */
  push(index: number, output: RequestOutput): readonly ChunkEvent<Chunk>[];
  /** The usage of everything pushed so far. */
  usage(): Usage;
}

/** Drives `state` with a generation's outputs; ends with the usage event. */
export async function* streamEvents<Chunk>(
  outputs: AsyncIterable<IndexedOutput>,
  state: ChunkState<Chunk>,
): AsyncGenerator<StreamEvent<Chunk>> {
  for await (const { index, output } of outputs) yield* state.push(index, output);
  yield { type: 'usage', usage: state.usage() };
}

/** A usage object from prompt and completion counts. */
export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: null,
  };
}

/** Token counts per choice, from the engine's running totals. */
export class UsageCounter {
  readonly #counts = new Map<number, { prompt: number; completion: number }>();
  readonly #choicesPerPrompt: number;

  /** Choice i answers prompt floor(i / choicesPerPrompt) (`n` choices per prompt). */
  constructor(choicesPerPrompt = 1) {
    this.#choicesPerPrompt = choicesPerPrompt;
  }

  /** Takes the totals an output reports for choice `index`. */
  record(index: number, output: RequestOutput): void {
    this.#counts.set(index, { prompt: output.promptTokens, completion: output.completionTokens });
  }

  /** Usage of one choice so far. */
  choice(index: number): Usage {
    const counts = this.#counts.get(index);
    return usageOf(counts?.prompt ?? 0, counts?.completion ?? 0);
  }

  /** Usage of the whole response: every prompt once (however many choices), all completions. */
  total(): Usage {
    const prompts = new Map<number, number>();
    let completion = 0;
    for (const [index, counts] of this.#counts) {
      prompts.set(Math.floor(index / this.#choicesPerPrompt), counts.prompt);
      completion += counts.completion;
    }
    let prompt = 0;
    for (const count of prompts.values()) prompt += count;
    return usageOf(prompt, completion);
  }
}
