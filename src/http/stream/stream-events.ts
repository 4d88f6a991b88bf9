/**
 * Responses as a typed sequence of events, shared by streaming and non-streaming answers.
 *
 * Owns: the event type (a chunk with that choice's running usage, then one final usage event),
 * the interface of the pure per-endpoint state that turns engine outputs into chunks, the loop
 * that drives it, and the usage bookkeeping (each prompt and its cached tokens counted once,
 * completions summed; prompt_tokens_details only with --enable-prompt-tokens-details).
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

/**
 * A usage object from prompt and completion counts; `cachedTokens` fills prompt_tokens_details
 * when positive (vLLM reports `{cached_tokens}` only then), null leaves it null.
 */
export function usageOf(
  promptTokens: number,
  completionTokens: number,
  cachedTokens: number | null = null,
): Usage {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details:
      cachedTokens !== null && cachedTokens > 0 ? { cached_tokens: cachedTokens } : null,
  };
}

/** How a response counts usage. */
export interface UsageOptions {
  /** `n`: choice i answers prompt floor(i / choicesPerPrompt). Default 1. */
  readonly choicesPerPrompt?: number;
  /** `--enable-prompt-tokens-details`: report each prompt's cached tokens. Default false. */
  readonly promptTokensDetails?: boolean;
}

interface ChoiceCounts {
  readonly prompt: number;
  readonly completion: number;
}

/**
 * Token counts per choice, from the engine's running totals. A prompt's cached tokens are those
 * of its first choice that reported (the lowest index): the leader of `n` samples, which found
 * the prompt in the cache; its siblings copied the leader's KV and report 0 of their own.
 */
export class UsageCounter {
  readonly #counts = new Map<number, ChoiceCounts>();
  /** Per prompt: the lowest choice index that reported, and its cached tokens. */
  readonly #cached = new Map<number, { index: number; tokens: number }>();
  readonly #choicesPerPrompt: number;
  readonly #promptTokensDetails: boolean;

  constructor(options: UsageOptions = {}) {
    this.#choicesPerPrompt = options.choicesPerPrompt ?? 1;
    this.#promptTokensDetails = options.promptTokensDetails ?? false;
  }

  /** Takes the totals an output reports for choice `index`. */
  record(index: number, output: RequestOutput): void {
    this.#counts.set(index, { prompt: output.promptTokens, completion: output.completionTokens });
    const prompt = this.#promptOf(index);
    const known = this.#cached.get(prompt);
    if (known === undefined || index <= known.index) {
      this.#cached.set(prompt, { index, tokens: output.cachedTokens });
    }
  }

  /** Usage of one choice so far (its prompt's cached tokens). */
  choice(index: number): Usage {
    const counts = this.#counts.get(index);
    return usageOf(counts?.prompt ?? 0, counts?.completion ?? 0, this.#cachedOf(index));
  }

  /** Usage of choice `index`'s prompt before any output (completion 0). */
  promptOnly(index: number): Usage {
    return usageOf(this.#counts.get(index)?.prompt ?? 0, 0, this.#cachedOf(index));
  }

  /** Usage of the whole response: every prompt once (however many choices), all completions. */
  total(): Usage {
    const prompts = new Map<number, number>();
    let completion = 0;
    for (const [index, counts] of this.#counts) {
      prompts.set(this.#promptOf(index), counts.prompt);
      completion += counts.completion;
    }
    let prompt = 0;
    let cached = 0;
    for (const [promptIndex, count] of prompts) {
      prompt += count;
      cached += this.#cached.get(promptIndex)?.tokens ?? 0;
    }
    return usageOf(prompt, completion, this.#promptTokensDetails ? cached : null);
  }

  #promptOf(index: number): number {
    return Math.floor(index / this.#choicesPerPrompt);
  }

  /** The cached tokens of choice `index`'s prompt, or null when not reported. */
  #cachedOf(index: number): number | null {
    if (!this.#promptTokensDetails) return null;
    return this.#cached.get(this.#promptOf(index))?.tokens ?? 0;
  }
}
