/**
 * The slow, obviously-correct membership test for a grammar: does a whole string match its start
 * rule? Tests use it as the reference for the front ends (against JavaScript's RegExp, Ajv) and
 * for the byte-level automaton and token matcher (which must agree with it).
 *
 * Owns: nothing but that check. It walks the expression tree over code points, keeping the set of
 * positions each expression can end at (memoized per rule and start); a left-recursive reference
 * contributes nothing while it is being expanded.
 */
import type { Expr, Grammar } from './grammar-ir.ts';

/** True when all of `text` matches `grammar`'s start rule. */
export function matchesGrammar(grammar: Grammar, text: string): boolean {
  const codePoints = Array.from(text, (c) => c.codePointAt(0)!);
  return new Matcher(grammar, codePoints)
    .ends(grammar.rules.get(grammar.start)!, 0)
    .has(codePoints.length);
}

class Matcher {
  readonly #grammar: Grammar;
  readonly #text: readonly number[];
  readonly #memo = new Map<string, ReadonlySet<number>>();
  readonly #expanding = new Set<string>();

  constructor(grammar: Grammar, text: readonly number[]) {
    this.#grammar = grammar;
    this.#text = text;
  }

  /** Every position `expr` can end at when it starts at `at`. */
  ends(expr: Expr, at: number): ReadonlySet<number> {
    const text = this.#text;
    switch (expr.kind) {
      case 'empty':
        return new Set([at]);
      case 'nothing':
        return new Set();
      case 'chars': {
        const c = text[at];
        if (c === undefined) return new Set();
        return expr.ranges.some(([from, to]) => c >= from && c <= to)
          ? new Set([at + 1])
          : new Set();
      }
      case 'literal': {
        const want = Array.from(expr.text, (ch) => ch.codePointAt(0)!);
        for (let i = 0; i < want.length; i++) if (text[at + i] !== want[i]) return new Set();
        return new Set([at + want.length]);
      }
      case 'seq': {
        let positions: ReadonlySet<number> = new Set([at]);
        for (const item of expr.items) positions = this.#step(item, positions);
        return positions;
      }
      case 'alt': {
        const result = new Set<number>();
        for (const item of expr.items) for (const end of this.ends(item, at)) result.add(end);
        return result;
      }
      case 'repeat': {
        const result = new Set<number>();
        if (expr.min === 0) result.add(at);
        let current: ReadonlySet<number> = new Set([at]);
        const seen = new Set<number>([at]);
        for (let count = 1; expr.max === null || count <= expr.max; count++) {
          const next = this.#step(expr.item, current);
          if (next.size === 0) break;
          let grew = false;
          for (const end of next) {
            if (count >= expr.min) result.add(end);
            if (!seen.has(end)) {
              seen.add(end);
              grew = true;
            }
          }
          // Past the minimum, another round can only revisit positions already reached.
          if (!grew && count >= expr.min) break;
          current = next;
        }
        return result;
      }
      case 'ref': {
        const key = `${expr.rule}@${at}`;
        const known = this.#memo.get(key);
        if (known !== undefined) return known;
        if (this.#expanding.has(key)) return new Set();
        const body = this.#grammar.rules.get(expr.rule);
        if (body === undefined) throw new Error(`undefined rule ${expr.rule}`);
        this.#expanding.add(key);
        const result = this.ends(body, at);
        this.#expanding.delete(key);
        this.#memo.set(key, result);
        return result;
      }
    }
  }

  #step(expr: Expr, starts: ReadonlySet<number>): ReadonlySet<number> {
    const result = new Set<number>();
    for (const start of starts) for (const end of this.ends(expr, start)) result.add(end);
    return result;
  }
}
