/**
 * The JSON token layer shared by every schema: whitespace between tokens, separators, and the
 * recursive grammar of any JSON value (the empty schema, `true`, json_object).
 *
 * Owns: the whitespace rule.
 * - Default (anyWhitespace true): each gap between tokens is at most one line break (`\n` or
 *   `\r\n`) followed by at most 20 spaces or tabs: `(\n|\r\n)?[ \t]{0,20}`. Pretty-printed JSON
 *   up to ten levels of two-space indentation fits; a model cannot loop in whitespace.
 * - anyWhitespace false: no whitespace at all (compact JSON).
 * - whitespacePattern: that regex's full-match language in every gap; it may only match JSON
 *   whitespace (space, tab, line feed, carriage return), or the output could stop being JSON.
 * There is never whitespace before or after the whole value.
 */
import {
  alt,
  chars,
  EMPTY,
  GrammarError,
  literal,
  optional,
  ref,
  repeat,
  seq,
  star,
  type CharRange,
  type Expr,
  type GrammarBuilder,
} from '../grammar-ir.ts';
import { regexToExpr } from '../regex/parse-regex.ts';
import { quoted, STRING_CHAR } from './json-string.ts';
import { ANY_NUMBER } from './number-schema.ts';

/** Spaces or tabs allowed in one gap by default (after the optional line break). */
export const MAX_INDENT = 20;

/** The whitespace options (see JsonGrammarOptions). */
export interface WhitespaceOptions {
  readonly whitespacePattern?: string | null;
  readonly anyWhitespace?: boolean;
}

const JSON_WHITESPACE = new Set([0x09, 0x0a, 0x0d, 0x20]);

/** Throws unless every character `expr` can match is JSON whitespace. */
function checkWhitespaceOnly(expr: Expr): void {
  const bad = (ranges: readonly CharRange[]): boolean =>
    ranges.some(([from, to]) => {
      for (let c = from; c <= to; c++) if (!JSON_WHITESPACE.has(c)) return true;
      return false;
    });
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'chars':
        if (bad(e.ranges)) break;
        return;
      case 'literal':
        if (Array.from(e.text).some((c) => !JSON_WHITESPACE.has(c.codePointAt(0)!))) break;
        return;
      case 'seq':
      case 'alt':
        e.items.forEach(visit);
        return;
      case 'repeat':
        visit(e.item);
        return;
      case 'empty':
      case 'nothing':
        return;
      case 'ref':
        break;
    }
    throw new GrammarError(
      'whitespace_pattern may only match JSON whitespace (space, tab, line feed, carriage return)',
    );
  };
  visit(expr);
}

/** The language of one gap between JSON tokens. */
export function whitespaceExpr(options: WhitespaceOptions): Expr {
  if (options.whitespacePattern !== undefined && options.whitespacePattern !== null) {
    let expr: Expr;
    try {
      expr = regexToExpr(options.whitespacePattern);
    } catch (error) {
      if (error instanceof GrammarError) {
        throw new GrammarError(`whitespace_pattern: ${error.message}`);
      }
      throw error;
    }
    checkWhitespaceOnly(expr);
    return expr;
  }
  if (options.anyWhitespace === false) return EMPTY;
  return seq(
    optional(alt(literal('\n'), literal('\r\n'))),
    repeat(
      chars([
        [0x09, 0x09],
        [0x20, 0x20],
      ]),
      0,
      MAX_INDENT,
    ),
  );
}

/** Whitespace, separators and any-value rules of one grammar under construction. */
export class JsonSyntax {
  readonly builder: GrammarBuilder;
  /** One gap between tokens (a rule reference, or EMPTY for compact JSON). */
  readonly gap: Expr;
  /** `,` between members or elements, with its gaps. */
  readonly comma: Expr;
  /** `:` between a key and its value, with its gaps. */
  readonly colon: Expr;
  #anyValue: Expr | null = null;
  #stringChar: Expr | null = null;
  readonly #shared = new Map<string, Expr>();
  #anyObject: Expr | null = null;

  constructor(builder: GrammarBuilder, options: WhitespaceOptions) {
    this.builder = builder;
    const gap = whitespaceExpr(options);
    this.gap = gap.kind === 'empty' ? EMPTY : builder.define('ws', gap);
    this.comma = seq(this.gap, literal(','), this.gap);
    this.colon = seq(this.gap, literal(':'), this.gap);
  }

  /** `open` gap (body gap)? `close`, or with a required body when `canBeEmpty` is false. */
  container(open: string, body: Expr, canBeEmpty: boolean, close: string): Expr {
    if (body.kind === 'empty' || (canBeEmpty && body.kind === 'nothing')) {
      return seq(literal(open), this.gap, literal(close));
    }
    const inner = seq(body, this.gap);
    return seq(literal(open), this.gap, canBeEmpty ? optional(inner) : inner, literal(close));
  }

  /**
   * One body character of a JSON string, as a rule: a string of up to n characters is then n
   * references, not n copies of the escapes (which keeps long maxLength strings small).
   */
  get stringChar(): Expr {
    this.#stringChar ??= this.builder.define('string-char', STRING_CHAR);
    return this.#stringChar;
  }

  /** Any JSON string. */
  get anyString(): Expr {
    return quoted(star(this.stringChar));
  }

  /** `expr` as a rule shared by every equal expression of this grammar. */
  shareEqual(hint: string, expr: Expr): Expr {
    const key = JSON.stringify(expr);
    let shared = this.#shared.get(key);
    if (shared === undefined) {
      shared = this.builder.define(hint, expr);
      this.#shared.set(key, shared);
    }
    return shared;
  }

  /** Any JSON value (a recursive rule). */
  anyValue(): Expr {
    if (this.#anyValue !== null) return this.#anyValue;
    const value = this.builder.reserve('json-value');
    this.#anyValue = ref(value);
    const object = this.anyObject();
    const array = this.builder.define(
      'json-array',
      this.container('[', seq(ref(value), star(seq(this.comma, ref(value)))), true, ']'),
    );
    this.builder.set(
      value,
      alt(
        object,
        array,
        this.anyString,
        ANY_NUMBER,
        literal('true'),
        literal('false'),
        literal('null'),
      ),
    );
    return this.#anyValue;
  }

  /** Any JSON object (a recursive rule). */
  anyObject(): Expr {
    if (this.#anyObject !== null) return this.#anyObject;
    const name = this.builder.reserve('json-object');
    this.#anyObject = ref(name);
    const member = seq(this.anyString, this.colon, this.anyValue());
    this.builder.set(
      name,
      this.container('{', seq(member, star(seq(this.comma, member))), true, '}'),
    );
    return this.#anyObject;
  }

  /** Exactly the JSON value `value` (enum, const), with the gaps this grammar allows. */
  valueExpr(value: unknown): Expr {
    if (Array.isArray(value)) {
      const items = value.map((item, i) => seq(i === 0 ? EMPTY : this.comma, this.valueExpr(item)));
      return this.container('[', seq(...items), false, ']');
    }
    if (typeof value === 'object' && value !== null) {
      const members = Object.entries(value).map(([key, item], i) =>
        seq(
          i === 0 ? EMPTY : this.comma,
          literal(JSON.stringify(key)),
          this.colon,
          this.valueExpr(item),
        ),
      );
      return this.container('{', seq(...members), false, '}');
    }
    return literal(JSON.stringify(value));
  }

  /** `expr` itself, or a reference to a new rule holding it when it is large (to share it). */
  share(hint: string, expr: Expr): Expr {
    return exprSize(expr, 40) >= 40 ? this.builder.define(hint, expr) : expr;
  }
}

/** The node count of `expr`, counting stops at `limit`. */
function exprSize(expr: Expr, limit: number): number {
  let count = 0;
  const visit = (e: Expr): void => {
    if (count >= limit) return;
    count++;
    if (e.kind === 'seq' || e.kind === 'alt') e.items.forEach(visit);
    else if (e.kind === 'repeat') visit(e.item);
  };
  visit(expr);
  return count;
}
