/**
 * The last step of the JSON Schema front end: rules that can never finish (a required property
 * whose schema recurses without end, a `$ref` to itself) are replaced by NOTHING, rules the start
 * cannot reach are dropped, and a reference cycle that consumes nothing (left recursion, which
 * the automaton refuses) is reported.
 *
 * Owns: those grammar-level checks over `Grammar` values.
 */
import { alt, GrammarError, repeat, seq, NOTHING, type Expr, type Grammar } from '../grammar-ir.ts';

function canFinish(expr: Expr, finishing: ReadonlySet<string>): boolean {
  switch (expr.kind) {
    case 'empty':
    case 'chars':
    case 'literal':
      return true;
    case 'nothing':
      return false;
    case 'seq':
      return expr.items.every((item) => canFinish(item, finishing));
    case 'alt':
      return expr.items.some((item) => canFinish(item, finishing));
    case 'repeat':
      return expr.min === 0 || canFinish(expr.item, finishing);
    case 'ref':
      return finishing.has(expr.rule);
  }
}

function canBeEmpty(expr: Expr, nullable: ReadonlySet<string>): boolean {
  switch (expr.kind) {
    case 'empty':
      return true;
    case 'chars':
    case 'literal':
    case 'nothing':
      return false;
    case 'seq':
      return expr.items.every((item) => canBeEmpty(item, nullable));
    case 'alt':
      return expr.items.some((item) => canBeEmpty(item, nullable));
    case 'repeat':
      return expr.min === 0 || canBeEmpty(expr.item, nullable);
    case 'ref':
      return nullable.has(expr.rule);
  }
}

/** The rules for which `holds` is true, as a least fixed point. */
function fixedPoint(
  rules: ReadonlyMap<string, Expr>,
  holds: (body: Expr, known: ReadonlySet<string>) => boolean,
): Set<string> {
  const known = new Set<string>();
  for (let grew = true; grew;) {
    grew = false;
    for (const [name, body] of rules) {
      if (!known.has(name) && holds(body, known)) {
        known.add(name);
        grew = true;
      }
    }
  }
  return known;
}

function prune(expr: Expr, finishing: ReadonlySet<string>): Expr {
  switch (expr.kind) {
    case 'seq':
      return seq(...expr.items.map((item) => prune(item, finishing)));
    case 'alt':
      return alt(...expr.items.map((item) => prune(item, finishing)));
    case 'repeat':
      return repeat(prune(expr.item, finishing), expr.min, expr.max);
    case 'ref':
      return finishing.has(expr.rule) ? expr : NOTHING;
    case 'empty':
    case 'nothing':
    case 'chars':
    case 'literal':
      return expr;
  }
}

/** Rules referenced by `expr`; with `leading`, only those reachable before any character. */
function references(expr: Expr, out: Set<string>, nullable: ReadonlySet<string> | null): void {
  switch (expr.kind) {
    case 'seq':
      for (const item of expr.items) {
        references(item, out, nullable);
        if (nullable !== null && !canBeEmpty(item, nullable)) return;
      }
      return;
    case 'alt':
      for (const item of expr.items) references(item, out, nullable);
      return;
    case 'repeat':
      references(expr.item, out, nullable);
      return;
    case 'ref':
      out.add(expr.rule);
      return;
    case 'empty':
    case 'nothing':
    case 'chars':
    case 'literal':
      return;
  }
}

/**
 * `grammar` with never-finishing rules pruned and unreachable ones dropped, or null when its
 * language is empty. Throws GrammarError for left recursion.
 */
export function finishGrammar(grammar: Grammar): Grammar | null {
  const finishing = fixedPoint(grammar.rules, canFinish);
  if (!finishing.has(grammar.start)) return null;
  const pruned = new Map<string, Expr>();
  for (const [name, body] of grammar.rules)
    if (finishing.has(name)) pruned.set(name, prune(body, finishing));
  const reachable = new Set([grammar.start]);
  const queue = [grammar.start];
  while (queue.length > 0) {
    const found = new Set<string>();
    references(pruned.get(queue.pop()!)!, found, null);
    for (const name of found) {
      if (!reachable.has(name)) {
        reachable.add(name);
        queue.push(name);
      }
    }
  }
  const rules = new Map([...pruned].filter(([name]) => reachable.has(name)));
  checkLeftRecursion(rules);
  return { start: grammar.start, rules };
}

function checkLeftRecursion(rules: ReadonlyMap<string, Expr>): void {
  const nullable = fixedPoint(rules, canBeEmpty);
  const leading = new Map<string, Set<string>>();
  for (const [name, body] of rules) {
    const out = new Set<string>();
    references(body, out, nullable);
    leading.set(name, out);
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (name: string): void => {
    state.set(name, 'open');
    for (const next of leading.get(name) ?? []) {
      if (state.get(next) === 'open') {
        throw new GrammarError(
          'JSON Schema: a schema refers to itself without nesting (a $ref cycle through anyOf, oneOf, allOf or $ref alone)',
        );
      }
      if (!state.has(next)) visit(next);
    }
    state.set(name, 'done');
  };
  for (const name of rules.keys()) if (!state.has(name)) visit(name);
}
