/**
 * The regex front end (vLLM's `structured_outputs.regex`, `guided_regex`, JSON Schema `pattern`):
 * a pattern becomes the grammar expression of its full match, as vLLM and outlines read it.
 *
 * Owns: the pattern syntax (alternation, groups, quantifiers, anchors) and the refusals. The
 * dialect is what JavaScript (`u` flag) and Python's `re` share, each construct read so that
 * every string it accepts matches under both `new RegExp('^(?:' + p + ')$', 'u')` and
 * `re.fullmatch(p, s)`; where they differ the narrower reading wins (see `regex-char-sets.ts`
 * for `.`, `\d \w \s`, their negations and classes, and `regex-escapes.ts` for escapes).
 *
 * Supported: literals (any code point), escapes, `.`, classes, groups `( )`, `(?: )`,
 * `(?<name> )` and `(?P<name> )` (names `[A-Za-z_][A-Za-z0-9_]*`, unique; captures are
 * irrelevant to a language), alternation with empty branches, quantifiers `* + ? {n} {n,}
 * {n,m}` and their lazy forms (the same language), counts up to 100000, groups nested up to 200
 * deep, and `^` as the pattern's first character or `$` as its last (ignored: the match is whole
 * anyway). Spellings only one engine knows are read for their one meaning: `\u{H...}` and
 * `(?<name> )` (JavaScript's), `(?P<name> )` (Python's).
 *
 * Refused, with `regex: <what> (at N)`, N the 0-based offset in code points: backreferences
 * (`\1`, `\k<n>`, `(?P=n)`), lookaround, word boundaries `\b \B`, `\A \Z \z \G`, inline flags,
 * comments `(?#...)`, conditionals, atomic groups, possessive quantifiers, `\p{...}`, anchors
 * elsewhere, unbalanced parentheses and brackets, quantifiers with nothing to repeat (a
 * quantifier right after another included), `{n,m}` with n > m, `{,m}` (text to JavaScript
 * without `u`, `{0,m}` to Python), a `{`, `}` or `]` outside a class and not a quantifier (the `u`
 * flag refuses it, Python reads it as text), and invalid escapes. The empty pattern matches the
 * empty string.
 */
import { alt, EMPTY, literal, repeat, seq, type Expr } from '../grammar-ir.ts';
import { DOT, positiveClass } from './regex-char-sets.ts';
import { readClass } from './regex-class.ts';
import { readEscape } from './regex-escapes.ts';
import { RegexSource } from './regex-source.ts';

/** The largest count a `{n,m}` quantifier may give. */
const MAX_REPEAT_COUNT = 100_000;
/** The deepest nesting of groups (the parser recurses per group). */
const MAX_GROUP_DEPTH = 200;

/** The language of `source` as a full match (the whole output must match). Throws GrammarError. */
export function regexToExpr(source: string): Expr {
  return new RegexParser(source).parse();
}

interface Quantifier {
  readonly min: number;
  readonly max: number | null;
}

/** A `{n,m}` quantifier and the offset just past it. */
interface Brace extends Quantifier {
  readonly end: number;
}

const GROUP_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class RegexParser {
  readonly #source: RegexSource;
  readonly #groupNames = new Set<string>();
  #depth = 0;

  constructor(pattern: string) {
    this.#source = new RegexSource(pattern);
  }

  parse(): Expr {
    const source = this.#source;
    source.eat('^');
    const expr = this.#alternation();
    if (!source.atEnd) source.fail('unbalanced parenthesis: unmatched )');
    return expr;
  }

  #alternation(): Expr {
    const branches = [this.#sequence()];
    while (this.#source.eat('|')) branches.push(this.#sequence());
    return alt(...branches);
  }

  /** Terms up to `|`, `)` or the end, adjacent literal text merged into one literal. */
  #sequence(): Expr {
    const source = this.#source;
    const parts: Expr[] = [];
    let text = '';
    while (!source.atEnd && source.peek() !== '|' && source.peek() !== ')') {
      const term = this.#term();
      if (term.kind === 'literal') {
        text += term.text;
        continue;
      }
      parts.push(literal(text), term);
      text = '';
    }
    return seq(...parts, literal(text));
  }

  #term(): Expr {
    const atom = this.#atom();
    const at = this.#source.pos;
    const quantifier = this.#quantifier();
    if (quantifier === null) return atom ?? EMPTY;
    if (atom === null) this.#source.fail('quantifier with nothing to repeat', at);
    return repeat(atom, quantifier.min, quantifier.max);
  }

  /** One atom; null for the trailing `$`. */
  #atom(): Expr | null {
    const source = this.#source;
    const at = source.pos;
    const c = source.peek();
    switch (c) {
      case '(':
        return this.#group();
      case '[':
        return readClass(source);
      case '\\': {
        const escape = readEscape(source, false);
        return escape.kind === 'char'
          ? literal(String.fromCodePoint(escape.codePoint))
          : positiveClass([escape.sets]);
      }
      case '.':
        source.pos++;
        return DOT;
      case '$':
        if (at !== source.length - 1) {
          source.fail('anchor $ is only supported at the end of the pattern', at);
        }
        source.pos++;
        return null;
      case '^':
        return source.fail('anchor ^ is only supported at the start of the pattern', at);
      case '*':
      case '+':
      case '?':
        return source.fail('quantifier with nothing to repeat', at);
      case '{':
        if (this.#brace() !== null) source.fail('quantifier with nothing to repeat', at);
        return source.fail('unescaped { outside a quantifier is not supported', at);
      case '}':
      case ']':
        return source.fail(`unbalanced bracket: unescaped ${c} is not supported`, at);
      default:
        source.pos++;
        return literal(c);
    }
  }

  /** A quantifier at the read position (read with its lazy `?`), or null. */
  #quantifier(): Quantifier | null {
    const source = this.#source;
    const at = source.pos;
    const quantifier = this.#quantifierSyntax();
    if (quantifier === null) return null;
    if (Math.max(quantifier.min, quantifier.max ?? 0) > MAX_REPEAT_COUNT) {
      source.fail(`repetition count above ${MAX_REPEAT_COUNT} is not supported`, at);
    }
    if (quantifier.max !== null && quantifier.min > quantifier.max) {
      source.fail(`quantifier {${quantifier.min},${quantifier.max}} has min above max`, at);
    }
    if (!source.eat('?') && source.peek() === '+') {
      source.fail('possessive quantifier is not supported', at);
    }
    return quantifier;
  }

  #quantifierSyntax(): Quantifier | null {
    const source = this.#source;
    switch (source.peek()) {
      case '*':
        source.pos++;
        return { min: 0, max: null };
      case '+':
        source.pos++;
        return { min: 1, max: null };
      case '?':
        source.pos++;
        return { min: 0, max: 1 };
      case '{': {
        const brace = this.#brace();
        if (brace === null) return null;
        source.pos = brace.end;
        return brace;
      }
      default:
        return null;
    }
  }

  /** The `{n}`, `{n,}` or `{n,m}` at the read position (not read), or null; refuses `{,m}`. */
  #brace(): Brace | null {
    const source = this.#source;
    const start = source.pos;
    source.pos++;
    const min = this.#digits();
    const comma = source.eat(',');
    const max = comma ? this.#digits() : min;
    const closed = source.eat('}');
    const end = source.pos;
    source.pos = start;
    if (min === null && comma && max !== null && closed) {
      source.fail('quantifier {,m} is not supported');
    }
    if (min === null || !closed) return null;
    return { min, max, end };
  }

  /** The count spelled by the digits at the read position (read), or null when there are none. */
  #digits(): number | null {
    const source = this.#source;
    const from = source.pos;
    while (/^[0-9]$/.test(source.peek())) source.pos++;
    const digits = source.slice(from, source.pos);
    if (digits === '') return null;
    return digits.length > 9 ? Infinity : Number(digits);
  }

  /** A group, its `(` at the read position. */
  #group(): Expr {
    const source = this.#source;
    const at = source.pos;
    source.pos++;
    if (source.eat('?')) this.#groupKind(at);
    if (++this.#depth > MAX_GROUP_DEPTH) {
      source.fail(`groups nested deeper than ${MAX_GROUP_DEPTH} are not supported`, at);
    }
    const body = this.#alternation();
    if (!source.eat(')')) source.fail('unbalanced parenthesis: missing )', at);
    this.#depth--;
    return body;
  }

  /** After `(?`: reads `:` or a group name, or refuses the extension. */
  #groupKind(at: number): void {
    const source = this.#source;
    if (source.eat(':')) return;
    const after = source.peek(1);
    if (source.peek() === '<' && (after === '=' || after === '!')) {
      source.fail('lookbehind is not supported', at);
    }
    if (source.eat('<') || source.eat('P<')) return this.#groupName(at);
    const refusal = groupRefusal(source.peek(), source.peek(1));
    source.fail(refusal, at);
  }

  #groupName(at: number): void {
    const source = this.#source;
    const from = source.pos;
    while (!source.atEnd && source.peek() !== '>') source.pos++;
    const name = source.slice(from, source.pos);
    if (!source.eat('>') || !GROUP_NAME.test(name)) source.fail('invalid group name', at);
    if (this.#groupNames.has(name)) source.fail(`duplicate group name ${name}`, at);
    this.#groupNames.add(name);
  }
}

/** The message refusing the group extension `(?<c><next>`. */
function groupRefusal(c: string, next: string): string {
  if (c === '=' || c === '!') return 'lookahead is not supported';
  if (c === 'P' && next === '=') return 'backreference is not supported';
  if (c === '#') return 'comment group is not supported';
  if (c === '(') return 'conditional group is not supported';
  if (c === '>') return 'atomic group is not supported';
  if (c !== '' && 'aiLmsux-'.includes(c)) return 'inline flags are not supported';
  if (c === '') return 'unbalanced parenthesis: missing )';
  return `unknown group syntax (?${c}`;
}
