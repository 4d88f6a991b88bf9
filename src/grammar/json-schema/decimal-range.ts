/**
 * Digit-range constructions: the JSON number texts whose values lie in a closed decimal interval.
 *
 * Owns: the exact construction over scaled integers. A value with at most `fractionDigits`
 * digits after the point is the integer `value * 10^fractionDigits`; `decimalRangeExpr(lo, hi,
 * f)` is the language of texts `-?int(.frac)?` (JSON's integer syntax, no leading zeros, no
 * exponent, 1 to f fraction digits, trailing zeros allowed, no `-0`) whose value v satisfies
 * lo <= v * 10^f <= hi. With f = 0 it is the integers of [lo, hi]. Each bound costs O(digits)
 * expression nodes.
 */
import {
  alt,
  chars,
  EMPTY,
  literal,
  NOTHING,
  optional,
  repeat,
  seq,
  type Expr,
} from '../grammar-ir.ts';

const ZERO = 0x30;

/** One decimal digit. */
export const DIGIT: Expr = chars([[ZERO, ZERO + 9]]);

/** Digits from `from` to `to` (0..9; empty when from > to). */
function digitSpan(from: number, to: number): Expr {
  return from > to ? NOTHING : chars([[ZERO + from, ZERO + to]]);
}

const digits = (min: number, max: number): Expr => repeat(DIGIT, min, max);
const allZero = (s: string): boolean => /^0*$/.test(s);
const allNine = (s: string): boolean => /^9*$/.test(s);
const head = (s: string): number => s.charCodeAt(0) - ZERO;

/** Digit strings of length |s| that are >= s. */
function atLeast(s: string): Expr {
  if (allZero(s)) return digits(s.length, s.length);
  return alt(
    seq(digitSpan(head(s) + 1, 9), digits(s.length - 1, s.length - 1)),
    seq(literal(s[0]!), atLeast(s.slice(1))),
  );
}

/** Digit strings of length |s| that are <= s. */
function atMost(s: string): Expr {
  if (allNine(s)) return digits(s.length, s.length);
  return alt(
    seq(digitSpan(0, head(s) - 1), digits(s.length - 1, s.length - 1)),
    seq(literal(s[0]!), atMost(s.slice(1))),
  );
}

/** Digit strings of the common length of `lo` and `hi` between them (lo <= hi). */
function between(lo: string, hi: string): Expr {
  if (lo.length === 0) return EMPTY;
  if (allZero(lo) && allNine(hi)) return digits(lo.length, lo.length);
  if (lo[0] === hi[0]) return seq(literal(lo[0]!), between(lo.slice(1), hi.slice(1)));
  return alt(
    seq(literal(lo[0]!), atLeast(lo.slice(1))),
    seq(digitSpan(head(lo) + 1, head(hi) - 1), digits(lo.length - 1, lo.length - 1)),
    seq(literal(hi[0]!), atMost(hi.slice(1))),
  );
}

/** Non-negative integers in [lo, hi] written without leading zeros. */
export function naturalRangeExpr(lo: bigint, hi: bigint): Expr {
  if (lo < 0n) lo = 0n;
  if (lo > hi) return NOTHING;
  const loText = lo.toString();
  const hiText = hi.toString();
  const parts: Expr[] = [];
  let fullFrom = 0;
  let fullTo = 0;
  const flushFull = (): void => {
    if (fullFrom > 0) parts.push(seq(digitSpan(1, 9), digits(fullFrom - 1, fullTo - 1)));
    fullFrom = 0;
  };
  for (let length = loText.length; length <= hiText.length; length++) {
    const from = length === loText.length ? loText : `1${'0'.repeat(length - 1)}`;
    const to = length === hiText.length ? hiText : '9'.repeat(length);
    const full = length > 1 && allZero(from.slice(1)) && from[0] === '1' && allNine(to);
    if (full) {
      if (fullFrom === 0) fullFrom = length;
      fullTo = length;
      continue;
    }
    flushFull();
    parts.push(between(from, to));
  }
  flushFull();
  return alt(...parts);
}

/** `.` and 1 to `count` digits, or nothing: any fraction. */
function anyFraction(count: number): Expr {
  return count === 0 ? EMPTY : optional(seq(literal('.'), digits(1, count)));
}

/** Digit strings t of length 0..|s| whose zero-padding to |s| is >= s. */
function paddedAtLeast(s: string): Expr {
  if (allZero(s)) return digits(0, s.length);
  return alt(
    seq(digitSpan(head(s) + 1, 9), digits(0, s.length - 1)),
    seq(literal(s[0]!), paddedAtLeast(s.slice(1))),
  );
}

/** Non-empty digit strings t of length 1..|s| whose zero-padding to |s| is <= s. */
function paddedAtMostNonEmpty(s: string): Expr {
  if (s.length === 0) return NOTHING;
  if (allNine(s)) return digits(1, s.length);
  return alt(
    seq(digitSpan(0, head(s) - 1), digits(0, s.length - 1)),
    seq(literal(s[0]!), optional(paddedAtMostNonEmpty(s.slice(1)))),
  );
}

/** Digit strings t of length 0..|lo| whose zero-padding lies in [lo, hi] (same length). */
function paddedBetween(lo: string, hi: string): Expr {
  if (allZero(lo)) return optional(paddedAtMostNonEmpty(hi));
  if (lo[0] === hi[0]) return seq(literal(lo[0]!), paddedBetween(lo.slice(1), hi.slice(1)));
  return alt(
    seq(literal(lo[0]!), paddedAtLeast(lo.slice(1))),
    seq(digitSpan(head(lo) + 1, head(hi) - 1), digits(0, lo.length - 1)),
    seq(literal(hi[0]!), optional(paddedAtMostNonEmpty(hi.slice(1)))),
  );
}

/** A fraction suffix (`.digits` or nothing) from fraction digit strings t in the padded range. */
function fractionSuffix(digitStrings: Expr, canBeEmpty: boolean): Expr {
  // digitStrings may contain the empty string exactly when canBeEmpty.
  if (!canBeEmpty) return seq(literal('.'), digitStrings);
  return alt(EMPTY, seq(literal('.'), nonEmptyPart(digitStrings)));
}

/** `expr` minus the empty string, for the shapes the padded constructions build. */
function nonEmptyPart(expr: Expr): Expr {
  if (expr.kind === 'empty') return NOTHING;
  if (expr.kind === 'repeat' && expr.min === 0) return repeat(expr.item, 1, expr.max);
  if (expr.kind === 'alt') return alt(...expr.items.filter((item) => item.kind !== 'empty'));
  return expr;
}

/** Non-negative values (scaled by 10^f) in [lo, hi], without sign. */
function magnitudeRange(lo: bigint, hi: bigint, f: number): Expr {
  if (lo > hi) return NOTHING;
  const unit = 10n ** BigInt(f);
  const loInt = lo / unit;
  const hiInt = hi / unit;
  const loFrac = (lo % unit).toString().padStart(f, '0');
  const hiFrac = (hi % unit).toString().padStart(f, '0');
  if (f === 0) return naturalRangeExpr(lo, hi);
  if (loInt === hiInt) {
    return seq(
      literal(loInt.toString()),
      fractionSuffix(paddedBetween(loFrac, hiFrac), allZero(loFrac)),
    );
  }
  return alt(
    seq(literal(loInt.toString()), fractionSuffix(paddedAtLeast(loFrac), allZero(loFrac))),
    seq(naturalRangeExpr(loInt + 1n, hiInt - 1n), anyFraction(f)),
    seq(literal(hiInt.toString()), fractionSuffix(optional(paddedAtMostNonEmpty(hiFrac)), true)),
  );
}

/**
 * JSON number texts (no exponent, at most `fractionDigits` digits after the point, no `-0`)
 * whose value times 10^fractionDigits lies in [lo, hi].
 */
export function decimalRangeExpr(lo: bigint, hi: bigint, fractionDigits: number): Expr {
  if (lo > hi) return NOTHING;
  const parts: Expr[] = [];
  if (hi >= 0n) parts.push(magnitudeRange(lo < 0n ? 0n : lo, hi, fractionDigits));
  if (lo < 0n) {
    parts.push(seq(literal('-'), magnitudeRange(-hi > 1n ? -hi : 1n, -lo, fractionDigits)));
  }
  return alt(...parts);
}
