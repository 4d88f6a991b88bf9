/**
 * The `hermes` tool-call format (Hermes 2 Pro/3, Qwen 2.5/3): calls are
 * `<tool_call>{"name": "f", "arguments": {...}}</tool_call>` blocks.
 *
 * Owns: content is the text before the first call (text the model writes after it has started
 * calling is dropped, as vLLM does); a block whose text is not a call object (bad JSON before
 * the name and arguments are known, no name, a non-string name) stays content, markup included;
 * a missing `arguments` means `{}`; an unterminated last block is accepted; a call whose JSON
 * breaks after it was announced is closed where it broke and the rest of its block is skipped.
 * Arguments are streamed as compact JSON as they arrive.
 */
import { JsonCallStream } from '../scan/json-call-stream.ts';
import { MarkerScanner } from '../scan/marker-scanner.ts';
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

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

class HermesStream implements ToolCallStream {
  readonly #updates: ToolUpdateBuilder;
  readonly #scanner = new MarkerScanner([OPEN, CLOSE]);
  /** The block being read, or null between blocks. */
  #call: JsonCallStream | null = null;
  /** The block's text while it may still turn out to be content. */
  #raw = '';
  /** Content is open until the first call is announced. */
  #contentOpen = true;

  constructor(newId: ToolCallIdGenerator) {
    this.#updates = new ToolUpdateBuilder(newId);
  }

  push(delta: string): ToolStreamUpdate {
    let text = delta;
    while (text !== '') text = this.#call === null ? this.#feedText(text) : this.#feedBlock(text);
    return this.#updates.take();
  }

  finish(): ToolStreamUpdate {
    if (this.#call !== null) this.#endBlock(true);
    this.#content(this.#scanner.flush());
    return this.#updates.take();
  }

  /** Text between blocks; returns what follows a block's opening tag. */
  #feedText(text: string): string {
    const scan = this.#scanner.push(text);
    this.#content(scan.text);
    if (scan.marker === CLOSE) this.#content(CLOSE);
    if (scan.marker === OPEN) {
      this.#call = new JsonCallStream(this.#updates, false);
      this.#raw = OPEN;
    }
    return scan.rest;
  }

  /** Inside a block; returns the text after the call object (or from where it broke). */
  #feedBlock(text: string): string {
    const call = this.#call;
    if (call === null) return text;
    let offset = 0;
    for (const ch of text) {
      const status = call.push(ch);
      if (status === 'error' || status === 'done-before') {
        this.#endBlock(false);
        return text.slice(offset);
      }
      offset += ch.length;
      if (!call.announced) this.#raw += ch;
      if (status === 'done') {
        this.#endBlock(false);
        return text.slice(offset);
      }
    }
    return '';
  }

  #endBlock(outputEnded: boolean): void {
    if (this.#call?.finish(outputEnded) === true) this.#contentOpen = false;
    else this.#content(this.#raw);
    this.#call = null;
    this.#raw = '';
  }

  #content(text: string): void {
    if (this.#contentOpen && text !== '') this.#updates.content(text);
  }
}

/** The `hermes` parser. */
export function hermesToolParser(options: ToolCallParserOptions = {}): ToolCallParser {
  const newId = options.newId ?? randomToolCallId;
  return streamingToolCallParser('hermes', false, () => new HermesStream(newId));
}
