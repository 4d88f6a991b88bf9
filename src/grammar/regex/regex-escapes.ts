/**
 * Backslash escapes of the regex front end, in and outside character classes.
 *
 * Owns: which escapes are read and as what. A character: `\n \t \r \f \v`, `\0` (not followed by
 * a digit), `\xHH`, `\uHHHH`, `\u{H...}`, `\b` inside a class (backspace), and a backslash before
 * any ASCII character that is neither a letter nor a digit (`\.`, `\-`, `\/`, `\ `: Python and
 * JavaScript without `u` read them all as the character). A set: `\d \w \s \D \W \S`. Everything
 * else is refused, naming the feature: backreferences, word boundaries, `\A \Z \z \G`, `\p{...}`,
 * octal escapes, escapes of surrogates (JavaScript would pair them, Python would not).
 */
import { MAX_CODE_POINT } from '../grammar-ir.ts';
import { shorthandSets, type ClassSets } from './regex-char-sets.ts';
import type { RegexSource } from './regex-source.ts';

/** What an escape stands for: one code point, or a shorthand class. */
export type EscapeValue =
  | { readonly kind: 'char'; readonly codePoint: number }
  | { readonly kind: 'set'; readonly sets: ClassSets };

const SIMPLE: Readonly<Record<string, number>> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, v: 0x0b };

/** Reads the escape whose backslash is at `source.pos`; `inClass` inside `[...]`. */
export function readEscape(source: RegexSource, inClass: boolean): EscapeValue {
  const at = source.pos;
  source.pos++;
  const c = source.next();
  if (c === '') source.fail('pattern ends with a lone backslash', at);
  switch (c) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 's':
    case 'S':
      return { kind: 'set', sets: shorthandSets(c) };
    case '0':
      if (isDigit(source.peek())) source.fail('octal escape is not supported', at);
      return char(0);
    case 'x':
      return char(readHex(source, 2, at));
    case 'u':
      return char(readUnicodeEscape(source, at));
    case 'b':
      if (inClass) return char(0x08);
      return source.fail('word boundary \\b is not supported', at);
    default:
      return readOther(source, c, inClass, at);
  }
}

function readOther(source: RegexSource, c: string, inClass: boolean, at: number): EscapeValue {
  const simple = SIMPLE[c];
  if (simple !== undefined) return char(simple);
  if (c === 'B' && !inClass) source.fail('word boundary \\B is not supported', at);
  if ('AZzG'.includes(c)) source.fail(`anchor \\${c} is not supported`, at);
  if (c === 'p' || c === 'P') source.fail(`Unicode property escape \\${c} is not supported`, at);
  if (c === 'k' && source.peek() === '<') source.fail('backreference is not supported', at);
  if (isDigit(c)) {
    source.fail(inClass ? 'octal escape is not supported' : 'backreference is not supported', at);
  }
  const codePoint = c.codePointAt(0)!;
  if (codePoint >= 0x20 && codePoint <= 0x7e && !/[A-Za-z0-9]/.test(c)) return char(codePoint);
  return source.fail(`invalid escape \\${c}`, at);
}

/** `\uHHHH` or `\u{H...}` after the `u`. */
function readUnicodeEscape(source: RegexSource, at: number): number {
  let codePoint: number;
  if (source.eat('{')) {
    const from = source.pos;
    while (isHex(source.peek())) source.pos++;
    const digits = source.slice(from, source.pos);
    if (digits === '' || !source.eat('}')) source.fail('invalid escape \\u{...}', at);
    codePoint = parseInt(digits, 16);
    if (codePoint > MAX_CODE_POINT) {
      source.fail('code point above U+10FFFF in escape', at);
    }
  } else {
    codePoint = readHex(source, 4, at);
  }
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
    source.fail('escape of a surrogate code point is not supported', at);
  }
  return codePoint;
}

/** Exactly `count` hex digits (of the escape at `at`). */
function readHex(source: RegexSource, count: number, at: number): number {
  const from = source.pos;
  for (let i = 0; i < count; i++) {
    if (!isHex(source.peek())) source.fail(`invalid escape \\${source.slice(at + 1, from)}`, at);
    source.pos++;
  }
  return parseInt(source.slice(from, source.pos), 16);
}

function char(codePoint: number): EscapeValue {
  return { kind: 'char', codePoint };
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9' && c.length === 1;
}

function isHex(c: string): boolean {
  return c.length === 1 && /[0-9A-Fa-f]/.test(c);
}
