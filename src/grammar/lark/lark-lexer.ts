/**
 * The tokens of a Lark grammar's text, for the Lark parser.
 *
 * Owns: Lark's lexical rules. Names (rules lowercase, terminals uppercase, nothing mixed),
 * string literals `"..."` with Lark's escapes (`\\ \" \n \t \r \f \xHH \uHHHH \UHHHHHHHH`; any
 * other backslash stays in the text, as in Lark), regular expressions `/.../` (`\/` is a slash),
 * numbers, directives `%name`, punctuation, `//` comments, and line ends: a definition ends at a
 * line end unless the next non-blank line starts with `|`, which becomes an `or` token (a
 * continued alternation). Flags (`"..."i`, `/.../imslux`) are refused here: case-insensitive
 * literals and regex modes are not supported.
 */
import { describeChar, type SourceText } from '../source-text.ts';

export type LarkToken =
  | { readonly kind: 'name'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  /** `source` is the text as written, slashes included. */
  | {
      readonly kind: 'regex';
      readonly pattern: string;
      readonly source: string;
      readonly at: number;
    }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly at: number }
  | { readonly kind: 'directive'; readonly text: string; readonly at: number }
  /** Punctuation: `: | ( ) [ ] * + ? ~ .. . -> , { } !`. */
  | { readonly kind: 'op'; readonly text: string; readonly at: number }
  /** `|` at the start of a line, continuing the definition above. */
  | { readonly kind: 'or'; readonly at: number }
  /** The end of a definition's line. */
  | { readonly kind: 'nl'; readonly at: number }
  | { readonly kind: 'end'; readonly at: number };

const PUNCTUATION = [
  '->',
  '..',
  ':',
  '|',
  '(',
  ')',
  '[',
  ']',
  '*',
  '+',
  '?',
  '~',
  '.',
  ',',
  '{',
  '}',
  '!',
];

const isNameStart = (c: string): boolean => /^[A-Za-z_]$/.test(c);
const isNameChar = (c: string): boolean => /^[A-Za-z0-9_]$/.test(c);
const isDigit = (c: string): boolean => /^[0-9]$/.test(c);

/** A terminal's name: uppercase letters, digits and `_`, a letter first after any `_`. */
export const isTerminalName = (name: string): boolean => /^_*[A-Z][A-Z0-9_]*$/.test(name);
/** A rule's name: lowercase letters, digits and `_`, a letter first after any `_`. */
export const isRuleName = (name: string): boolean => /^_*[a-z][a-z0-9_]*$/.test(name);

/** Splits `text` into tokens, the last one `end`. */
export function lexLark(text: SourceText): LarkToken[] {
  const tokens: LarkToken[] = [];
  for (;;) {
    skipInlineSpace(text);
    const at = text.pos;
    const c = text.peek();
    if (c === '') {
      tokens.push({ kind: 'end', at });
      return tokens;
    }
    if (c === '\n' || c === '\r') {
      skipBlankLines(text);
      if (text.eat('|')) tokens.push({ kind: 'or', at: text.pos - 1 });
      else tokens.push({ kind: 'nl', at });
    } else if (isNameStart(c)) {
      while (isNameChar(text.peek())) text.next();
      const name = text.slice(at);
      if (!isRuleName(name) && !isTerminalName(name)) {
        throw text.error(
          `"${name}" is neither a rule name (lowercase) nor a terminal name (uppercase)`,
          at,
        );
      }
      tokens.push({ kind: 'name', text: name, at });
    } else if (isDigit(c) || (c === '-' && isDigit(text.peek(1)))) {
      text.next();
      while (isDigit(text.peek())) text.next();
      const digits = text.slice(at);
      const value = Number(digits);
      if (!Number.isSafeInteger(value)) throw text.error(`number ${digits} is too large`, at);
      tokens.push({ kind: 'number', value, text: digits, at });
    } else if (c === '"') {
      tokens.push(lexString(text));
    } else if (c === '/') {
      tokens.push(lexRegex(text));
    } else if (c === '%') {
      text.next();
      while (isNameChar(text.peek())) text.next();
      tokens.push({ kind: 'directive', text: text.slice(at), at });
    } else {
      const op = PUNCTUATION.find((p) => text.eat(p));
      if (op === undefined) throw text.error(`unexpected character ${describeChar(c)}`);
      tokens.push({ kind: 'op', text: op, at });
    }
  }
}

/** Spaces, tabs and a `//` comment, up to the line end. */
function skipInlineSpace(text: SourceText): void {
  for (;;) {
    const c = text.peek();
    if (c === ' ' || c === '\t' || c === '\f') text.next();
    else if (c === '/' && text.peek(1) === '/') {
      while (text.peek() !== '' && text.peek() !== '\n' && text.peek() !== '\r') text.next();
    } else return;
  }
}

/** Line ends and the blank or comment-only lines after them. */
function skipBlankLines(text: SourceText): void {
  for (;;) {
    skipInlineSpace(text);
    const c = text.peek();
    if (c === '\n' || c === '\r') text.next();
    else return;
  }
}

const STRING_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\\', '\\'],
  ['"', '"'],
  ['n', '\n'],
  ['t', '\t'],
  ['r', '\r'],
  ['f', '\f'],
]);

const HEX_ESCAPE_DIGITS: ReadonlyMap<string, number> = new Map([
  ['x', 2],
  ['u', 4],
  ['U', 8],
]);

/** `"..."`; an `i` right after it (case-insensitive) is refused. */
function lexString(text: SourceText): LarkToken {
  const at = text.pos;
  text.next();
  const parts: string[] = [];
  for (;;) {
    const c = text.peek();
    if (c === '' || c === '\n' || c === '\r') throw text.error('unterminated string literal', at);
    text.next();
    if (c === '"') break;
    if (c !== '\\') {
      parts.push(c);
      continue;
    }
    const escapeAt = text.pos - 1;
    const kind = text.peek();
    const simple = STRING_ESCAPES.get(kind);
    const digits = HEX_ESCAPE_DIGITS.get(kind);
    if (simple !== undefined) {
      text.next();
      parts.push(simple);
    } else if (digits !== undefined) {
      text.next();
      parts.push(String.fromCodePoint(hexEscape(text, kind, digits, escapeAt)));
    } else {
      // Lark keeps an unknown escape as written: "\d" is a backslash and a "d".
      parts.push('\\');
    }
  }
  if (text.peek() === 'i') {
    throw text.error('case-insensitive literals ("..."i) are not supported', at);
  }
  return { kind: 'string', value: parts.join(''), at };
}

function hexEscape(text: SourceText, kind: string, digits: number, at: number): number {
  let hex = '';
  for (let i = 0; i < digits && /^[0-9A-Fa-f]$/.test(text.peek()); i++) hex += text.next();
  if (hex.length < digits) {
    throw text.error(`bad escape "\\${kind}${hex}": expected ${digits} hex digits`, at);
  }
  const code = parseInt(hex, 16);
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    throw text.error(`bad escape "\\${kind}${hex}": not a Unicode character`, at);
  }
  return code;
}

/** `/pattern/`; `\/` in it is a slash, other escapes are the regex's own; flags are refused. */
function lexRegex(text: SourceText): LarkToken {
  const at = text.pos;
  text.next();
  const parts: string[] = [];
  for (;;) {
    const c = text.peek();
    if (c === '' || c === '\n' || c === '\r')
      throw text.error('unterminated regular expression', at);
    text.next();
    if (c === '/') break;
    if (c === '\\' && text.peek() === '/') parts.push(text.next());
    else if (c === '\\' && text.peek() !== '') parts.push(c, text.next());
    else parts.push(c);
  }
  const source = text.slice(at);
  const flagsAt = text.pos;
  while ('imslux'.includes(text.peek()) && text.peek() !== '') text.next();
  if (text.pos > flagsAt) {
    throw text.error(`regular expression flags ("${text.slice(flagsAt)}") are not supported`, at);
  }
  return { kind: 'regex', pattern: parts.join(''), source, at };
}

/** A token as an error message names it. */
export function describeToken(token: LarkToken): string {
  switch (token.kind) {
    case 'name':
      return `name "${token.text}"`;
    case 'string':
      return `string ${JSON.stringify(token.value)}`;
    case 'regex':
      return `regular expression ${token.source}`;
    case 'number':
      return `number ${token.text}`;
    case 'directive':
      return token.text;
    case 'op':
      return `"${token.text}"`;
    case 'or':
      return '"|"';
    case 'nl':
      return 'end of line';
    case 'end':
      return 'end of text';
  }
}
