/**
 * The grammar every structured-output front end compiles to (choice, regex, JSON Schema, GBNF),
 * and the one the token matcher enforces.
 *
 * Owns: the expression types (over Unicode code points; the automaton lowers them to UTF-8 bytes),
 * their constructors, and `GrammarError`, the one error a front end throws for input it cannot
 * compile (the HTTP layer answers it with a 400 carrying its message).
 *
 * A grammar is a set of named rules; a rule's body is a regular expression that may reference
 * other rules, so recursion (JSON nesting, GBNF) is allowed. The language is the full match of
 * the start rule: no search, no anchors. Left recursion (a rule reaching itself before consuming a
 * character) is refused by the automaton.
 */

/** An inclusive range of Unicode code points (surrogates, U+D800-U+DFFF, never match). */
export type CharRange = readonly [from: number, to: number];

/** One grammar expression. Build them with the constructors below, which simplify as they go. */
export type Expr =
  /** Matches the empty string. */
  | { readonly kind: 'empty' }
  /** Matches nothing (an empty character class, an impossible constraint). */
  | { readonly kind: 'nothing' }
  /** One code point in any of `ranges` (sorted, non-overlapping, non-adjacent). */
  | { readonly kind: 'chars'; readonly ranges: readonly CharRange[] }
  /** Exactly this text (non-empty). */
  | { readonly kind: 'literal'; readonly text: string }
  /** Each item in order (at least two). */
  | { readonly kind: 'seq'; readonly items: readonly Expr[] }
  /** Any one item (at least two). */
  | { readonly kind: 'alt'; readonly items: readonly Expr[] }
  /** `item` between `min` and `max` times; `max` null is unbounded. */
  | {
      readonly kind: 'repeat';
      readonly item: Expr;
      readonly min: number;
      readonly max: number | null;
    }
  /** The body of another rule of the same grammar. */
  | { readonly kind: 'ref'; readonly rule: string };

export interface Grammar {
  /** The rule whose full match is the language. */
  readonly start: string;
  readonly rules: ReadonlyMap<string, Expr>;
}

/** Input a front end cannot compile (bad syntax, an unsupported feature): a 400 with this text. */
export class GrammarError extends Error {
  override readonly name = 'GrammarError';
}

/** The highest code point. */
export const MAX_CODE_POINT = 0x10ffff;

export const EMPTY: Expr = { kind: 'empty' };
export const NOTHING: Expr = { kind: 'nothing' };

/** Exactly `text` (the empty string is `EMPTY`). */
export function literal(text: string): Expr {
  return text === '' ? EMPTY : { kind: 'literal', text };
}

/** Sort and merge ranges (overlapping or adjacent ones become one). */
export function normalizeRanges(ranges: readonly CharRange[]): CharRange[] {
  const sorted = ranges
    .filter(([from, to]) => from <= to)
    .map(([from, to]): CharRange => [Math.max(0, from), Math.min(MAX_CODE_POINT, to)])
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** The code points not in `ranges` (over 0..MAX_CODE_POINT). */
export function complementRanges(ranges: readonly CharRange[]): CharRange[] {
  const result: CharRange[] = [];
  let next = 0;
  for (const [from, to] of normalizeRanges(ranges)) {
    if (from > next) result.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= MAX_CODE_POINT) result.push([next, MAX_CODE_POINT]);
  return result;
}

/** One code point in `ranges` (normalized here; no ranges is `NOTHING`). */
export function chars(ranges: readonly CharRange[]): Expr {
  const normalized = normalizeRanges(ranges);
  return normalized.length === 0 ? NOTHING : { kind: 'chars', ranges: normalized };
}

/** One code point not in `ranges`. */
export function notChars(ranges: readonly CharRange[]): Expr {
  return chars(complementRanges(ranges));
}

/** The items in order: nested sequences are flattened, EMPTY dropped, NOTHING absorbs. */
export function seq(...items: readonly Expr[]): Expr {
  const flat: Expr[] = [];
  for (const item of items) {
    if (item.kind === 'nothing') return NOTHING;
    if (item.kind === 'empty') continue;
    if (item.kind === 'seq') flat.push(...item.items);
    else flat.push(item);
  }
  if (flat.length === 0) return EMPTY;
  return flat.length === 1 ? flat[0]! : { kind: 'seq', items: flat };
}

/** Any one of the items: nested alternations are flattened, NOTHING dropped. */
export function alt(...items: readonly Expr[]): Expr {
  const flat: Expr[] = [];
  for (const item of items) {
    if (item.kind === 'nothing') continue;
    if (item.kind === 'alt') flat.push(...item.items);
    else flat.push(item);
  }
  if (flat.length === 0) return NOTHING;
  return flat.length === 1 ? flat[0]! : { kind: 'alt', items: flat };
}

/** `item` between `min` and `max` (null: unbounded) times. */
export function repeat(item: Expr, min: number, max: number | null): Expr {
  if (
    !Number.isInteger(min) ||
    min < 0 ||
    (max !== null && (!Number.isInteger(max) || max < min))
  ) {
    throw new GrammarError(`invalid repetition {${min},${max ?? ''}}`);
  }
  if (max === 0 || item.kind === 'empty') return EMPTY;
  if (item.kind === 'nothing') return min === 0 ? EMPTY : NOTHING;
  if (min === 1 && max === 1) return item;
  return { kind: 'repeat', item, min, max };
}

export const optional = (item: Expr): Expr => repeat(item, 0, 1);
export const star = (item: Expr): Expr => repeat(item, 0, null);
export const plus = (item: Expr): Expr => repeat(item, 1, null);

/** A reference to rule `rule`. */
export function ref(rule: string): Expr {
  return { kind: 'ref', rule };
}

/**
 * Collects rules under unique names. `define(hint, body)` adds a rule named after `hint` (made
 * unique) and returns a reference to it; `reserve` names a rule whose body comes later (for
 * recursion), `set` gives it.
 */
export class GrammarBuilder {
  readonly #rules = new Map<string, Expr | null>();

  /** A fresh rule name based on `hint` (letters, digits, `-` and `_` kept). */
  reserve(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_-]/g, '-') || 'rule';
    let name = base;
    for (let i = 2; this.#rules.has(name); i++) name = `${base}-${i}`;
    this.#rules.set(name, null);
    return name;
  }

  set(name: string, body: Expr): void {
    if (!this.#rules.has(name)) throw new Error(`rule ${name} was not reserved`);
    this.#rules.set(name, body);
  }

  define(hint: string, body: Expr): Expr {
    const name = this.reserve(hint);
    this.set(name, body);
    return ref(name);
  }

  /** The grammar whose language is `start`'s full match; every reserved rule must be set. */
  build(start: Expr): Grammar {
    const rules = new Map<string, Expr>();
    for (const [name, body] of this.#rules) {
      if (body === null) throw new Error(`rule ${name} has no body`);
      rules.set(name, body);
    }
    const startName = this.reserve('root');
    rules.set(startName, start);
    return { start: startName, rules };
  }
}

/** A grammar of one rule. */
export function grammarOf(start: Expr): Grammar {
  return new GrammarBuilder().build(start);
}
