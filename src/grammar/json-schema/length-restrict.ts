/**
 * `minLength`/`maxLength` on string content given as an expression (a format or a pattern),
 * counted in decoded code points as Ajv counts them.
 *
 * Owns: the length range of an expression and its restriction to a length interval. The
 * restriction is exact where the shape allows (one variable-length part in a sequence, repeats of
 * fixed-width items, alternations of those) and otherwise a sound subset: the length budget of a
 * sequence with several variable parts is split between them (each part gets a share of the
 * slack), and a repeat of a variable-width item gets a count range and a per-item length range
 * whose products stay inside the interval; alternatives that find no subset are dropped. Every
 * member of the result has a length in the interval. NOTHING means no member of the expression
 * has such a length; `null` means none was found, and the caller refuses the schema.
 */
import { alt, EMPTY, NOTHING, repeat, seq, type Expr } from '../grammar-ir.ts';

/** Shortest and longest member lengths (Infinity when unbounded; [Infinity, -Infinity] for none). */
export function lengthRange(expr: Expr): [min: number, max: number] {
  switch (expr.kind) {
    case 'empty':
      return [0, 0];
    case 'nothing':
      return [Infinity, -Infinity];
    case 'chars':
      return [1, 1];
    case 'literal': {
      const length = Array.from(expr.text).length;
      return [length, length];
    }
    case 'seq': {
      let min = 0;
      let max = 0;
      for (const item of expr.items) {
        const [a, b] = lengthRange(item);
        min += a;
        max += b;
      }
      return [min, max];
    }
    case 'alt': {
      let min = Infinity;
      let max = -Infinity;
      for (const item of expr.items) {
        const [a, b] = lengthRange(item);
        min = Math.min(min, a);
        max = Math.max(max, b);
      }
      return [min, max];
    }
    case 'repeat': {
      const [a, b] = lengthRange(expr.item);
      const max = b === 0 ? 0 : expr.max === null ? Infinity : expr.max * b;
      return [expr.min * a, max];
    }
    case 'ref':
      throw new Error('lengthRange: rule references are not expected in string content');
  }
}

/**
 * Members of `expr` with length in [lo, hi] (hi may be Infinity): exactly those where the shape
 * allows, else a non-empty sound subset, else null.
 */
export function restrictLength(expr: Expr, lo: number, hi: number): Expr | null {
  const [min, max] = lengthRange(expr);
  if (min >= lo && max <= hi) return expr;
  if (min > hi || max < lo) return NOTHING;
  switch (expr.kind) {
    case 'alt': {
      // The union of subsets is a subset: branches without one are dropped.
      const results = expr.items.map((item) => restrictLength(item, lo, hi));
      const kept = results.filter((item): item is Expr => item !== null && item.kind !== 'nothing');
      if (kept.length > 0) return alt(...kept);
      return results.includes(null) ? null : NOTHING;
    }
    case 'seq':
      return restrictSequence(expr.items, lo, hi);
    case 'repeat':
      return restrictRepeat(expr.item, expr.min, expr.max ?? Infinity, lo, hi);
    case 'empty':
    case 'nothing':
    case 'chars':
    case 'literal':
    case 'ref':
      // One length each (handled above); references do not occur in string content.
      return null;
  }
}

/** Items of a sequence restricted so that their lengths add up to something in [lo, hi]. */
function restrictSequence(items: readonly Expr[], lo: number, hi: number): Expr | null {
  const ranges = items.map(lengthRange);
  const low = ranges.map(([a]) => a);
  const high = ranges.map(([, b]) => b);
  const variable = ranges.flatMap(([a, b], i) => (a < b ? [i] : []));
  // Upper bound: share the slack above the minimum lengths out among the variable items.
  const sumHigh = high.reduce((sum, b) => sum + b, 0);
  if (sumHigh > hi) {
    const sumLow = low.reduce((sum, a) => sum + a, 0);
    const caps = share(
      hi - sumLow,
      variable.map((i) => high[i]! - low[i]!),
    );
    variable.forEach((i, k) => (high[i] = low[i]! + caps[k]!));
  }
  // Lower bound: raise the minimum lengths of the variable items, within their new maxima.
  const sumLow = low.reduce((sum, a) => sum + a, 0);
  if (sumLow < lo) {
    const raises = share(
      lo - sumLow,
      variable.map((i) => high[i]! - low[i]!),
    );
    const raised = raises.reduce((sum, r) => sum + r, 0);
    if (raised < lo - sumLow) return null;
    variable.forEach((i, k) => (low[i] = low[i]! + raises[k]!));
  }
  const restricted = items.map((item, i) =>
    variable.includes(i) ? restrictLength(item, low[i]!, high[i]!) : item,
  );
  // A part left without members under its share: this split found no subset.
  if (restricted.some((item) => item === null || item.kind === 'nothing')) return null;
  return seq(...(restricted as Expr[]));
}

/** Splits `amount` into parts no larger than `capacities`, as evenly as they allow. */
function share(amount: number, capacities: readonly number[]): number[] {
  const parts = capacities.map(() => 0);
  let left = amount;
  let open = capacities.map((_, i) => i);
  while (left > 0 && open.length > 0) {
    const each = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      const give = Math.min(each, capacities[i]! - parts[i]!, left);
      parts[i]! += give;
      left -= give;
    }
    open = open.filter((i) => parts[i]! < capacities[i]!);
  }
  return parts;
}

/**
 * `item{min,max}` restricted to total lengths in [lo, hi]. For a variable-width item: the least
 * count c (at least one when lo > 0) for which items of at least lo / c characters exist and fit
 * at least c times into hi; then as many items as fit, each at most hi / that many long.
 */
function restrictRepeat(item: Expr, min: number, max: number, lo: number, hi: number): Expr | null {
  const [width, widest] = lengthRange(item);
  const toMax = (count: number): number | null => (count === Infinity ? null : count);
  if (width === widest && width > 0) {
    const from = Math.max(min, Math.ceil(lo / width));
    const to = Math.min(max, Math.floor(hi / width));
    return from > to ? NOTHING : repeat(item, from, toMax(to));
  }
  const least = lo === 0 ? min : Math.max(min, 1);
  const most = Math.min(max, least + 10_000, Math.floor(hi / Math.max(width, 1)));
  for (let first = least; first <= most; first++) {
    const shortest = first === 0 ? width : Math.max(width, Math.ceil(lo / first));
    if (shortest > widest) continue;
    const last = hi === Infinity ? max : Math.min(max, Math.floor(hi / Math.max(shortest, 1)));
    if (last < first) continue;
    if (last === 0) return EMPTY;
    const fitting = restrictLength(
      item,
      shortest,
      hi === Infinity ? Infinity : Math.floor(hi / last),
    );
    if (fitting !== null && fitting.kind !== 'nothing') return repeat(fitting, first, toMax(last));
  }
  return null;
}
