/**
 * The rules a grammar's start rule can reach, for the text front ends: a GBNF or Lark text may
 * define rules (and Lark imports) its start never uses, and the automaton need not see them.
 *
 * Owns: that pruning only.
 */
import type { Expr, Grammar } from './grammar-ir.ts';

/** The grammar of `start` over `rules`, keeping only the rules `start` reaches. */
export function reachableGrammar(start: string, rules: ReadonlyMap<string, Expr>): Grammar {
  const kept = new Map<string, Expr>();
  const pending = [start];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const body = rules.get(name);
    if (body === undefined || kept.has(name)) continue;
    kept.set(name, body);
    collectReferences(body, pending);
  }
  return { start, rules: kept };
}

function collectReferences(expr: Expr, out: string[]): void {
  switch (expr.kind) {
    case 'ref':
      out.push(expr.rule);
      return;
    case 'seq':
    case 'alt':
      for (const item of expr.items) collectReferences(item, out);
      return;
    case 'repeat':
      collectReferences(expr.item, out);
      return;
    case 'empty':
    case 'nothing':
    case 'chars':
    case 'literal':
      return;
  }
}
