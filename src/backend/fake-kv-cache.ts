/**
 * The fake backend's KV memory: which token each sequence holds at each position, and which
 * cells are in use, with llama.cpp's rules (positions continue from the sequence's last one;
 * unified KV shares cells on copy; per-sequence KV copies whole sequences only).
 *
 * Owns: cell accounting that engine tests can inspect for leaks (`usedCells`).
 */
import type { KvLayout, KvSequenceOperations } from './model-backend.ts';

interface Cell {
  readonly token: number;
  references: number;
}

export class FakeKvCache implements KvSequenceOperations {
  readonly #layout: KvLayout;
  /** Per sequence: position -> cell. Positions are contiguous from `min`. */
  readonly #sequences = new Map<number, Map<number, Cell>>();

  constructor(layout: KvLayout) {
    this.#layout = layout;
  }

  /** Cells in use in the whole memory (shared cells count once). */
  usedCells(): number {
    const cells = new Set<Cell>();
    for (const positions of this.#sequences.values())
      for (const cell of positions.values()) cells.add(cell);
    return cells.size;
  }

  /** Cells held by one sequence. */
  sequenceLength(sequenceId: number): number {
    return this.#sequences.get(sequenceId)?.size ?? 0;
  }

  /** The tokens of a sequence in position order (what its next-token logits depend on). */
  tokensOf(sequenceId: number): number[] {
    const positions = this.#sequences.get(sequenceId);
    if (positions === undefined) return [];
    return [...positions.entries()].sort((a, b) => a[0] - b[0]).map(([, cell]) => cell.token);
  }

  checkSequence(sequenceId: number): void {
    if (
      !Number.isInteger(sequenceId) ||
      sequenceId < 0 ||
      sequenceId >= this.#layout.maxSequences
    ) {
      throw new RangeError(
        `sequence id must be in [0, ${this.#layout.maxSequences}), got ${sequenceId}`,
      );
    }
  }

  /** The position the next token of a sequence must take. */
  nextPosition(sequenceId: number): number {
    const range = this.positions(sequenceId);
    return range === null ? 0 : range.max + 1;
  }

  /** Whether `count` more cells fit for `sequenceId`, given `pending` cells already promised in this step. */
  fits(
    sequenceId: number,
    count: number,
    pendingTotal: number,
    pendingForSequence: number,
  ): boolean {
    if (this.#layout.unified)
      return this.usedCells() + pendingTotal + count <= this.#layout.totalCells;
    return (
      this.sequenceLength(sequenceId) + pendingForSequence + count <= this.#layout.cellsPerSequence
    );
  }

  append(sequenceId: number, position: number, token: number): void {
    let positions = this.#sequences.get(sequenceId);
    if (positions === undefined) {
      positions = new Map();
      this.#sequences.set(sequenceId, positions);
    }
    positions.set(position, { token, references: 1 });
  }

  remove(sequenceId: number, from: number, to: number | null): boolean {
    this.checkSequence(sequenceId);
    const positions = this.#sequences.get(sequenceId);
    if (positions === undefined) return true;
    for (const position of [...positions.keys()]) {
      if (position >= Math.max(from, 0) && (to === null || to < 0 || position < to)) {
        positions.get(position)!.references--;
        positions.delete(position);
      }
    }
    if (positions.size === 0) this.#sequences.delete(sequenceId);
    return true;
  }

  copy(source: number, destination: number, from: number, to: number | null): void {
    this.checkSequence(source);
    this.checkSequence(destination);
    if (source === destination) return;
    const whole = from <= 0 && (to === null || to < 0);
    if (!this.#layout.unified && !whole) {
      throw new RangeError('per-sequence KV supports only whole-sequence copies');
    }
    const positions = this.#sequences.get(source) ?? new Map<number, Cell>();
    if (!this.#layout.unified) this.remove(destination, 0, null);
    let target = this.#sequences.get(destination);
    for (const [position, cell] of positions) {
      if (position < Math.max(from, 0) || (to !== null && to >= 0 && position >= to)) continue;
      target ??= new Map();
      // Unified KV shares the cell; per-sequence KV copies the data into the destination's stream.
      if (this.#layout.unified) {
        cell.references++;
        target.set(position, cell);
      } else {
        target.set(position, { token: cell.token, references: 1 });
      }
    }
    if (target !== undefined && target.size > 0) this.#sequences.set(destination, target);
  }

  keepOnly(sequenceId: number): void {
    this.checkSequence(sequenceId);
    for (const other of [...this.#sequences.keys()])
      if (other !== sequenceId) this.remove(other, 0, null);
  }

  shift(sequenceId: number, from: number, to: number | null, delta: number): void {
    this.checkSequence(sequenceId);
    const positions = this.#sequences.get(sequenceId);
    if (positions === undefined) return;
    const moved = [...positions.entries()].map(([position, cell]): [number, Cell] => {
      const inRange = position >= Math.max(from, 0) && (to === null || to < 0 || position < to);
      return [inRange ? position + delta : position, cell];
    });
    positions.clear();
    for (const [position, cell] of moved) if (position >= 0) positions.set(position, cell);
  }

  positions(sequenceId: number): { readonly min: number; readonly max: number } | null {
    this.checkSequence(sequenceId);
    const positions = this.#sequences.get(sequenceId);
    if (positions === undefined || positions.size === 0) return null;
    const keys = [...positions.keys()];
    return { min: Math.min(...keys), max: Math.max(...keys) };
  }

  clear(): void {
    this.#sequences.clear();
  }
}
