/**
 * An incremental lexer for one Python literal (a tool-call argument value), reported as JSON
 * sink events, so `[1, 'a', {"k": None}]` streams out as `[1,"a",{"k":null}]`.
 *
 * Owns: the literals a pythonic tool call may pass and their JSON form: strings (see
 * `python-string.ts`; `r`/`u` prefixes), ints (decimal, `0x`/`0o`/`0b`, `_` separators, a sign)
 * and floats (`.5`, `5.`, exponents) as JSON numbers, `True`/`False`/`None`, lists, dicts
 * (string, number, bool or None keys, converted to JSON string keys as Python's json.dumps
 * does) with Python's trailing commas. Anything else (names, calls, tuples, comments) is an
 * error at the character that shows it.
 */
import type { LexStatus } from './json-lexer.ts';
import { CompactJsonWriter, type ValueSink } from './json-writer.ts';
import { PythonStringReader } from './python-string.ts';

type Mode =
  | 'value'
  | 'list-first'
  | 'list-next'
  | 'dict-first'
  | 'dict-next'
  | 'colon'
  | 'word'
  | 'number'
  | 'string'
  | 'after'
  | 'done';

interface Frame {
  readonly closer: ']' | '}';
  /** For dicts: whether the next value is a key. */
  expectKey: boolean;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f']);
const WORD_CHAR = /^[A-Za-z0-9_]$/;
const NUMBER_CHAR = /^[0-9A-Za-z_.]$/;
const KEYWORDS: Readonly<Record<string, string>> = { True: 'true', False: 'false', None: 'null' };
const STRING_PREFIXES = new Set(['r', 'R', 'u', 'U']);

/** Lexes one Python literal (leading whitespace allowed) into a sink. */
export class PythonLexer {
  readonly #sink: ValueSink;
  readonly #stack: Frame[] = [];
  #mode: Mode = 'value';
  #token = '';
  #string: PythonStringReader | null = null;
  /** Collects a dict key, which JSON needs as a string. */
  #keyWriter: CompactJsonWriter | null = null;

  constructor(sink: ValueSink) {
    this.#sink = sink;
  }

  /** Feeds one character (a code point). */
  push(ch: string): LexStatus {
    switch (this.#mode) {
      case 'value':
        return WHITESPACE.has(ch) ? 'more' : this.#startValue(ch);
      case 'list-first':
      case 'list-next':
      case 'dict-first':
      case 'dict-next':
        if (WHITESPACE.has(ch)) return 'more';
        if (ch === ']' || ch === '}') return this.#close(ch);
        return this.#startValue(ch);
      case 'colon':
        if (WHITESPACE.has(ch)) return 'more';
        if (ch !== ':') return 'error';
        this.#mode = 'value';
        return 'more';
      case 'word':
        return this.#wordChar(ch);
      case 'number':
        return this.#numberChar(ch);
      case 'string':
        return this.#stringChar(ch);
      case 'after':
        return this.#afterValue(ch);
      case 'done':
        return 'done-before';
    }
  }

  /**
   * Ends the input: a number, word or `''` in progress ends. Returns whether the value is
   * complete.
   */
  end(): boolean {
    if (this.#mode === 'number' || this.#mode === 'word') this.push(' ');
    if (this.#mode === 'string' && this.#string?.emptyAtEnd === true) {
      this.#string = null;
      this.#out.closeString();
      this.#valueEnded();
    }
    return this.#mode === 'done';
  }

  /** Where events go: the key collector while a dict key is read, else the sink. */
  get #out(): ValueSink {
    return this.#keyWriter ?? this.#sink;
  }

  #startValue(ch: string): LexStatus {
    const frame = this.#stack.at(-1);
    const isKey = frame?.expectKey === true;
    if (isKey) this.#keyWriter = new CompactJsonWriter();
    if (ch === '"' || ch === "'") return this.#openString(ch, false);
    if (ch === '[' || ch === '{') {
      if (isKey) return 'error';
      if (ch === '[') this.#sink.openArray();
      else this.#sink.openObject();
      this.#stack.push({ closer: ch === '[' ? ']' : '}', expectKey: ch === '{' });
      this.#mode = ch === '[' ? 'list-first' : 'dict-first';
      return 'more';
    }
    if (/^[0-9.+-]$/.test(ch)) {
      this.#token = ch;
      this.#mode = 'number';
      return 'more';
    }
    if (/^[A-Za-z_]$/.test(ch)) {
      this.#token = ch;
      this.#mode = 'word';
      return 'more';
    }
    return 'error';
  }

  #openString(quote: string, raw: boolean): LexStatus {
    const out = this.#out;
    out.openString();
    this.#string = new PythonStringReader(quote, raw, (escaped) => this.#out.stringText(escaped));
    this.#mode = 'string';
    return 'more';
  }

  #stringChar(ch: string): LexStatus {
    const status = this.#string?.push(ch) ?? 'error';
    if (status === 'more' || status === 'error') return status;
    this.#string = null;
    this.#out.closeString();
    const ended = this.#valueEnded();
    return status === 'end' ? ended : this.#reprocess(ended, ch);
  }

  #wordChar(ch: string): LexStatus {
    if (WORD_CHAR.test(ch)) {
      this.#token += ch;
      return 'more';
    }
    if ((ch === '"' || ch === "'") && STRING_PREFIXES.has(this.#token)) {
      return this.#openString(ch, this.#token.toLowerCase() === 'r');
    }
    const literal = KEYWORDS[this.#token];
    if (literal === undefined) return 'error';
    this.#out.scalar(literal);
    return this.#reprocess(this.#valueEnded(), ch);
  }

  #numberChar(ch: string): LexStatus {
    const exponentSign = (ch === '+' || ch === '-') && /^[+-]?[0-9._]*[eE]$/.test(this.#token);
    if (NUMBER_CHAR.test(ch) || exponentSign) {
      this.#token += ch;
      return 'more';
    }
    const number = pythonNumberToJson(this.#token);
    if (number === null) return 'error';
    this.#out.scalar(number);
    return this.#reprocess(this.#valueEnded(), ch);
  }

  /** A value ended before `ch`: finish the top-level value, or give `ch` to the container. */
  #reprocess(ended: LexStatus, ch: string): LexStatus {
    return ended === 'done' ? 'done-before' : this.push(ch);
  }

  /** A value (or key) just ended. */
  #valueEnded(): LexStatus {
    const frame = this.#stack.at(-1);
    if (frame === undefined) {
      this.#mode = 'done';
      return 'done';
    }
    const keyWriter = this.#keyWriter;
    if (keyWriter !== null) {
      this.#keyWriter = null;
      const key = keyWriter.take();
      this.#sink.key(key.startsWith('"') ? key : JSON.stringify(key));
      frame.expectKey = false;
      this.#mode = 'colon';
      return 'more';
    }
    if (frame.closer === '}') frame.expectKey = true;
    this.#mode = 'after';
    return 'more';
  }

  #close(ch: string): LexStatus {
    const frame = this.#stack.at(-1);
    if (frame?.closer !== ch || (ch === '}' && !frame.expectKey)) return 'error';
    this.#stack.pop();
    this.#sink.close();
    return this.#valueEnded();
  }

  #afterValue(ch: string): LexStatus {
    if (WHITESPACE.has(ch)) return 'more';
    const frame = this.#stack.at(-1);
    if (ch === ',') {
      this.#mode = frame?.closer === '}' ? 'dict-next' : 'list-next';
      return 'more';
    }
    return ch === ']' || ch === '}' ? this.#close(ch) : 'error';
  }
}

const DIGITS = String.raw`\d(?:_?\d)*`;
const PREFIXED_INT = /^0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)$/;
const DECIMAL_INT = new RegExp(`^${DIGITS}$`);
const FLOAT = new RegExp(`^(${DIGITS})?(?:\\.(${DIGITS})?)?(?:[eE]([+-]?${DIGITS}))?$`);

/** A Python int or float literal (with an optional sign) as a JSON number, or null. */
export function pythonNumberToJson(literal: string): string | null {
  const sign = literal.startsWith('-') ? '-' : '';
  const body = literal.replace(/^[+-]/, '');
  if (PREFIXED_INT.test(body)) return sign + BigInt(body.replaceAll('_', '')).toString();
  if (DECIMAL_INT.test(body)) return sign + stripZeros(body.replaceAll('_', ''));
  const match = FLOAT.exec(body);
  if (match === null || !/[.eE]/.test(body)) return null;
  const [, whole, fraction, exponent] = match;
  if (whole === undefined && fraction === undefined) return null;
  let json = sign + stripZeros((whole ?? '').replaceAll('_', ''));
  if (body.includes('.')) json += `.${(fraction ?? '0').replaceAll('_', '')}`;
  if (exponent !== undefined) json += `e${exponent.replaceAll('_', '')}`;
  return json;
}

function stripZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, '') || '0';
}
