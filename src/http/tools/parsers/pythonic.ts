/**
 * The `pythonic` tool-call format (Llama 3.2/4, ToolACE, ...): the output is a Python list of
 * calls with keyword arguments, `[get_weather(city="Paris", days=3), now()]`.
 *
 * Owns: deciding from the first character (after whitespace: `[` may start calls, anything
 * else means the whole output is content); the commit point of a call (its name, `(`, and its
 * first `keyword=` or an immediate `)`), before which anything that is not a call list (prose
 * in brackets, positional arguments, `[]`) turns the whole output into content; arguments
 * converted to JSON as they stream (see `python-lexer.ts`); once a call was announced, a break
 * closes it where it broke, and text after the list is dropped.
 */
import { CompactJsonWriter } from '../scan/json-writer.ts';
import { PythonLexer } from '../scan/python-lexer.ts';
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

/** Where the call list stands. */
type State =
  | 'lead'
  | 'item-first'
  | 'item-next'
  | 'name'
  | 'name-end'
  | 'args-first'
  | 'args-next'
  | 'keyword'
  | 'keyword-end'
  | 'value'
  | 'args-after'
  | 'list-after'
  | 'content'
  | 'ignore';

type Step = 'more' | 'stop' | 'end';

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f']);
const IDENTIFIER_START = /^[A-Za-z_]$/;
const IDENTIFIER_CHAR = /^[A-Za-z0-9_]$/;

/** The call being read. */
interface OpenCall {
  readonly name: string;
  readonly writer: CompactJsonWriter;
  index: number | null;
  value: PythonLexer | null;
}

class PythonicStream implements ToolCallStream {
  readonly #updates: ToolUpdateBuilder;
  #state: State = 'lead';
  /** The output so far while no call has been announced (it becomes content if none is). */
  #raw = '';
  #announced = false;
  #token = '';
  #call: OpenCall | null = null;

  constructor(newId: ToolCallIdGenerator) {
    this.#updates = new ToolUpdateBuilder(newId);
  }

  push(delta: string): ToolStreamUpdate {
    if (this.#state === 'content') this.#updates.content(delta);
    else if (this.#state !== 'ignore') this.#feed(delta);
    return this.#updates.take();
  }

  finish(): ToolStreamUpdate {
    if (this.#state === 'value') this.#call?.value?.end();
    if (this.#state !== 'content' && this.#state !== 'ignore') this.#stop('', true);
    return this.#updates.take();
  }

  #feed(text: string): void {
    let offset = 0;
    for (const ch of text) {
      const step = this.#step(ch);
      if (step === 'stop') {
        this.#stop(text.slice(offset), false);
        return;
      }
      offset += ch.length;
      if (!this.#announced) this.#raw += ch;
      this.#flushArguments();
      if (step === 'end') {
        this.#state = 'ignore';
        return;
      }
    }
  }

  #step(ch: string): Step {
    const space = WHITESPACE.has(ch);
    switch (this.#state) {
      case 'lead':
        if (space) return 'more';
        return ch === '[' ? this.#go('item-first') : 'stop';
      case 'item-first':
      case 'item-next':
        if (space) return 'more';
        if (ch === ']') return this.#state === 'item-next' ? 'end' : 'stop';
        return this.#startToken(ch, 'name');
      case 'name':
      case 'keyword':
        if (IDENTIFIER_CHAR.test(ch)) {
          this.#token += ch;
          return 'more';
        }
        if (space) return this.#go(this.#state === 'name' ? 'name-end' : 'keyword-end');
        return this.#state === 'name' ? this.#openCall(ch) : this.#keyword(ch);
      case 'name-end':
        return space ? 'more' : this.#openCall(ch);
      case 'keyword-end':
        return space ? 'more' : this.#keyword(ch);
      case 'args-first':
      case 'args-next':
        if (space) return 'more';
        if (ch === ')') return this.#closeCall();
        return this.#startToken(ch, 'keyword');
      case 'value':
        return this.#valueChar(ch);
      case 'args-after':
        if (space) return 'more';
        if (ch === ',') return this.#go('args-next');
        return ch === ')' ? this.#closeCall() : 'stop';
      case 'list-after':
        if (space) return 'more';
        if (ch === ',') return this.#go('item-next');
        return ch === ']' ? 'end' : 'stop';
      case 'content':
      case 'ignore':
        return 'stop';
    }
  }

  #go(state: State): 'more' {
    this.#state = state;
    return 'more';
  }

  #startToken(ch: string, state: 'name' | 'keyword'): Step {
    if (!IDENTIFIER_START.test(ch)) return 'stop';
    this.#token = ch;
    return this.#go(state);
  }

  #openCall(ch: string): Step {
    if (ch !== '(') return 'stop';
    const writer = new CompactJsonWriter();
    writer.openObject();
    this.#call = { name: this.#token, writer, index: null, value: null };
    return this.#go('args-first');
  }

  #keyword(ch: string): Step {
    const call = this.#call;
    if (ch !== '=' || call === null) return 'stop';
    call.writer.key(JSON.stringify(this.#token));
    this.#announce(call);
    call.value = new PythonLexer(call.writer);
    return this.#go('value');
  }

  #valueChar(ch: string): Step {
    const lexer = this.#call?.value;
    const status = lexer?.push(ch) ?? 'error';
    if (status === 'more') return 'more';
    if (status === 'error') return 'stop';
    this.#state = 'args-after';
    return status === 'done' ? 'more' : this.#step(ch);
  }

  #closeCall(): Step {
    const call = this.#call;
    if (call === null) return 'stop';
    call.writer.close();
    this.#announce(call);
    this.#flushArguments();
    this.#call = null;
    return this.#go('list-after');
  }

  #announce(call: OpenCall): void {
    if (call.index !== null) return;
    call.index = this.#updates.beginCall(call.name);
    this.#announced = true;
  }

  #flushArguments(): void {
    const call = this.#call;
    if (call !== null && call.index !== null) {
      this.#updates.appendArguments(call.index, call.writer.take());
    }
  }

  /** The calls ended at `rest` (or at the end of the output) without closing the list. */
  #stop(rest: string, outputEnded: boolean): void {
    const call = this.#call;
    if (call !== null && call.index !== null) {
      this.#updates.appendArguments(call.index, call.writer.take() + call.writer.closing());
    }
    this.#call = null;
    if (this.#announced) {
      this.#state = 'ignore';
      return;
    }
    this.#updates.content(this.#raw + rest);
    this.#raw = '';
    this.#state = outputEnded ? 'ignore' : 'content';
  }
}

/** The `pythonic` parser. */
export function pythonicToolParser(options: ToolCallParserOptions = {}): ToolCallParser {
  const newId = options.newId ?? randomToolCallId;
  return streamingToolCallParser('pythonic', false, () => new PythonicStream(newId));
}
