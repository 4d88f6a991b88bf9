/**
 * The tool-call parser contract: how a model's generated text becomes OpenAI tool calls.
 *
 * Owns: the plain-data shapes a parser produces (whole-output results and streaming updates),
 * tool-call ids (`chatcmpl-tool-` + 16 hex, or Mistral's 9 alphanumerics; injectable for
 * tests), the update builder every parser streams through (one delta per call per update, the
 * first carrying id/type/name), and "non-streaming = stream everything at once", which makes a
 * parser's `parse()` agree with its stream by construction.
 */
import { randomBytes, randomInt } from 'node:crypto';

/** One tool call extracted from a complete output. */
export interface ParsedToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments as JSON text (compact). */
  readonly arguments: string;
}

/** What a parser makes of a whole output. */
export interface ToolParseResult {
  /** Text outside tool calls; null when there is none (OpenAI's empty content). */
  readonly content: string | null;
  readonly toolCalls: readonly ParsedToolCall[];
}

/** One element of a streamed `delta.tool_calls` (OpenAI's ChoiceDeltaToolCall). */
export interface ToolCallDelta {
  readonly index: number;
  /** Only on the first delta of a call. */
  readonly id?: string;
  /** Only on the first delta of a call. */
  readonly type?: 'function';
  readonly function: {
    /** Only on the first delta of a call. */
    readonly name?: string;
    /** A fragment of the arguments JSON text; fragments concatenate to the whole. */
    readonly arguments?: string;
  };
}

/** What one streamed text delta (or the final flush) produced. */
export interface ToolStreamUpdate {
  /** Content text released by this step ('' when none). */
  readonly content: string;
  readonly toolCalls: readonly ToolCallDelta[];
}

/** A per-choice streaming state. */
export interface ToolCallStream {
  /** Feeds the next text delta. Text that may still turn out to be markup is held back. */
  push(delta: string): ToolStreamUpdate;
  /** Ends the output: releases held text and completes an unfinished call's arguments. */
  finish(): ToolStreamUpdate;
}

/** A named tool-call format (`--tool-call-parser NAME`). */
export interface ToolCallParser {
  readonly name: string;
  /**
   * True when the format's markers are special tokens (Mistral's `[TOOL_CALLS]`): the output
   * must be detokenized with special tokens kept, or the parser never sees a call.
   */
  readonly needsSpecialTokens: boolean;
  /** The whole output at once (non-streaming). */
  parse(text: string): ToolParseResult;
  /** A fresh streaming state (one per choice). */
  stream(): ToolCallStream;
}

/** Makes tool-call ids. */
export type ToolCallIdGenerator = () => string;

/** Options every parser factory takes. */
export interface ToolCallParserOptions {
  /** Replaces the parser's id generator (tests use a counter). */
  readonly newId?: ToolCallIdGenerator;
}

/** vLLM's tool-call id: `chatcmpl-tool-` and 16 random hex characters. */
export function randomToolCallId(): string {
  return `chatcmpl-tool-${randomBytes(8).toString('hex')}`;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Mistral's tool-call id: 9 random alphanumeric characters (mistral-common's rule). */
export function randomMistralToolCallId(): string {
  let id = '';
  for (let i = 0; i < 9; i++) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}

interface DeltaDraft {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments?: string };
}

/**
 * Collects one step's content and tool-call deltas. A call's deltas within one step are merged,
 * so a call is announced (id, type, name, `arguments: ''` or its first fragment) exactly once.
 */
export class ToolUpdateBuilder {
  readonly #newId: ToolCallIdGenerator;
  #content = '';
  #deltas: DeltaDraft[] = [];
  #calls = 0;

  constructor(newId: ToolCallIdGenerator) {
    this.#newId = newId;
  }

  /** How many calls have been announced. */
  get callCount(): number {
    return this.#calls;
  }

  /** Appends content text. */
  content(text: string): void {
    this.#content += text;
  }

  /** Announces a new call; returns its index. */
  beginCall(name: string): number {
    const index = this.#calls++;
    this.#deltas.push({
      index,
      id: this.#newId(),
      type: 'function',
      function: { name, arguments: '' },
    });
    return index;
  }

  /** Appends an arguments fragment to call `index` (empty fragments are dropped). */
  appendArguments(index: number, text: string): void {
    if (text === '') return;
    const last = this.#deltas.at(-1);
    if (last?.index === index) {
      last.function.arguments = (last.function.arguments ?? '') + text;
    } else {
      this.#deltas.push({ index, function: { arguments: text } });
    }
  }

  /** The step's update; the builder starts a new step. */
  take(): ToolStreamUpdate {
    const update: ToolStreamUpdate = { content: this.#content, toolCalls: this.#deltas };
    this.#content = '';
    this.#deltas = [];
    return update;
  }
}

/** Assembles streamed updates into the whole-output result. */
export function assembleToolUpdates(updates: readonly ToolStreamUpdate[]): ToolParseResult {
  let content = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const update of updates) {
    content += update.content;
    for (const delta of update.toolCalls) {
      const call = (calls[delta.index] ??= { id: '', name: '', arguments: '' });
      if (delta.id !== undefined) call.id = delta.id;
      if (delta.function.name !== undefined) call.name = delta.function.name;
      call.arguments += delta.function.arguments ?? '';
    }
  }
  return { content: content === '' ? null : content, toolCalls: calls };
}

/**
 * A parser whose non-streaming result is its stream fed the whole text: both modes share one
 * path, so they cannot disagree.
 */
export function streamingToolCallParser(
  name: string,
  needsSpecialTokens: boolean,
  createStream: () => ToolCallStream,
): ToolCallParser {
  return {
    name,
    needsSpecialTokens,
    stream: createStream,
    parse(text: string): ToolParseResult {
      const stream = createStream();
      return assembleToolUpdates([stream.push(text), stream.finish()]);
    },
  };
}
