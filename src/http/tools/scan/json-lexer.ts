/**
 * An incremental JSON lexer: one value, fed a character at a time, reported as sink events.
 *
 * Owns: JSON's grammar (RFC 8259) checked as the text arrives, so the first character that
 * cannot continue the value is reported at once; what is held back until it is certain (a key
 * until its closing quote, an escape sequence until complete, a number or literal until it
 * ends); and one leniency: raw control characters inside strings (models write literal
 * newlines in code arguments) are accepted and escaped.
 */
import { escapeJsonText, type ValueSink } from './json-writer.ts';

/**
 * How a value stands after a character: `more` (consumed, value open), `done` (consumed, value
 * complete), `done-before` (the value ended before this character, which was not consumed: a
 * number ends only when something else follows) or `error` (the character cannot continue the
 * value; not consumed).
 */
export type LexStatus = 'more' | 'done' | 'done-before' | 'error';

type Mode =
  | 'value'
  | 'array-first'
  | 'object-first'
  | 'key'
  | 'key-string'
  | 'colon'
  | 'string'
  | 'number'
  | 'literal'
  | 'after'
  | 'done';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const NUMBER_CHARS = new Set([...'0123456789+-.eE']);
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const SIMPLE_ESCAPES = new Set([...'"\\/bfnrt']);
const HEX = /^[0-9a-fA-F]$/;
const LITERALS: Readonly<Record<string, string>> = { t: 'true', f: 'false', n: 'null' };
/** Marks a string's closing quote. */
const END_OF_STRING = Symbol('end of string');

/** Tells whether `ch` is JSON whitespace. */
export function isJsonWhitespace(ch: string): boolean {
  return WHITESPACE.has(ch);
}

/** Lexes one JSON value (leading whitespace allowed) into a sink. */
export class JsonLexer {
  readonly #sink: ValueSink;
  readonly #stack: ('}' | ']')[] = [];
  #mode: Mode = 'value';
  /** Key text, number or literal held back. */
  #token = '';
  /** An escape sequence in progress ('' when none). */
  #escape = '';

  constructor(sink: ValueSink) {
    this.#sink = sink;
  }

  /** Feeds one character (a code point). */
  push(ch: string): LexStatus {
    switch (this.#mode) {
      case 'value':
        return WHITESPACE.has(ch) ? 'more' : this.#startValue(ch);
      case 'array-first':
        if (WHITESPACE.has(ch)) return 'more';
        return ch === ']' ? this.#close(ch) : this.#startValue(ch);
      case 'object-first':
      case 'key':
        if (WHITESPACE.has(ch)) return 'more';
        if (ch === '}' && this.#mode === 'object-first') return this.#close(ch);
        if (ch !== '"') return 'error';
        this.#token = '"';
        this.#mode = 'key-string';
        return 'more';
      case 'key-string':
        return this.#keyChar(ch);
      case 'colon':
        if (WHITESPACE.has(ch)) return 'more';
        if (ch !== ':') return 'error';
        this.#mode = 'value';
        return 'more';
      case 'string':
        return this.#stringChar(ch);
      case 'number':
        return this.#numberChar(ch);
      case 'literal':
        return this.#literalChar(ch);
      case 'after':
        return this.#afterValue(ch);
      case 'done':
        return 'done-before';
    }
  }

  /** Ends the input: a number in progress is complete. Returns whether the value is complete. */
  end(): boolean {
    if (this.#mode === 'number' && NUMBER.test(this.#token)) {
      this.#sink.scalar(this.#token);
      this.#valueEnded();
    }
    return this.#mode === 'done';
  }

  #startValue(ch: string): LexStatus {
    if (ch === '"') {
      this.#sink.openString();
      this.#mode = 'string';
      return 'more';
    }
    if (ch === '{' || ch === '[') {
      if (ch === '{') this.#sink.openObject();
      else this.#sink.openArray();
      this.#stack.push(ch === '{' ? '}' : ']');
      this.#mode = ch === '{' ? 'object-first' : 'array-first';
      return 'more';
    }
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      this.#token = ch;
      this.#mode = 'number';
      return 'more';
    }
    if (LITERALS[ch] !== undefined) {
      this.#token = ch;
      this.#mode = 'literal';
      return 'more';
    }
    return 'error';
  }

  /** A value just ended: the whole value, or back inside its container. */
  #valueEnded(): LexStatus {
    if (this.#stack.length === 0) {
      this.#mode = 'done';
      return 'done';
    }
    this.#mode = 'after';
    return 'more';
  }

  #close(ch: string): LexStatus {
    if (this.#stack.at(-1) !== ch) return 'error';
    this.#stack.pop();
    this.#sink.close();
    return this.#valueEnded();
  }

  #afterValue(ch: string): LexStatus {
    if (WHITESPACE.has(ch)) return 'more';
    if (ch === ',') {
      this.#mode = this.#stack.at(-1) === '}' ? 'key' : 'value';
      return 'more';
    }
    return ch === '}' || ch === ']' ? this.#close(ch) : 'error';
  }

  #numberChar(ch: string): LexStatus {
    if (NUMBER_CHARS.has(ch)) {
      this.#token += ch;
      return 'more';
    }
    if (!NUMBER.test(this.#token)) return 'error';
    this.#sink.scalar(this.#token);
    const status = this.#valueEnded();
    return status === 'done' ? 'done-before' : this.push(ch);
  }

  #literalChar(ch: string): LexStatus {
    const literal = LITERALS[this.#token[0] ?? ''] ?? '';
    if (literal[this.#token.length] !== ch) return 'error';
    this.#token += ch;
    if (this.#token !== literal) return 'more';
    this.#sink.scalar(literal);
    return this.#valueEnded();
  }

  #keyChar(ch: string): LexStatus {
    const piece = this.#stringPiece(ch);
    if (piece === null) return 'error';
    if (piece === END_OF_STRING) {
      this.#sink.key(`${this.#token}"`);
      this.#mode = 'colon';
      return 'more';
    }
    this.#token += piece;
    return 'more';
  }

  #stringChar(ch: string): LexStatus {
    const piece = this.#stringPiece(ch);
    if (piece === null) return 'error';
    if (piece === END_OF_STRING) {
      this.#sink.closeString();
      return this.#valueEnded();
    }
    if (piece !== '') this.#sink.stringText(piece);
    return 'more';
  }

  /**
   * One character of a string body: the escaped text it completes ('' while an escape is in
   * progress), END_OF_STRING for the closing quote, or null for an invalid escape.
   */
  #stringPiece(ch: string): string | typeof END_OF_STRING | null {
    if (this.#escape !== '') {
      this.#escape += ch;
      if (this.#escape.length === 2) {
        if (ch === 'u') return '';
        if (!SIMPLE_ESCAPES.has(ch)) return null;
      } else if (!HEX.test(ch)) {
        return null;
      } else if (this.#escape.length < 6) {
        return '';
      }
      const escape = this.#escape;
      this.#escape = '';
      return escape;
    }
    if (ch === '\\') {
      this.#escape = ch;
      return '';
    }
    if (ch === '"') return END_OF_STRING;
    return ch < ' ' ? escapeJsonText(ch) : ch;
  }
}
