/**
 * The KV sequence ids a scheduler hands out: 0 .. size-1, lowest free first (deterministic).
 *
 * Owns: which ids are in use. Releasing an id that is not in use throws, so a double free or a
 * leak shows up as an error, not as two requests sharing one sequence.
 */
export class SequencePool {
  readonly size: number;
  /** Free ids, kept sorted descending so pop() yields the lowest. */
  readonly #free: number[];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`pool size must be an integer >= 1, got ${size}`);
    }
    this.size = size;
    this.#free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  get freeCount(): number {
    return this.#free.length;
  }

  get inUseCount(): number {
    return this.size - this.#free.length;
  }

  /** The lowest free id, or null when all are in use. */
  acquire(): number | null {
    return this.#free.pop() ?? null;
  }

  /** Return an id acquired earlier. */
  release(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new RangeError(`sequence id must be in [0, ${this.size}), got ${id}`);
    }
    if (this.#free.includes(id)) throw new Error(`sequence ${id} is already free`);
    let at = this.#free.length;
    while (at > 0 && this.#free[at - 1]! < id) at--;
    this.#free.splice(at, 0, id);
  }
}
