/**
 * Keys of full KV blocks for automatic prefix caching (vLLM's block hashes): a block's key is a
 * hash of its tokens chained with the key of the block before it, so one key stands for the whole
 * prefix up to the block's end.
 *
 * Owns: the hash. It is 53 bits (two 32-bit FNV-1a lanes folded into a safe integer, a fast Map
 * key), not cryptographic: a match is always confirmed by comparing the tokens, so a collision
 * can only cost a missed reuse, never a wrong one.
 */

/** The key before the first block. */
export const ROOT_KEY = 0;

/** The key of the block `tokens[from, from + blockSize)` that follows the block keyed `previous`. */
export function blockKey(
  previous: number,
  tokens: readonly number[],
  from: number,
  blockSize: number,
): number {
  let a = (0x811c9dc5 ^ (previous >>> 0)) >>> 0;
  let b = (0x01000193 ^ Math.floor(previous / 0x100000000)) >>> 0;
  for (let i = from; i < from + blockSize; i++) {
    const token = tokens[i]!;
    a = Math.imul(a ^ (token & 0xffff), 0x01000193);
    a = Math.imul(a ^ (token >>> 16), 0x01000193);
    b = Math.imul(b ^ token, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return ((b >>> 11) * 0x100000000 + (a >>> 0)) % Number.MAX_SAFE_INTEGER;
}

/** Keys of the full blocks of `tokens` from block `fromBlock` on, chained from `previous`. */
export function blockKeys(
  tokens: readonly number[],
  blockSize: number,
  fromBlock = 0,
  previous = ROOT_KEY,
): number[] {
  const keys: number[] = [];
  let key = previous;
  for (let start = fromBlock * blockSize; start + blockSize <= tokens.length; start += blockSize) {
    key = blockKey(key, tokens, start, blockSize);
    keys.push(key);
  }
  return keys;
}
