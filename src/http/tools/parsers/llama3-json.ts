/**
 * The `llama3_json` tool-call format (Llama 3.1/3.2/3.3 and 4 with JSON tool prompts): the output
 * is one or more `{"name": "f", "arguments"|"parameters": {...}}` objects, optionally after
 * `<|python_tag|>`, separated by `;` (or just whitespace).
 *
 * Owns: deciding from the output's first characters (after whitespace: the tag or `{` means
 * calls, anything else means the whole output is content); "not calls after all" (the first
 * object breaks, or lacks `name` or `arguments`/`parameters`, before it could be announced)
 * turns the whole output into content; once a call was announced, text that is not another
 * call object ends the calls and is dropped, and a call whose JSON breaks is closed where it
 * broke. Arguments are streamed as compact JSON as they arrive.
 */
import { isJsonWhitespace } from '../scan/json-lexer.ts';
import { JsonCallStream } from '../scan/json-call-stream.ts';
import {
  randomToolCallId,
  streamingToolCallParser,
  ToolUpdateBuilder,
  type ToolCallIdGenerator,
  type ToolCallParser,
  type ToolCallParserOptions,
  type ToolCallStream,
  type ToolStreamUpdate,
} from '../tool-call-parser.ts';

const PYTHON_TAG = '<|python_tag|>';

type Phase = 'lead' | 'calls' | 'content' | 'ignore';

class Llama3JsonStream implements ToolCallStream {
  readonly #updates: ToolUpdateBuilder;
  #phase: Phase = 'lead';
  /** The output so far while no call has been announced (it becomes content if none is). */
  #raw = '';
  #call: JsonCallStream | null = null;
  #announced = false;

  constructor(newId: ToolCallIdGenerator) {
    this.#updates = new ToolUpdateBuilder(newId);
  }

  push(delta: string): ToolStreamUpdate {
    switch (this.#phase) {
      case 'lead':
        this.#lead(delta);
        break;
      case 'calls':
        this.#calls(delta);
        break;
      case 'content':
        this.#updates.content(delta);
        break;
      case 'ignore':
        break;
    }
    return this.#updates.take();
  }

  finish(): ToolStreamUpdate {
    if (this.#phase === 'lead') this.#updates.content(this.#raw);
    if (this.#phase === 'calls') {
      if (this.#call?.finish(true) === true) this.#announced = true;
      if (!this.#announced) this.#updates.content(this.#raw);
    }
    this.#phase = 'ignore';
    return this.#updates.take();
  }

  /** The start of the output: wait until it shows calls or content. */
  #lead(text: string): void {
    const lead = this.#raw + text;
    const start = lead.trimStart();
    if (start === '' || (start.length < PYTHON_TAG.length && PYTHON_TAG.startsWith(start))) {
      this.#raw = lead;
    } else if (start.startsWith(PYTHON_TAG)) {
      const afterTag = lead.length - start.length + PYTHON_TAG.length;
      this.#raw = lead.slice(0, afterTag);
      this.#phase = 'calls';
      this.#calls(lead.slice(afterTag));
    } else if (start.startsWith('{')) {
      this.#raw = '';
      this.#phase = 'calls';
      this.#calls(lead);
    } else {
      this.#raw = '';
      this.#phase = 'content';
      this.#updates.content(lead);
    }
  }

  /** Call objects and their separators. */
  #calls(text: string): void {
    let offset = 0;
    for (const ch of text) {
      if (!this.#step(ch)) {
        this.#stop(text.slice(offset));
        return;
      }
      offset += ch.length;
      if (!this.#announced) this.#raw += ch;
    }
  }

  /** One character of the calls; false when it cannot belong to them. */
  #step(ch: string): boolean {
    if (this.#call === null) {
      if (isJsonWhitespace(ch) || ch === ';') return true;
      if (ch !== '{') return false;
      this.#call = new JsonCallStream(this.#updates, true);
    }
    const status = this.#call.push(ch);
    if (status === 'more') return true;
    const isCall = this.#call.finish(false);
    this.#call = null;
    if (isCall) this.#announced = true;
    return isCall && status === 'done';
  }

  /** The calls ended at a character that is not part of them. */
  #stop(rest: string): void {
    if (this.#announced) {
      this.#phase = 'ignore';
      return;
    }
    this.#phase = 'content';
    this.#updates.content(this.#raw + rest);
    this.#raw = '';
  }
}

/** The `llama3_json` parser (vLLM also registers it as `llama4_json`). */
export function llama3JsonToolParser(
  options: ToolCallParserOptions = {},
  name = 'llama3_json',
): ToolCallParser {
  const newId = options.newId ?? randomToolCallId;
  return streamingToolCallParser(name, false, () => new Llama3JsonStream(newId));
}
