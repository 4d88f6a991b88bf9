/**
 * Reading the body of one Python string literal, character by character, as JSON string text.
 *
 * Owns: Python's quoting (`'` or `"`, single or triple, `r` raw strings) and escapes (`\n`,
 * `\t`, `\\`, `\'`, `\"`, `\a` `\b` `\f` `\v` `\r`, octal `\ooo`, `\xhh`, `\uXXXX`,
 * `\UXXXXXXXX`, line continuation; unknown escapes keep their backslash, as in Python), each
 * decoded character emitted JSON-escaped as soon as it is certain. `\N{...}` and byte or
 * f-strings are not literals we convert.
 */
import { escapeJsonText } from './json-writer.ts';

/**
 * How the string stands after a character: `more`, `end` (this was the closing quote),
 * `end-before` (the string was the empty `''` and this character follows it; not consumed) or
 * `error`.
 */
export type StringStatus = 'more' | 'end' | 'end-before' | 'error';

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\x0b',
};
const HEX_LENGTHS: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };
const OCTAL = /^[0-7]$/;
const HEX = /^[0-9a-fA-F]$/;

/** The body of a string whose opening quote has been read. */
export class PythonStringReader {
  readonly #quote: string;
  readonly #raw: boolean;
  readonly #emit: (escaped: string) => void;
  /** Quotes seen at the start (1 or 2) while single/triple/empty is undecided; 0 after. */
  #opening = 1;
  #triple = false;
  /** Quotes held inside a triple-quoted body: maybe its end. */
  #quoteRun = 0;
  /** The escape sequence in progress ('' when none). */
  #escape = '';

  /** `emit` receives decoded characters, JSON-escaped. */
  constructor(quote: string, raw: boolean, emit: (escaped: string) => void) {
    this.#quote = quote;
    this.#raw = raw;
    this.#emit = emit;
  }

  /** True when the input ended right after `''` (an empty string, not a triple quote). */
  get emptyAtEnd(): boolean {
    return this.#opening === 2;
  }

  /** Feeds one character (a code point). */
  push(ch: string): StringStatus {
    if (this.#opening > 0) {
      if (ch === this.#quote) {
        if (this.#opening === 2) {
          this.#opening = 0;
          this.#triple = true;
          return 'more';
        }
        this.#opening = 2;
        return 'more';
      }
      if (this.#opening === 2) return 'end-before';
      this.#opening = 0;
    }
    if (this.#escape !== '') return this.#escapeChar(ch);
    if (this.#triple) {
      if (ch === this.#quote) {
        this.#quoteRun++;
        return this.#quoteRun === 3 ? 'end' : 'more';
      }
      this.#text(this.#quote.repeat(this.#quoteRun));
      this.#quoteRun = 0;
    } else if (ch === this.#quote) {
      return 'end';
    } else if (ch === '\n' || ch === '\r') {
      return 'error';
    }
    if (ch === '\\') {
      this.#escape = ch;
      return 'more';
    }
    this.#text(ch);
    return 'more';
  }

  #text(decoded: string): void {
    if (decoded !== '') this.#emit(escapeJsonText(decoded));
  }

  #escapeChar(ch: string): StringStatus {
    const escape = this.#escape;
    if (escape.length === 1) return this.#escapeStart(ch);
    const kind = escape[1] ?? '';
    if (OCTAL.test(kind)) {
      if (OCTAL.test(ch) && escape.length < 4) {
        this.#escape += ch;
        return escape.length === 3 ? this.#endEscape(parseInt(this.#escape.slice(1), 8)) : 'more';
      }
      this.#endEscape(parseInt(escape.slice(1), 8));
      return this.push(ch);
    }
    if (!HEX.test(ch)) return 'error';
    this.#escape += ch;
    if (this.#escape.length < 2 + (HEX_LENGTHS[kind] ?? 0)) return 'more';
    const code = parseInt(this.#escape.slice(2), 16);
    return code > 0x10ffff ? 'error' : this.#endEscape(code);
  }

  /** The character after a backslash. */
  #escapeStart(ch: string): StringStatus {
    if (this.#raw) {
      this.#escape = '';
      this.#text(`\\${ch}`);
      return 'more';
    }
    const simple = SIMPLE_ESCAPES[ch];
    if (simple !== undefined || ch === '\n') {
      this.#escape = '';
      this.#text(simple ?? '');
      return 'more';
    }
    if (OCTAL.test(ch) || HEX_LENGTHS[ch] !== undefined) {
      this.#escape += ch;
      return 'more';
    }
    if (ch === 'N') return 'error';
    this.#escape = '';
    this.#text(`\\${ch}`);
    return 'more';
  }

  #endEscape(code: number): 'more' {
    this.#escape = '';
    this.#text(String.fromCodePoint(code));
    return 'more';
  }
}
