/**
 * The KV pool of a unified cache as fixed-size blocks with reference counts (vLLM's
 * `BlockPool`, without the hashes: those live with the sequences in `KvCacheManager`).
 *
 * Owns: which block ids are allocated and how many sequences hold each. A block is charged for
 * `blockSize` cells whether or not they are all written, so the cells llama.cpp uses never exceed
 * the charged blocks times the block size, and never the pool. Releasing a block that is not held
 * throws, so a double free shows up as an error.
 */
export class BlockPool {
  /** Blocks in the pool. */
  readonly capacity: number;
  /** References per block id (0: free). */
  readonly #references: Int32Array;
  /** Free ids, a stack (the lowest first at the start; deterministic for a given history). */
  readonly #free: number[];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`a block pool needs at least one block, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#references = new Int32Array(capacity);
    this.#free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
  }

  get freeCount(): number {
    return this.#free.length;
  }

  get usedCount(): number {
    return this.capacity - this.#free.length;
  }

  /** A free block with one reference, or null when none is free. */
  allocate(): number | null {
    const block = this.#free.pop();
    if (block === undefined) return null;
    this.#references[block] = 1;
    return block;
  }

  /** One more sequence holds `block`. */
  retain(block: number): void {
    if (this.references(block) === 0) throw new Error(`block ${block} is not allocated`);
    this.#references[block]!++;
  }

  /** One sequence lets go of `block`; returns true when that freed it. */
  release(block: number): boolean {
    if (this.references(block) === 0) throw new Error(`block ${block} is not allocated`);
    if (--this.#references[block]! > 0) return false;
    this.#free.push(block);
    return true;
  }

  references(block: number): number {
    if (!Number.isInteger(block) || block < 0 || block >= this.capacity) {
      throw new RangeError(`block id must be in [0, ${this.capacity}), got ${block}`);
    }
    return this.#references[block]!;
  }
}
