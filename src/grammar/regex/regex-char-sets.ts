/**
 * The character sets of the regex front end: `.`, the shorthands `\d \w \s \D \W \S` and
 * character classes `[...]`, each read so that every code point it accepts is accepted by both
 * JavaScript (`u` flag) and Python's `re` (str patterns).
 *
 * Owns: the two engines' readings of the shorthands and how a class combines its items. Each item
 * carries JavaScript's set and two bounds on Python's: `pyLower` (what Python surely matches) and
 * `pyUpper` (what it may match, since its Unicode data can be newer than this engine's: unassigned
 * code points count as possible digits and word characters). A class `[...]` is the intersection
 * of the engines' unions; a negated class `[^...]` excludes everything either engine may put in
 * the union. The results:
 * - `\d` is `[0-9]` and `\w` is `[A-Za-z0-9_]` (JavaScript's ASCII sets; Python's are wider).
 * - `\s` is the whitespace both agree on: `\t \n \v \f \r`, space, U+00A0, U+1680,
 *   U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (not U+FEFF, JavaScript only; nor
 *   U+001C-U+001F and U+0085, Python only).
 * - `\D` excludes every Unicode decimal digit (`\p{Nd}`), `\W` every letter and number
 *   (`\p{L} \p{N}`) and `_`, `\S` the whitespace of either engine; both `\D` and `\W` also exclude
 *   unassigned code points.
 * - `.` is any code point but the line terminators \n \r U+2028 U+2029 (Python's excludes only
 *   \n).
 * - A class mixing a shorthand with its negation stays narrow: `[\s\S]` is everything, but
 *   `[\w\W]` leaves out non-ASCII letters and numbers, `[\d\D]` non-ASCII digits.
 */
import {
  chars,
  complementRanges,
  normalizeRanges,
  notChars,
  type CharRange,
  type Expr,
} from '../grammar-ir.ts';

/** One class item (a character, a range, a shorthand) as each engine reads it. */
export interface ClassSets {
  /** What JavaScript (`u` flag) matches. */
  readonly js: readonly CharRange[];
  /** What Python surely matches. */
  readonly pyLower: readonly CharRange[];
  /** What Python may match. */
  readonly pyUpper: readonly CharRange[];
}

const DIGIT: readonly CharRange[] = [[0x30, 0x39]];
const WORD: readonly CharRange[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SHARED_SPACE: readonly CharRange[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];
const JS_SPACE: readonly CharRange[] = [...SHARED_SPACE, [0xfeff, 0xfeff]];
const PY_SPACE: readonly CharRange[] = [...SHARED_SPACE, [0x1c, 0x1f], [0x85, 0x85]];
const LINE_TERMINATORS: readonly CharRange[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];

/** `.`: any code point but a line terminator. */
export const DOT: Expr = notChars(LINE_TERMINATORS);

/** A set both engines read the same way (a character, a range). */
export function exactSet(ranges: readonly CharRange[]): ClassSets {
  return { js: ranges, pyLower: ranges, pyUpper: ranges };
}

/** The sets of shorthand `\<letter>` (one of d D w W s S). */
export function shorthandSets(letter: 'd' | 'D' | 'w' | 'W' | 's' | 'S'): ClassSets {
  switch (letter) {
    case 'd':
      return lazySets(DIGIT, () => DIGIT, pythonDigitUpper);
    case 'w':
      return lazySets(WORD, () => WORD, pythonWordUpper);
    case 's':
      return exactSetsOf(JS_SPACE, PY_SPACE);
    case 'D':
      return lazySets(
        complementRanges(DIGIT),
        () => complementRanges(pythonDigitUpper()),
        () => complementRanges(DIGIT),
      );
    case 'W':
      return lazySets(
        complementRanges(WORD),
        () => complementRanges(pythonWordUpper()),
        () => complementRanges(WORD),
      );
    case 'S':
      return exactSetsOf(complementRanges(JS_SPACE), complementRanges(PY_SPACE));
  }
}

/** `[items]`: the code points both engines match. */
export function positiveClass(items: readonly ClassSets[]): Expr {
  const js = normalizeRanges(items.flatMap((item) => item.js));
  const python = normalizeRanges(items.flatMap((item) => item.pyLower));
  return chars(intersectRanges(js, python));
}

/** `[^items]`: the code points neither engine may put among the items. */
export function negatedClass(items: readonly ClassSets[]): Expr {
  return notChars(items.flatMap((item) => [...item.js, ...item.pyUpper]));
}

/** The code points in both `a` and `b`. */
function intersectRanges(a: readonly CharRange[], b: readonly CharRange[]): CharRange[] {
  return complementRanges([...complementRanges(a), ...complementRanges(b)]);
}

function exactSetsOf(js: readonly CharRange[], python: readonly CharRange[]): ClassSets {
  return { js, pyLower: python, pyUpper: python };
}

/** Sets whose Python bounds are computed only when a class reads them. */
function lazySets(
  js: readonly CharRange[],
  pyLower: () => readonly CharRange[],
  pyUpper: () => readonly CharRange[],
): ClassSets {
  return {
    js,
    get pyLower() {
      return pyLower();
    },
    get pyUpper() {
      return pyUpper();
    },
  };
}

/** Python's `\d` at most: decimal digits, or unassigned here. */
function pythonDigitUpper(): readonly CharRange[] {
  return propertyRanges('\\p{Nd}\\p{Cn}');
}

/** Python's `\w` at most: letters, numbers and `_`, or unassigned here. */
function pythonWordUpper(): readonly CharRange[] {
  return normalizeRanges([...WORD, ...propertyRanges('\\p{L}\\p{N}\\p{Cn}')]);
}

const propertyCache = new Map<string, readonly CharRange[]>();

/** The code points of the class body `body` (Unicode property escapes), from this engine's data. */
function propertyRanges(body: string): readonly CharRange[] {
  const known = propertyCache.get(body);
  if (known !== undefined) return known;
  const ranges: CharRange[] = [];
  for (const match of everyCodePoint().matchAll(new RegExp(`[${body}]+`, 'gu'))) {
    const run = match[0];
    const last = run.codePointAt(run.length - 1)!;
    const lastFull = last >= 0xdc00 && last <= 0xdfff ? run.codePointAt(run.length - 2)! : last;
    ranges.push([run.codePointAt(0)!, lastFull]);
  }
  const result = normalizeRanges(ranges);
  propertyCache.set(body, result);
  return result;
}

/** Every code point but the surrogates, in order, as one string (about 2 MiB, built per scan). */
function everyCodePoint(): string {
  const chunks: string[] = [];
  for (let from = 0; from <= 0x10ffff; from += 0x1000) {
    const points: number[] = [];
    for (let c = from; c < from + 0x1000; c++) if (c < 0xd800 || c > 0xdfff) points.push(c);
    chunks.push(String.fromCodePoint(...points));
  }
  return chunks.join('');
}
