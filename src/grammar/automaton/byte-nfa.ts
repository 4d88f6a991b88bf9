/**
 * Lowers a grammar to one byte-level automaton: every rule becomes a start and an end state joined
 * by byte-range edges, epsilon edges and call edges (enter another rule, come back to a given
 * state), which `pda.ts` runs with a stack of return states.
 *
 * Owns: the lowering (UTF-8 for character classes and literals, repeats unrolled), the checks that
 * make the result runnable (every referenced rule defined, no left recursion, a size limit), and
 * the "tail return" flag that keeps right recursion (`items ::= item items?`) from growing the
 * stack. Throws GrammarError for a grammar it refuses.
 */
import { type Expr, type Grammar, GrammarError } from '../grammar-ir.ts';
import { utf8Sequences } from './utf8-ranges.ts';

/** Most automaton states one grammar may lower to (a repeat of a repeat multiplies them). */
export const MAX_STATES = 250_000;

export interface ByteEdge {
  readonly lo: number;
  readonly hi: number;
  readonly to: number;
}

export interface CallEdge {
  /** The callee's rule index. */
  readonly rule: number;
  /** Where the caller continues once the callee's rule ends. */
  readonly returnTo: number;
}

/** A lowered grammar. States are numbered from 0; rules by their order in the grammar. */
export interface CompiledGrammar {
  readonly ruleNames: readonly string[];
  readonly startRule: number;
  readonly ruleStart: Int32Array;
  /** Per state: the rule it ends, or -1. */
  readonly ruleEndOf: Int32Array;
  readonly byteEdges: readonly (readonly ByteEdge[])[];
  readonly epsilonEdges: readonly (readonly number[])[];
  readonly callEdges: readonly (readonly CallEdge[])[];
  /**
   * Per state: 1 when arriving there can only end its rule (its epsilon closure holds that rule's
   * end and no byte or call edge), so a call returning there need not push it.
   */
  readonly tailReturn: Uint8Array;
}

const encoder = new TextEncoder();

class Lowering {
  readonly byteEdges: ByteEdge[][] = [];
  readonly epsilonEdges: number[][] = [];
  readonly callEdges: CallEdge[][] = [];
  readonly #ruleIndex: ReadonlyMap<string, number>;

  constructor(ruleIndex: ReadonlyMap<string, number>) {
    this.#ruleIndex = ruleIndex;
  }

  newState(): number {
    if (this.byteEdges.length >= MAX_STATES) {
      throw new GrammarError(
        `the constraint is too large to enforce (more than ${MAX_STATES} automaton states; ` +
          'large repetition counts multiply)',
      );
    }
    this.byteEdges.push([]);
    this.epsilonEdges.push([]);
    this.callEdges.push([]);
    return this.byteEdges.length - 1;
  }

  #bytes(from: number, to: number, lo: number, hi: number): void {
    this.byteEdges[from]!.push({ lo, hi, to });
  }

  #epsilon(from: number, to: number): void {
    this.epsilonEdges[from]!.push(to);
  }

  /** Adds paths from `from` to `to` spelling exactly `expr`'s language. */
  lower(expr: Expr, from: number, to: number): void {
    switch (expr.kind) {
      case 'empty':
        this.#epsilon(from, to);
        return;
      case 'nothing':
        return;
      case 'chars':
        for (const sequence of utf8Sequences(expr.ranges)) {
          let at = from;
          sequence.forEach(([lo, hi], i) => {
            const next = i === sequence.length - 1 ? to : this.newState();
            this.#bytes(at, next, lo, hi);
            at = next;
          });
        }
        return;
      case 'literal': {
        const bytes = encoder.encode(expr.text);
        let at = from;
        bytes.forEach((byte, i) => {
          const next = i === bytes.length - 1 ? to : this.newState();
          this.#bytes(at, next, byte, byte);
          at = next;
        });
        return;
      }
      case 'seq': {
        let at = from;
        expr.items.forEach((item, i) => {
          const next = i === expr.items.length - 1 ? to : this.newState();
          this.lower(item, at, next);
          at = next;
        });
        return;
      }
      case 'alt':
        for (const item of expr.items) this.lower(item, from, to);
        return;
      case 'repeat':
        this.#repeat(expr.item, expr.min, expr.max, from, to);
        return;
      case 'ref': {
        const rule = this.#ruleIndex.get(expr.rule);
        if (rule === undefined) throw new GrammarError(`grammar: undefined rule "${expr.rule}"`);
        this.callEdges[from]!.push({ rule, returnTo: to });
        return;
      }
    }
  }

  #repeat(item: Expr, min: number, max: number | null, from: number, to: number): void {
    let at = from;
    for (let i = 0; i < min; i++) {
      const next = i === min - 1 && max === min ? to : this.newState();
      this.lower(item, at, next);
      at = next;
    }
    if (max === min) return;
    if (max === null) {
      const loop = this.newState();
      this.#epsilon(at, loop);
      this.lower(item, loop, loop);
      this.#epsilon(loop, to);
      return;
    }
    const optionalCopies = max - min;
    for (let i = 0; i < optionalCopies; i++) {
      const next = i === optionalCopies - 1 ? to : this.newState();
      this.#epsilon(at, to);
      this.lower(item, at, next);
      at = next;
    }
  }
}

/** Lower `grammar` (throws GrammarError: undefined rules, left recursion, too many states). */
export function compileGrammar(grammar: Grammar): CompiledGrammar {
  const ruleNames = [...grammar.rules.keys()];
  const ruleIndex = new Map(ruleNames.map((name, i) => [name, i]));
  const startRule = ruleIndex.get(grammar.start);
  if (startRule === undefined) throw new GrammarError(`grammar: undefined rule "${grammar.start}"`);
  const lowering = new Lowering(ruleIndex);
  const ruleStart = new Int32Array(ruleNames.length);
  const ruleEnd = new Int32Array(ruleNames.length);
  ruleNames.forEach((_, i) => {
    ruleStart[i] = lowering.newState();
    ruleEnd[i] = lowering.newState();
  });
  ruleNames.forEach((name, i) =>
    lowering.lower(grammar.rules.get(name)!, ruleStart[i]!, ruleEnd[i]!),
  );
  const stateCount = lowering.byteEdges.length;
  const ruleEndOf = new Int32Array(stateCount).fill(-1);
  ruleEnd.forEach((state, rule) => (ruleEndOf[state] = rule));
  const compiled: CompiledGrammar = {
    ruleNames,
    startRule,
    ruleStart,
    ruleEndOf,
    byteEdges: lowering.byteEdges,
    epsilonEdges: lowering.epsilonEdges,
    callEdges: lowering.callEdges,
    tailReturn: tailReturns(lowering, ruleEndOf),
  };
  refuseLeftRecursion(compiled, ruleEnd);
  return compiled;
}

function tailReturns(lowering: Lowering, ruleEndOf: Int32Array): Uint8Array {
  const count = lowering.byteEdges.length;
  const tail = new Uint8Array(count);
  for (let state = 0; state < count; state++) {
    let reachesEnd = false;
    let consumes = false;
    const seen = new Set([state]);
    const work = [state];
    while (work.length > 0 && !consumes) {
      const at = work.pop()!;
      if (ruleEndOf[at]! >= 0) reachesEnd = true;
      if (lowering.byteEdges[at]!.length > 0 || lowering.callEdges[at]!.length > 0) consumes = true;
      for (const next of lowering.epsilonEdges[at]!) {
        if (!seen.has(next)) {
          seen.add(next);
          work.push(next);
        }
      }
    }
    tail[state] = reachesEnd && !consumes ? 1 : 0;
  }
  return tail;
}

/** States reachable from `start` without consuming a byte, passing over calls to nullable rules. */
function emptyClosure(
  grammar: CompiledGrammar,
  start: number,
  nullable: readonly boolean[],
  onCall: (rule: number) => void,
): Set<number> {
  const seen = new Set([start]);
  const work = [start];
  const visit = (state: number): void => {
    if (!seen.has(state)) {
      seen.add(state);
      work.push(state);
    }
  };
  while (work.length > 0) {
    const at = work.pop()!;
    for (const next of grammar.epsilonEdges[at]!) visit(next);
    for (const call of grammar.callEdges[at]!) {
      onCall(call.rule);
      if (nullable[call.rule]) visit(call.returnTo);
    }
  }
  return seen;
}

function refuseLeftRecursion(grammar: CompiledGrammar, ruleEnd: Int32Array): void {
  const rules = grammar.ruleNames.length;
  const nullable: boolean[] = new Array<boolean>(rules).fill(false);
  for (let changed = true; changed;) {
    changed = false;
    for (let rule = 0; rule < rules; rule++) {
      if (nullable[rule]) continue;
      if (emptyClosure(grammar, grammar.ruleStart[rule]!, nullable, () => {}).has(ruleEnd[rule]!)) {
        nullable[rule] = true;
        changed = true;
      }
    }
  }
  const leftCalls = grammar.ruleNames.map((_, rule) => {
    const callees = new Set<number>();
    emptyClosure(grammar, grammar.ruleStart[rule]!, nullable, (callee) => callees.add(callee));
    return callees;
  });
  // A cycle in "calls before consuming" is left recursion: the stack would grow forever.
  const state = new Uint8Array(rules); // 0 new, 1 on the path, 2 done
  const visit = (rule: number): void => {
    state[rule] = 1;
    for (const callee of leftCalls[rule]!) {
      if (state[callee] === 1) {
        throw new GrammarError(
          `grammar: left recursion through rule "${grammar.ruleNames[callee]}" is not supported`,
        );
      }
      if (state[callee] === 0) visit(callee);
    }
    state[rule] = 2;
  };
  for (let rule = 0; rule < rules; rule++) if (state[rule] === 0) visit(rule);
}
