/**
 * A model's vocabulary as the token matcher walks it: a byte trie of every token that spells
 * text, built once per model.
 *
 * Owns: the trie (flat arrays: first child, next sibling, byte, and the tokens ending at each
 * node; several tokens may spell the same bytes, e.g. a byte-fallback token and a plain one) and
 * the end-of-generation tokens that a complete output may end with.
 */

export interface VocabularyInput {
  /** Vocabulary size (mask width). */
  readonly size: number;
  /** Token id -> its bytes, or null for a token that never spells constrained text (control tokens, empty pieces). */
  readonly tokenBytes: (token: number) => Uint8Array | null;
  /** EOS, EOT, ...: allowed exactly when the output so far is a complete member. */
  readonly endTokens: readonly number[];
}

export class TokenVocabulary {
  readonly size: number;
  readonly endTokens: readonly number[];
  /** Per trie node (0 is the root): first child, next sibling (-1: none), the byte leading to it. */
  readonly firstChild: Int32Array;
  readonly nextSibling: Int32Array;
  readonly nodeByte: Uint8Array;
  /** Tokens ending at node n: tokenList[tokenStart[n] .. tokenStart[n + 1]). */
  readonly tokenStart: Int32Array;
  readonly tokenList: Int32Array;
  /** Token id -> bytes (null for tokens outside the trie). */
  readonly #bytes: (Uint8Array | null)[];

  constructor(input: VocabularyInput) {
    this.size = input.size;
    this.endTokens = [...input.endTokens];
    const ends = new Set(input.endTokens);
    const children: Map<number, number>[] = [new Map<number, number>()];
    const tokensAt: number[][] = [[]];
    const bytes: (Uint8Array | null)[] = [];
    const nodeByte: number[] = [0];
    for (let token = 0; token < input.size; token++) {
      const piece = ends.has(token) ? null : input.tokenBytes(token);
      const usable = piece !== null && piece.length > 0 ? piece : null;
      bytes.push(usable);
      if (usable === null) continue;
      let node = 0;
      for (const byte of usable) {
        let child = children[node]!.get(byte);
        if (child === undefined) {
          child = children.length;
          children.push(new Map<number, number>());
          tokensAt.push([]);
          nodeByte.push(byte);
          children[node]!.set(byte, child);
        }
        node = child;
      }
      tokensAt[node]!.push(token);
    }
    const count = children.length;
    this.firstChild = new Int32Array(count).fill(-1);
    this.nextSibling = new Int32Array(count).fill(-1);
    this.nodeByte = Uint8Array.from(nodeByte);
    for (let node = 0; node < count; node++) {
      // Children in descending byte order, so the linked list runs ascending.
      const sorted = [...children[node]!.entries()].sort((a, b) => b[0] - a[0]);
      for (const [, child] of sorted) {
        this.nextSibling[child] = this.firstChild[node]!;
        this.firstChild[node] = child;
      }
    }
    this.tokenStart = new Int32Array(count + 1);
    let total = 0;
    for (let node = 0; node < count; node++) {
      this.tokenStart[node] = total;
      total += tokensAt[node]!.length;
    }
    this.tokenStart[count] = total;
    this.tokenList = Int32Array.from(tokensAt.flat());
    this.#bytes = bytes;
  }

  /** Trie nodes (the walk's worst case per mask). */
  get nodeCount(): number {
    return this.firstChild.length;
  }

  /** The bytes of `token`, or null when it is an end token or spells nothing. */
  bytesOf(token: number): Uint8Array | null {
    return this.#bytes[token] ?? null;
  }
}
