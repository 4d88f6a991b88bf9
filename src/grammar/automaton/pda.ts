/**
 * Runs a lowered grammar on bytes as a pushdown automaton, determinized lazily: a configuration
 * is the set of (state, return stack) threads the bytes so far can have led to, interned to a
 * number, and each configuration's successor on each byte is computed once and memoized. For a
 * grammar without unbounded nesting this builds, on demand, the grammar's byte DFA.
 *
 * Owns: stack and configuration interning, the epsilon/call/return closure, the memoized
 * transitions and the accepting flag. Stacks deeper than MAX_STACK_DEPTH are cut (such threads
 * die), so a pathological grammar cannot exhaust memory.
 */
import { GrammarError } from '../grammar-ir.ts';
import type { CompiledGrammar } from './byte-nfa.ts';

/** No successor: the byte cannot continue any thread. */
export const DEAD = -1;
const UNKNOWN = -2;
/** Nesting deeper than this ends a thread (JSON nested 1,000 deep is not a use case). */
export const MAX_STACK_DEPTH = 1000;

export class PushdownRunner {
  readonly #grammar: CompiledGrammar;
  /** Stack id -> return state and parent stack id; id 0 is the empty stack. */
  readonly #stackReturn: number[] = [-1];
  readonly #stackParent: number[] = [-1];
  readonly #stackDepth: number[] = [0];
  readonly #stackIds = new Map<string, number>();
  /** Configuration id -> its threads, as [state, stack, state, stack, ...] (states with byte edges). */
  readonly #threads: Int32Array[] = [];
  readonly #accepting: boolean[] = [];
  readonly #transitions: Int32Array[] = [];
  readonly #configIds = new Map<string, number>();
  /** The configuration before any byte. */
  readonly initial: number;

  constructor(grammar: CompiledGrammar) {
    this.#grammar = grammar;
    this.initial = this.#intern([grammar.ruleStart[grammar.startRule]!, 0]);
    if (this.initial === DEAD) throw new GrammarError('the constraint matches no text at all');
  }

  /** Configurations interned so far (each holds a 256-entry transition table). */
  get size(): number {
    return this.#threads.length;
  }

  /** True when the bytes that led to `config` are a whole member of the language. */
  accepting(config: number): boolean {
    return this.#accepting[config]!;
  }

  /** True when no byte can follow `config`. */
  exhausted(config: number): boolean {
    return this.#threads[config]!.length === 0;
  }

  /** The configuration after `byte`, or DEAD. */
  next(config: number, byte: number): number {
    const table = this.#transitions[config]!;
    const known = table[byte]!;
    if (known !== UNKNOWN) return known;
    const threads = this.#threads[config]!;
    const seeds: number[] = [];
    for (let i = 0; i < threads.length; i += 2) {
      for (const edge of this.#grammar.byteEdges[threads[i]!]!) {
        if (byte >= edge.lo && byte <= edge.hi) seeds.push(edge.to, threads[i + 1]!);
      }
    }
    const next = seeds.length === 0 ? DEAD : this.#intern(seeds);
    table[byte] = next;
    return next;
  }

  /** The configuration after `bytes` from `config`, or DEAD. */
  nextBytes(config: number, bytes: Uint8Array): number {
    let at = config;
    for (let i = 0; i < bytes.length && at !== DEAD; i++) at = this.next(at, bytes[i]!);
    return at;
  }

  #stack(returnTo: number, parent: number): number {
    const key = `${returnTo},${parent}`;
    let id = this.#stackIds.get(key);
    if (id === undefined) {
      id = this.#stackReturn.length;
      this.#stackReturn.push(returnTo);
      this.#stackParent.push(parent);
      this.#stackDepth.push(this.#stackDepth[parent]! + 1);
      this.#stackIds.set(key, id);
    }
    return id;
  }

  /** Closes `seeds` ([state, stack, ...]) over epsilon, call and return moves, then interns it. */
  #intern(seeds: number[]): number {
    const grammar = this.#grammar;
    const seen = new Set<string>();
    const kept: number[] = [];
    let accepting = false;
    const work = seeds;
    while (work.length > 0) {
      const stack = work.pop()!;
      const state = work.pop()!;
      const key = `${state},${stack}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (grammar.ruleEndOf[state]! >= 0) {
        if (stack === 0) accepting = true;
        else work.push(this.#stackReturn[stack]!, this.#stackParent[stack]!);
      }
      for (const next of grammar.epsilonEdges[state]!) work.push(next, stack);
      for (const call of grammar.callEdges[state]!) {
        let callee = stack;
        if (grammar.tailReturn[call.returnTo] === 0) {
          if (this.#stackDepth[stack]! >= MAX_STACK_DEPTH) continue;
          callee = this.#stack(call.returnTo, stack);
        }
        work.push(grammar.ruleStart[call.rule]!, callee);
      }
      if (grammar.byteEdges[state]!.length > 0) kept.push(state, stack);
    }
    if (kept.length === 0 && !accepting) return DEAD;
    // Sorted thread pairs make equal sets one key.
    const pairs: [number, number][] = [];
    for (let i = 0; i < kept.length; i += 2) pairs.push([kept[i]!, kept[i + 1]!]);
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const configKey = `${accepting ? 'A' : 'N'}${pairs.map(([s, k]) => `${s}.${k}`).join(' ')}`;
    let id = this.#configIds.get(configKey);
    if (id === undefined) {
      id = this.#threads.length;
      this.#threads.push(Int32Array.from(pairs.flat()));
      this.#accepting.push(accepting);
      this.#transitions.push(new Int32Array(256).fill(UNKNOWN));
      this.#configIds.set(configKey, id);
    }
    return id;
  }
}
