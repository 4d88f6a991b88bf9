/**
 * Token-level enforcement of a compiled grammar: for a position in the output, the mask of tokens
 * that keep it a prefix of some member of the language (end tokens only once it is a whole
 * member), and the position after a chosen token.
 *
 * Owns: masks per pushdown configuration, computed by walking the vocabulary trie alongside the
 * automaton (each trie edge costs one memoized transition) and cached, so a configuration met
 * again costs nothing. One matcher serves every sequence of a constraint; a sequence's position is
 * just a configuration number (`MatchState`).
 */
import type { CompiledGrammar } from './automaton/byte-nfa.ts';
import { DEAD, PushdownRunner } from './automaton/pda.ts';
import type { TokenVocabulary } from './token-vocabulary.ts';

/**
 * Most bytes of masks one matcher keeps (a mask is 4,000 bytes at 32,000 tokens: 1,048 of them);
 * past it the cache starts over, so a grammar that keeps meeting new configurations (deep JSON
 * nesting) cannot grow it without bound.
 */
export const MAX_MASK_BYTES = 4 * 1024 * 1024;

/** The most masks a matcher over `vocabularySize` tokens caches (at least 64). */
export function maxCachedMasks(vocabularySize: number): number {
  return Math.max(64, Math.floor(MAX_MASK_BYTES / (4 * Math.ceil(vocabularySize / 32))));
}

/** A position in the language: a configuration of the matcher's automaton. */
export type MatchState = number;

/** The state after an end token: the output is over; only end tokens may follow. */
export const FINISHED: MatchState = -3;

export class TokenMatcher {
  readonly #runner: PushdownRunner;
  readonly #vocabulary: TokenVocabulary;
  readonly #masks = new Map<MatchState, Uint32Array>();
  readonly #endTokens: ReadonlySet<number>;
  readonly #maxMasks: number;

  constructor(grammar: CompiledGrammar, vocabulary: TokenVocabulary) {
    this.#runner = new PushdownRunner(grammar);
    this.#vocabulary = vocabulary;
    this.#endTokens = new Set(vocabulary.endTokens);
    this.#maxMasks = maxCachedMasks(vocabulary.size);
  }

  /** Before any output. */
  get initial(): MatchState {
    return this.#runner.initial;
  }

  /** Configurations and masks cached so far (for tests and statistics). */
  get cacheSizes(): { configurations: number; masks: number } {
    return { configurations: this.#runner.size, masks: this.#masks.size };
  }

  /**
   * About how many bytes the caches hold: each configuration a 256-entry transition table and
   * its threads and key (about 1.3 KB), each mask a bit per token.
   */
  get cacheBytes(): number {
    return this.#runner.size * 1300 + this.#masks.size * 4 * Math.ceil(this.#vocabulary.size / 32);
  }

  /** True when the output so far is a whole member (end tokens are allowed). */
  isComplete(state: MatchState): boolean {
    return state !== FINISHED && this.#runner.accepting(state);
  }

  /** True when nothing but an end token may follow. */
  isExhausted(state: MatchState): boolean {
    return state === FINISHED || this.#runner.exhausted(state);
  }

  /** The tokens allowed at `state` (one bit per token id; do not modify, it is cached). */
  mask(state: MatchState): Uint32Array {
    let mask = this.#masks.get(state);
    if (mask === undefined) {
      mask = this.#computeMask(state);
      if (this.#masks.size >= this.#maxMasks) this.#masks.clear();
      this.#masks.set(state, mask);
    }
    return mask;
  }

  /** The state after `token`, or null when `token` is not allowed at `state`. */
  advance(state: MatchState, token: number): MatchState | null {
    if (this.#endTokens.has(token)) {
      return state === FINISHED || this.#runner.accepting(state) ? FINISHED : null;
    }
    if (state === FINISHED) return null;
    const bytes = this.#vocabulary.bytesOf(token);
    if (bytes === null) return null;
    const next = this.#runner.nextBytes(state, bytes);
    return next === DEAD ? null : next;
  }

  #computeMask(state: MatchState): Uint32Array {
    const vocabulary = this.#vocabulary;
    const mask = new Uint32Array(Math.ceil(vocabulary.size / 32));
    if (state === FINISHED || this.#runner.accepting(state)) {
      for (const token of vocabulary.endTokens) mask[token >>> 5]! |= 1 << (token & 31);
    }
    // After an end token (generation going on past it, as with ignore_eos) only end tokens.
    if (state === FINISHED) return mask;
    const runner = this.#runner;
    const { firstChild, nextSibling, nodeByte, tokenStart, tokenList } = vocabulary;
    // Depth-first over the trie, carrying the configuration each node's bytes lead to.
    const nodes: number[] = [];
    const configs: number[] = [];
    for (let child = firstChild[0]!; child !== -1; child = nextSibling[child]!) {
      nodes.push(child);
      configs.push(state);
    }
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const next = runner.next(configs.pop()!, nodeByte[node]!);
      if (next === DEAD) continue;
      for (let i = tokenStart[node]!; i < tokenStart[node + 1]!; i++) {
        const token = tokenList[i]!;
        mask[token >>> 5]! |= 1 << (token & 31);
      }
      for (let child = firstChild[node]!; child !== -1; child = nextSibling[child]!) {
        nodes.push(child);
        configs.push(next);
      }
    }
    return mask;
  }
}
