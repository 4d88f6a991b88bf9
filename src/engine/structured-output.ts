/**
 * Structured outputs in the engine: a request's compiled grammar turned into the allowed-token
 * mask of each of its rows, and advanced on each token it draws.
 *
 * Owns: the model's token vocabulary as the matcher walks it (built once, on the first
 * constrained request: one `tokenBytes` per token; special tokens spell nothing), one
 * `TokenMatcher` per compiled grammar (a WeakMap, so a grammar the HTTP layer caches and reuses
 * keeps its masks across requests and samples), and `GrammarCursor`, one sequence's position.
 * Memory is bounded: a matcher that has interned MAX_MATCHER_CONFIGURATIONS configurations is
 * replaced for new cursors (those in flight keep theirs), and the matchers together hold at most
 * MATCHER_CACHE_BYTES of caches and MAX_MATCHERS grammars, the least recently used dropped first
 * (a soak with the 62 corpus schemas grew the server's RSS by 27 % in 30 minutes without this).
 */
import type { ModelInfo, Tokenizer } from '../backend/model-backend.ts';
import type { CompiledGrammar } from '../grammar/automaton/byte-nfa.ts';
import { FINISHED, type MatchState, TokenMatcher } from '../grammar/token-matcher.ts';
import { TokenVocabulary } from '../grammar/token-vocabulary.ts';

/** Configurations a matcher may intern (about 1.3 KB each) before new cursors get a fresh one. */
export const MAX_MATCHER_CONFIGURATIONS = 5_000;
/** Bytes of caches all matchers together may hold (TokenMatcher.cacheBytes). */
export const MATCHER_CACHE_BYTES = 32 * 1024 * 1024;
/** Grammars with a matcher at once. */
export const MAX_MATCHERS = 64;

/** Builds the vocabulary once per model and a matcher once per grammar. */
export class GrammarMatchers {
  readonly #info: ModelInfo;
  readonly #tokenizer: Tokenizer;
  #vocabulary: TokenVocabulary | null = null;
  /** Matchers by grammar, least recently used first. */
  readonly #matchers = new Map<CompiledGrammar, TokenMatcher>();

  constructor(info: ModelInfo, tokenizer: Tokenizer) {
    this.#info = info;
    this.#tokenizer = tokenizer;
  }

  /** The vocabulary (built on first use). */
  get vocabulary(): TokenVocabulary {
    if (this.#vocabulary === null) {
      const tokenizer = this.#tokenizer;
      this.#vocabulary = new TokenVocabulary({
        size: this.#info.vocabSize,
        tokenBytes: (token) => (tokenizer.isSpecial(token) ? null : tokenizer.tokenBytes(token)),
        endTokens: this.#info.endOfGenerationTokens,
      });
    }
    return this.#vocabulary;
  }

  matcher(grammar: CompiledGrammar): TokenMatcher {
    let matcher = this.#matchers.get(grammar);
    this.#matchers.delete(grammar);
    if (matcher === undefined || matcher.cacheSizes.configurations >= MAX_MATCHER_CONFIGURATIONS) {
      matcher = new TokenMatcher(grammar, this.vocabulary);
    }
    this.#matchers.set(grammar, matcher);
    this.#evict();
    return matcher;
  }

  /** Grammars with a matcher now (for tests). */
  get matcherCount(): number {
    return this.#matchers.size;
  }

  /** Bytes the matchers' caches hold together (TokenMatcher.cacheBytes). */
  get cacheBytes(): number {
    let bytes = 0;
    for (const matcher of this.#matchers.values()) bytes += matcher.cacheBytes;
    return bytes;
  }

  /** Drops the least recently used matchers past the byte or count budget (never the newest). */
  #evict(): void {
    let bytes = this.cacheBytes;
    for (const [grammar, matcher] of this.#matchers) {
      if (this.#matchers.size <= 1) break;
      if (bytes <= MATCHER_CACHE_BYTES && this.#matchers.size <= MAX_MATCHERS) break;
      bytes -= matcher.cacheBytes;
      this.#matchers.delete(grammar);
    }
  }

  /** A cursor at the start of `grammar`'s language. */
  cursor(grammar: CompiledGrammar): GrammarCursor {
    return new GrammarCursor(this.matcher(grammar));
  }
}

/** One sequence's position in its grammar. */
export class GrammarCursor {
  readonly #matcher: TokenMatcher;
  #state: MatchState;

  constructor(matcher: TokenMatcher) {
    this.#matcher = matcher;
    this.#state = matcher.initial;
  }

  /** The tokens the next draw may take (cached; do not modify). */
  mask(): Uint32Array {
    return this.#matcher.mask(this.#state);
  }

  /** True once the output is a whole member of the language. */
  get complete(): boolean {
    return this.#state === FINISHED || this.#matcher.isComplete(this.#state);
  }

  /** Take the drawn token; throws when the mask did not allow it (a sampler bug). */
  advance(token: number): void {
    const next = this.#matcher.advance(this.#state, token);
    if (next === null) throw new Error(`token ${token} is outside the request's structured output`);
    this.#state = next;
  }

  /** A copy at the same position (for a forked sample). */
  fork(): GrammarCursor {
    const copy = new GrammarCursor(this.#matcher);
    copy.#state = this.#state;
    return copy;
  }
}
