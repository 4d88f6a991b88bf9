/**
 * Random strings of a grammar's language, for tests: every front end's output is checked by
 * drawing members and validating them with an independent judge (JavaScript's RegExp, Ajv).
 *
 * Owns: a seeded walk of the expression tree. Unbounded repeats stop with probability 1/2 per
 * round; past `maxDepth` nested rule references, alternatives and repeats take their shortest
 * choice so recursive grammars terminate. Returns null when the walk reaches NOTHING (an empty
 * language, or a branch the shortest choice could not avoid).
 */
import type { CharRange, Expr, Grammar } from './grammar-ir.ts';

export interface RandomMemberOptions {
  /** Seed of the walk (mulberry32). */
  readonly seed: number;
  /** Nested rule references before the walk takes the shortest way out. Default 6. */
  readonly maxDepth?: number;
  /** Most rounds of an unbounded repeat (beyond its minimum). Default 8. */
  readonly maxExtraRepeats?: number;
}

/** A random member of `grammar`'s language, or null when the walk hit an empty branch. */
export function randomMember(grammar: Grammar, options: RandomMemberOptions): string | null {
  const walk = new Walk(grammar, options);
  const parts: string[] = [];
  return walk.emit(grammar.rules.get(grammar.start)!, 0, parts) ? parts.join('') : null;
}

/** A small seeded generator (mulberry32): uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Walk {
  readonly #grammar: Grammar;
  readonly #random: () => number;
  readonly #maxDepth: number;
  readonly #maxExtra: number;
  readonly #minLength = new Map<string, number>();

  constructor(grammar: Grammar, options: RandomMemberOptions) {
    this.#grammar = grammar;
    this.#random = mulberry32(options.seed);
    this.#maxDepth = options.maxDepth ?? 6;
    this.#maxExtra = options.maxExtraRepeats ?? 8;
  }

  #int(below: number): number {
    return Math.floor(this.#random() * below);
  }

  /** Appends a member of `expr` to `out`; false when it reached NOTHING. */
  emit(expr: Expr, depth: number, out: string[]): boolean {
    switch (expr.kind) {
      case 'empty':
        return true;
      case 'nothing':
        return false;
      case 'chars':
        out.push(String.fromCodePoint(this.#pickCodePoint(expr.ranges)));
        return true;
      case 'literal':
        out.push(expr.text);
        return true;
      case 'seq':
        return expr.items.every((item) => this.emit(item, depth, out));
      case 'alt': {
        const item =
          depth >= this.#maxDepth
            ? this.#shortest(expr.items)
            : expr.items[this.#int(expr.items.length)]!;
        return this.emit(item, depth, out);
      }
      case 'repeat': {
        let count = expr.min;
        if (depth < this.#maxDepth) {
          const room =
            expr.max === null ? this.#maxExtra : Math.min(expr.max - expr.min, this.#maxExtra);
          while (count - expr.min < room && this.#random() < 0.5) count++;
        }
        for (let i = 0; i < count; i++) if (!this.emit(expr.item, depth, out)) return false;
        return true;
      }
      case 'ref':
        return this.emit(this.#grammar.rules.get(expr.rule)!, depth + 1, out);
    }
  }

  /** Code points of printable ASCII are drawn more often, so members stay readable. */
  #pickCodePoint(ranges: readonly CharRange[]): number {
    const ascii = ranges
      .map(([from, to]): CharRange => [Math.max(from, 0x20), Math.min(to, 0x7e)])
      .filter(([from, to]) => from <= to);
    const pool = ascii.length > 0 && this.#random() < 0.8 ? ascii : ranges;
    let total = 0;
    for (const [from, to] of pool) total += to - from + 1;
    let pick = this.#int(total);
    for (const [from, to] of pool) {
      const size = to - from + 1;
      if (pick < size) {
        const c = from + pick;
        // Surrogates never match: step past them.
        return c >= 0xd800 && c <= 0xdfff ? 0xe000 + (c - 0xd800) : c;
      }
      pick -= size;
    }
    return pool[0]![0];
  }

  #shortest(items: readonly Expr[]): Expr {
    let best = items[0]!;
    let bestLength = Infinity;
    for (const item of items) {
      const length = this.#minimumLength(item, new Set());
      if (length < bestLength) {
        best = item;
        bestLength = length;
      }
    }
    return best;
  }

  /** Fewest code points a member of `expr` has (Infinity for NOTHING or unbounded recursion). */
  #minimumLength(expr: Expr, visiting: Set<string>): number {
    switch (expr.kind) {
      case 'empty':
        return 0;
      case 'nothing':
        return Infinity;
      case 'chars':
        return 1;
      case 'literal':
        return Array.from(expr.text).length;
      case 'seq':
        return expr.items.reduce((sum, item) => sum + this.#minimumLength(item, visiting), 0);
      case 'alt':
        return Math.min(...expr.items.map((item) => this.#minimumLength(item, visiting)));
      case 'repeat':
        return expr.min === 0 ? 0 : expr.min * this.#minimumLength(expr.item, visiting);
      case 'ref': {
        const known = this.#minLength.get(expr.rule);
        if (known !== undefined) return known;
        if (visiting.has(expr.rule)) return Infinity;
        visiting.add(expr.rule);
        const length = this.#minimumLength(this.#grammar.rules.get(expr.rule)!, visiting);
        visiting.delete(expr.rule);
        if (visiting.size === 0) this.#minLength.set(expr.rule, length);
        return length;
      }
    }
  }
}
