/**
 * GBNF, llama.cpp's grammar text (what vLLM's xgrammar backend calls EBNF), compiled to the
 * grammar IR.
 *
 * Owns: the GBNF syntax. `name ::= expression` rules (names of letters, digits, `-` and `_`; a
 * rule runs, across lines, until the next `name ::=`), the start rule `root`, string literals
 * `"..."`, character classes `[...]` / `[^...]` with ranges, `.` (any character), groups `( )`,
 * alternation `|` (empty alternatives allowed), the quantifiers `*`, `+`, `?`, `{m}`, `{m,}`,
 * `{m,n}`, `#` comments, and references to rules defined before or after. Escapes, in literals and
 * classes alike: `\n \t \r \\ \" \[ \] \- \xHH \uHHHH \UHHHHHHHH`; any other is an error.
 *
 * IR rules keep their GBNF names; rules `root` cannot reach are dropped.
 */
import {
  alt,
  chars,
  type CharRange,
  type Expr,
  type Grammar,
  GrammarError,
  literal,
  notChars,
  optional,
  plus,
  ref,
  repeat,
  seq,
  star,
} from '../grammar-ir.ts';
import { reachableGrammar } from '../reachable-rules.ts';
import { describeChar, SourceText } from '../source-text.ts';

/**
 * Compiles a GBNF grammar to the IR; its start rule is `root`.
 *
 * @throws GrammarError for a syntax error, a bad escape, an impossible repetition, a rule defined
 *   twice, an undefined rule or a missing `root` (with the line and column where one applies).
 */
export function gbnfToGrammar(source: string): Grammar {
  return new GbnfParser(source).parse();
}

const START_RULE = 'root';

/** Deepest nesting of `( )` groups (as the regex front end allows). */
const MAX_GROUP_DEPTH = 200;

/** Any one code point. */
const ANY_CHAR = notChars([]);

const SIMPLE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['n', 0x0a],
  ['t', 0x09],
  ['r', 0x0d],
  ['\\', 0x5c],
  ['"', 0x22],
  ['[', 0x5b],
  [']', 0x5d],
  ['-', 0x2d],
]);

const HEX_ESCAPE_DIGITS: ReadonlyMap<string, number> = new Map([
  ['x', 2],
  ['u', 4],
  ['U', 8],
]);

const isNameChar = (c: string): boolean => /^[A-Za-z0-9_-]$/.test(c);
const isDigit = (c: string): boolean => /^[0-9]$/.test(c);

class GbnfParser {
  readonly #text: SourceText;
  readonly #rules = new Map<string, Expr>();
  /** Every rule reference with where it was written, checked once all rules are known. */
  readonly #references: { name: string; at: number }[] = [];

  constructor(source: string) {
    this.#text = new SourceText(source);
  }

  parse(): Grammar {
    const text = this.#text;
    this.#skipSpace();
    while (!text.atEnd) this.#rule();
    for (const { name, at } of this.#references) {
      if (!this.#rules.has(name)) throw text.error(`undefined rule "${name}"`, at);
    }
    if (!this.#rules.has(START_RULE)) {
      throw new GrammarError(`grammar: there is no "${START_RULE}" rule (the start rule)`);
    }
    return reachableGrammar(START_RULE, this.#rules);
  }

  /** `name ::= alternatives`, up to the next rule or the end. */
  #rule(): void {
    const text = this.#text;
    const at = text.pos;
    const name = this.#name();
    if (name === '') {
      throw text.error(`expected a rule name, found ${describeChar(text.peek())}`);
    }
    this.#skipSpace();
    if (!text.eat('::=')) throw text.error(`expected "::=" after the rule name "${name}"`);
    if (this.#rules.has(name)) throw text.error(`rule "${name}" is defined more than once`, at);
    this.#rules.set(name, this.#alternatives(0));
  }

  #alternatives(depth: number): Expr {
    const items = [this.#sequence(depth)];
    while (this.#text.eat('|')) items.push(this.#sequence(depth));
    return alt(...items);
  }

  /** Items up to `|`, a closing `)` (inside a group), the next rule or the end. */
  #sequence(depth: number): Expr {
    const text = this.#text;
    const items: Expr[] = [];
    for (;;) {
      this.#skipSpace();
      const at = text.pos;
      const c = text.peek();
      if (c === '' || c === '|') break;
      if (c === ')') {
        if (depth > 0) break;
        throw text.error('unexpected ")" with no "(" before it');
      }
      if (isNameChar(c)) {
        if (this.#atRuleStart()) break;
        const name = this.#name();
        this.#references.push({ name, at });
        items.push(ref(name));
      } else if (c === '"') {
        items.push(this.#literal());
      } else if (c === '[') {
        items.push(this.#charClass());
      } else if (c === '.') {
        text.next();
        items.push(ANY_CHAR);
      } else if (c === '(') {
        // The IR and its lowering recurse once per group: a deeper nesting would overflow the stack.
        if (depth >= MAX_GROUP_DEPTH) {
          throw text.error(`groups nested deeper than ${MAX_GROUP_DEPTH} are not supported`, at);
        }
        text.next();
        const group = this.#alternatives(depth + 1);
        if (!text.eat(')')) throw text.error('unclosed "("', at);
        items.push(group);
      } else if ('*+?{'.includes(c)) {
        const last = items.pop();
        if (last === undefined) throw text.error(`quantifier "${c}" has nothing to repeat`);
        items.push(this.#quantified(last));
      } else {
        throw text.error(`unexpected character ${describeChar(c)}`);
      }
    }
    return seq(...items);
  }

  /** True when the text at `pos` is `name ::=`, the start of the next rule. */
  #atRuleStart(): boolean {
    const text = this.#text;
    const start = text.pos;
    this.#name();
    this.#skipSpace();
    const found = text.eat('::=');
    text.pos = start;
    return found;
  }

  #name(): string {
    const text = this.#text;
    const start = text.pos;
    while (isNameChar(text.peek())) text.next();
    return text.slice(start);
  }

  /** `"..."`; raw newlines are part of the literal. */
  #literal(): Expr {
    const text = this.#text;
    const at = text.pos;
    text.next();
    const parts: string[] = [];
    for (;;) {
      const c = text.peek();
      if (c === '') throw text.error('unterminated string literal', at);
      if (c === '"') break;
      if (c === '\\') {
        const escapeAt = text.pos;
        const code = this.#escape();
        if (code >= 0xd800 && code <= 0xdfff) {
          throw text.error('a string literal cannot contain a surrogate code point', escapeAt);
        }
        parts.push(String.fromCodePoint(code));
      } else {
        parts.push(text.next());
      }
    }
    text.next();
    return literal(parts.join(''));
  }

  /** `[...]` or `[^...]`: single characters and ranges `a-z`; `-` first or last is itself. */
  #charClass(): Expr {
    const text = this.#text;
    const at = text.pos;
    text.next();
    const negated = text.eat('^');
    const ranges: CharRange[] = [];
    for (;;) {
      const c = text.peek();
      if (c === '') throw text.error('unterminated character class', at);
      if (c === ']') break;
      const rangeAt = text.pos;
      const from = this.#classChar();
      if (text.peek() === '-' && text.peek(1) !== ']' && text.peek(1) !== '') {
        text.next();
        const to = this.#classChar();
        if (to < from) {
          throw text.error(
            `invalid character range "${text.slice(rangeAt)}": its end comes before its start`,
            rangeAt,
          );
        }
        ranges.push([from, to]);
      } else {
        ranges.push([from, from]);
      }
    }
    text.next();
    return negated ? notChars(ranges) : chars(ranges);
  }

  #classChar(): number {
    const text = this.#text;
    return text.peek() === '\\' ? this.#escape() : text.next().codePointAt(0)!;
  }

  /** A backslash escape at `pos`; returns its code point. */
  #escape(): number {
    const text = this.#text;
    const at = text.pos;
    text.next();
    const c = text.next();
    const simple = SIMPLE_ESCAPES.get(c);
    if (simple !== undefined) return simple;
    const digits = HEX_ESCAPE_DIGITS.get(c);
    if (digits === undefined) {
      throw text.error(c === '' ? 'bad escape at the end of the text' : `bad escape "\\${c}"`, at);
    }
    let hex = '';
    for (let i = 0; i < digits && /^[0-9A-Fa-f]$/.test(text.peek()); i++) hex += text.next();
    if (hex.length < digits) {
      throw text.error(`bad escape "\\${c}${hex}": expected ${digits} hex digits`, at);
    }
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) throw text.error(`bad escape "\\${c}${hex}": beyond U+10FFFF`, at);
    return code;
  }

  /** `item` under the quantifier at `pos` (`*`, `+`, `?` or `{m}`, `{m,}`, `{m,n}`). */
  #quantified(item: Expr): Expr {
    const text = this.#text;
    const at = text.pos;
    const c = text.next();
    if (c === '*') return star(item);
    if (c === '+') return plus(item);
    if (c === '?') return optional(item);
    this.#skipSpace();
    const min = this.#count();
    this.#skipSpace();
    let max: number | null = min;
    if (text.eat(',')) {
      this.#skipSpace();
      max = isDigit(text.peek()) ? this.#count() : null;
      this.#skipSpace();
    }
    if (!text.eat('}')) throw text.error('expected "}" to close the repetition');
    if (max !== null && max < min) {
      throw text.error(
        `invalid repetition {${min},${max}}: the maximum is less than the minimum`,
        at,
      );
    }
    return repeat(item, min, max);
  }

  #count(): number {
    const text = this.#text;
    const at = text.pos;
    let digits = '';
    while (isDigit(text.peek())) digits += text.next();
    if (digits === '') throw text.error('expected a number in the repetition');
    const count = Number(digits);
    if (!Number.isSafeInteger(count))
      throw text.error(`repetition count ${digits} is too large`, at);
    return count;
  }

  /** Whitespace (newlines included) and `#` comments. */
  #skipSpace(): void {
    const text = this.#text;
    for (;;) {
      const c = text.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        text.next();
      } else if (c === '#') {
        while (text.peek() !== '' && text.peek() !== '\n') text.next();
      } else {
        return;
      }
    }
  }
}
