/**
 * The `mistral` tool-call format. After the `[TOOL_CALLS]` token, either a JSON array of
 * `{"name", "arguments"}` objects (v3/v7 tokenizers, Mistral 7B v0.3, Nemo; a lone object is
 * accepted too) or, one `[TOOL_CALLS]` per call, `name{args}`, `name[ARGS]{args}` (v13+) or
 * `name[CALL_ID]id[ARGS]{args}` (v11).
 *
 * Owns: content is the text before the first call (text after it is dropped, as vLLM does); a
 * `[TOOL_CALLS]` section that is not a call (broken before a call could be announced) stays
 * content, marker included; a call whose JSON breaks is closed where it broke. Ids are 9
 * alphanumerics (Mistral's templates reject others). `[TOOL_CALLS]` is a special token, so the
 * output must be detokenized with special tokens kept (`needsSpecialTokens`).
 */
import { JsonCallStream } from '../scan/json-call-stream.ts';
import { isJsonWhitespace, JsonLexer } from '../scan/json-lexer.ts';
import { CompactJsonWriter } from '../scan/json-writer.ts';
import { MarkerScanner } from '../scan/marker-scanner.ts';
import {
  randomMistralToolCallId,
  streamingToolCallParser,
  ToolUpdateBuilder,
  type ToolCallIdGenerator,
  type ToolCallParser,
  type ToolCallParserOptions,
  type ToolCallStream,
  type ToolStreamUpdate,
} from '../tool-call-parser.ts';

const MARKER = '[TOOL_CALLS]';
const ARGS = '[ARGS]';
const CALL_ID = '[CALL_ID]';
const NAME_CHAR = /^[A-Za-z0-9_-]$/;
const ID_CHAR = /^[A-Za-z0-9]$/;

/** Where a `[TOOL_CALLS]` section stands. */
type Section =
  | 'start'
  | 'array-first'
  | 'array-next'
  | 'array-item'
  | 'array-after'
  | 'object'
  | 'name'
  | 'bracket'
  | 'call-id'
  | 'args-start'
  | 'args';

/** A `name{args}` call's arguments, streamed straight from the JSON lexer. */
interface NamedArguments {
  readonly index: number;
  readonly writer: CompactJsonWriter;
  readonly lexer: JsonLexer;
}

class MistralStream implements ToolCallStream {
  readonly #updates: ToolUpdateBuilder;
  readonly #scanner = new MarkerScanner([MARKER]);
  #section: Section | null = null;
  /** The section's text while it may turn out to be content. */
  #raw = '';
  #announced = false;
  #contentOpen = true;
  #call: JsonCallStream | null = null;
  #name = '';
  #bracket = '';
  #args: NamedArguments | null = null;

  constructor(newId: ToolCallIdGenerator) {
    this.#updates = new ToolUpdateBuilder(newId);
  }

  push(delta: string): ToolStreamUpdate {
    let text = delta;
    while (text !== '') text = this.#section === null ? this.#feedText(text) : this.#feed(text);
    return this.#updates.take();
  }

  finish(): ToolStreamUpdate {
    if (this.#section !== null) this.#endSection(true);
    this.#content(this.#scanner.flush());
    return this.#updates.take();
  }

  #feedText(text: string): string {
    const scan = this.#scanner.push(text);
    this.#content(scan.text);
    if (scan.marker !== null) {
      this.#section = 'start';
      this.#raw = MARKER;
      this.#announced = false;
    }
    return scan.rest;
  }

  /** Inside a section; returns the text after it (from the character that ended it). */
  #feed(text: string): string {
    let offset = 0;
    for (const ch of text) {
      const step = this.#step(ch);
      if (step === 'stop') {
        this.#endSection(false);
        return text.slice(offset);
      }
      offset += ch.length;
      if (!this.#announced) this.#raw += ch;
      if (step === 'end') {
        this.#endSection(false);
        return text.slice(offset);
      }
    }
    return '';
  }

  /** One character: consumed (`more`), the section's last (`end`), or not part of it (`stop`). */
  #step(ch: string): 'more' | 'end' | 'stop' {
    switch (this.#section) {
      case 'start':
        if (isJsonWhitespace(ch)) return 'more';
        if (ch === '[') return this.#go('array-first');
        if (ch === '{') return this.#callChar(ch, 'object');
        if (!NAME_CHAR.test(ch)) return 'stop';
        this.#name = ch;
        return this.#go('name');
      case 'array-first':
      case 'array-next':
        if (isJsonWhitespace(ch)) return 'more';
        if (ch === ']' && this.#section === 'array-first') return 'end';
        return ch === '{' ? this.#callChar(ch, 'array-item') : 'stop';
      case 'array-item':
      case 'object':
        return this.#callChar(ch, this.#section);
      case 'array-after':
        if (isJsonWhitespace(ch)) return 'more';
        if (ch === ',') return this.#go('array-next');
        return ch === ']' ? 'end' : 'stop';
      case 'name':
        if (NAME_CHAR.test(ch)) {
          this.#name += ch;
          return 'more';
        }
        if (ch === '{') return this.#startArguments(ch);
        return ch === '[' ? this.#startBracket() : 'stop';
      case 'bracket':
        return this.#bracketChar(ch);
      case 'call-id':
        if (ID_CHAR.test(ch)) return 'more';
        return ch === '[' ? this.#startBracket() : 'stop';
      case 'args-start':
        if (isJsonWhitespace(ch)) return 'more';
        return ch === '{' ? this.#startArguments(ch) : 'stop';
      case 'args':
        return this.#argumentsChar(ch);
      case null:
        return 'stop';
    }
  }

  #go(section: Section): 'more' {
    this.#section = section;
    return 'more';
  }

  /** A character of a JSON call object (array item or lone object). */
  #callChar(ch: string, section: 'array-item' | 'object'): 'more' | 'end' | 'stop' {
    this.#section = section;
    this.#call ??= new JsonCallStream(this.#updates, false);
    const status = this.#call.push(ch);
    if (status === 'more') return 'more';
    const isCall = this.#call.finish(false);
    this.#call = null;
    if (isCall) this.#announced = true;
    if (!isCall || status !== 'done') return 'stop';
    return section === 'object' ? 'end' : this.#go('array-after');
  }

  #startBracket(): 'more' {
    this.#bracket = '[';
    return this.#go('bracket');
  }

  #bracketChar(ch: string): 'more' | 'stop' {
    this.#bracket += ch;
    if (this.#bracket === ARGS) return this.#go('args-start');
    if (this.#bracket === CALL_ID) return this.#go('call-id');
    return ARGS.startsWith(this.#bracket) || CALL_ID.startsWith(this.#bracket) ? 'more' : 'stop';
  }

  /** The `{` that opens a named call's arguments: the call is announced here. */
  #startArguments(ch: string): 'more' {
    const writer = new CompactJsonWriter();
    const lexer = new JsonLexer(writer);
    const index = this.#updates.beginCall(this.#name);
    this.#announced = true;
    this.#args = { index, writer, lexer };
    lexer.push(ch);
    this.#updates.appendArguments(index, writer.take());
    return this.#go('args');
  }

  #argumentsChar(ch: string): 'more' | 'end' | 'stop' {
    const args = this.#args;
    if (args === null) return 'stop';
    const status = args.lexer.push(ch);
    this.#updates.appendArguments(args.index, args.writer.take());
    if (status === 'more') return 'more';
    return status === 'done' ? 'end' : 'stop';
  }

  /** Ends the section: completes an open call; a section without calls is content. */
  #endSection(outputEnded: boolean): void {
    if (this.#call?.finish(outputEnded) === true) this.#announced = true;
    this.#call = null;
    const args = this.#args;
    if (args !== null) {
      if (outputEnded) args.lexer.end();
      this.#updates.appendArguments(args.index, args.writer.take() + args.writer.closing());
      this.#args = null;
    } else if (outputEnded && this.#betweenNameAndArguments()) {
      this.#updates.appendArguments(this.#updates.beginCall(this.#name), '{}');
      this.#announced = true;
    }
    if (this.#announced) this.#contentOpen = false;
    else this.#content(this.#raw);
    this.#section = null;
    this.#raw = '';
  }

  /** True when a named call's name is complete but its arguments have not begun. */
  #betweenNameAndArguments(): boolean {
    const section = this.#section;
    return section === 'bracket' || section === 'call-id' || section === 'args-start';
  }

  #content(text: string): void {
    if (this.#contentOpen && text !== '') this.#updates.content(text);
  }
}

/** The `mistral` parser. */
export function mistralToolParser(options: ToolCallParserOptions = {}): ToolCallParser {
  const newId = options.newId ?? randomMistralToolCallId;
  return streamingToolCallParser('mistral', true, () => new MistralStream(newId));
}
