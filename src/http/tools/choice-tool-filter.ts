/**
 * One chat choice's text through its tool mode: what becomes `content` and what becomes
 * `tool_calls` deltas, step by step, and the finish reason the choice reports.
 *
 * Owns: the four modes' streaming behaviour. none: all text is content. auto: the server's
 * tool-call parser (markup never reaches content). named: the whole output is the arguments of
 * one call, announced with its first text. required: the output is a JSON array of
 * `{"name", "parameters"}`, read once it is complete (a cut-off array yields no calls). With
 * `parallel_tool_calls: false` only the call of index 0 is kept.
 */
import type { FinishReason } from '../../engine/engine-types.ts';
import type { ChatFinishReason } from '../wire-types.ts';
import {
  randomToolCallId,
  type ToolCallDelta,
  type ToolCallStream,
  type ToolStreamUpdate,
  ToolUpdateBuilder,
} from './tool-call-parser.ts';
import type { ToolMode } from './tool-choice.ts';

const NOTHING: ToolStreamUpdate = { content: '', toolCalls: [] };

export class ChoiceToolFilter {
  readonly #mode: ToolMode;
  readonly #parallel: boolean;
  readonly #stream: ToolCallStream | null;
  readonly #builder = new ToolUpdateBuilder(randomToolCallId);
  #text = '';
  #calls = 0;

  constructor(mode: ToolMode, parallelToolCalls: boolean) {
    this.#mode = mode;
    this.#parallel = parallelToolCalls;
    this.#stream = mode.kind === 'auto' ? mode.parser.stream() : null;
  }

  /** True when the choice's content is its text unchanged. */
  get passthrough(): boolean {
    return this.#mode.kind === 'none';
  }

  /** The next text delta's content and tool-call deltas. */
  push(text: string): ToolStreamUpdate {
    switch (this.#mode.kind) {
      case 'none':
        return { content: text, toolCalls: [] };
      case 'auto':
        return this.#keep(this.#stream!.push(text));
      case 'named': {
        if (text === '') return NOTHING;
        if (this.#calls === 0) this.#calls = this.#builder.beginCall(this.#mode.name) + 1;
        this.#builder.appendArguments(0, text);
        return this.#builder.take();
      }
      case 'required':
        this.#text += text;
        return NOTHING;
    }
  }

  /** The end of the output: held-back text and the calls only now known. */
  finish(): ToolStreamUpdate {
    switch (this.#mode.kind) {
      case 'none':
        return NOTHING;
      case 'auto':
        return this.#keep(this.#stream!.finish());
      case 'named':
        if (this.#calls === 0) {
          this.#calls = this.#builder.beginCall(this.#mode.name) + 1;
          return this.#builder.take();
        }
        return NOTHING;
      case 'required':
        return this.#keep(this.#requiredCalls());
    }
  }

  /** The finish reason the choice reports for the engine's `reason`. */
  finishReason(reason: FinishReason): ChatFinishReason {
    if (this.#mode.kind === 'auto') return this.#calls > 0 ? 'tool_calls' : reason;
    if (this.#mode.kind === 'required') return reason === 'stop' ? 'tool_calls' : reason;
    return reason;
  }

  /** The content a non-streamed message carries for the joined content `content`. */
  messageContent(content: string): string | null {
    if (this.#mode.kind === 'auto') return content === '' ? null : content;
    return content;
  }

  #requiredCalls(): ToolStreamUpdate {
    let calls: unknown;
    try {
      calls = JSON.parse(this.#text);
    } catch {
      return NOTHING;
    }
    if (!Array.isArray(calls)) return NOTHING;
    for (const call of calls) {
      const { name, parameters } = call as { name?: unknown; parameters?: unknown };
      if (typeof name !== 'string') continue;
      const index = this.#builder.beginCall(name);
      this.#builder.appendArguments(index, JSON.stringify(parameters ?? {}));
    }
    return this.#builder.take();
  }

  /** Counts the update's calls and drops those past the first without parallel tool calls. */
  #keep(update: ToolStreamUpdate): ToolStreamUpdate {
    let toolCalls: readonly ToolCallDelta[] = update.toolCalls;
    for (const delta of toolCalls) this.#calls = Math.max(this.#calls, delta.index + 1);
    if (!this.#parallel) toolCalls = toolCalls.filter((delta) => delta.index === 0);
    return toolCalls === update.toolCalls ? update : { content: update.content, toolCalls };
  }
}
