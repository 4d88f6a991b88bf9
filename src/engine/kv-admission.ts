/**
 * Whether the KV memory can take one more running request (issue 3's rule; issue 6 replaces it
 * with block accounting and preemption behind the same interface).
 *
 * Owns: the KV admission decision. Per-sequence KV: every sequence has cellsPerSequence >=
 * maxModelLen cells, so a free sequence id is enough. Unified KV: one shared pool, so each running
 * request reserves promptTokens + maxTokens cells, and a request is admitted only while the
 * reservations fit totalCells (no preemption can ever be needed).
 */
import type { KvLayout } from '../backend/model-backend.ts';
import type { RequestState } from './request-state.ts';

/** The scheduler's view of KV capacity, keyed by sequence id. */
export interface KvAdmission {
  /** Whether `request` may start now (on `sequences` sequences: a beam search takes several). */
  canAdmit(request: RequestState, sequences?: number): boolean;
  /** `request` starts on `sequenceId`. */
  admit(sequenceId: number, request: RequestState): void;
  /** `sequenceId`'s cells were removed from the KV cache. */
  free(sequenceId: number): void;
  /** Cells promised to running requests (0 for per-sequence KV). */
  readonly reservedCells: number;
}

/** Per-sequence KV: capacity is per sequence, checked once against maxModelLen in the config. */
export class SequenceSlotAdmission implements KvAdmission {
  readonly reservedCells = 0;

  canAdmit(): boolean {
    return true;
  }

  admit(): void {}

  free(): void {}
}

/** Unified KV: reserve each request's worst case in one shared pool of `capacity` cells. */
export class CellReservationAdmission implements KvAdmission {
  readonly capacity: number;
  readonly #reservations = new Map<number, number>();
  #reserved = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get reservedCells(): number {
    return this.#reserved;
  }

  canAdmit(request: RequestState, sequences = 1): boolean {
    return this.#reserved + sequences * request.maxCells <= this.capacity;
  }

  admit(sequenceId: number, request: RequestState): void {
    if (this.#reservations.has(sequenceId)) {
      throw new Error(`sequence ${sequenceId} already holds a reservation`);
    }
    if (!this.canAdmit(request)) throw new Error(`request ${request.id} does not fit the KV cache`);
    this.#reservations.set(sequenceId, request.maxCells);
    this.#reserved += request.maxCells;
  }

  free(sequenceId: number): void {
    const cells = this.#reservations.get(sequenceId);
    if (cells === undefined) throw new Error(`sequence ${sequenceId} holds no reservation`);
    this.#reservations.delete(sequenceId);
    this.#reserved -= cells;
  }
}

/** The admission rule for a KV layout. */
export function kvAdmissionFor(layout: KvLayout): KvAdmission {
  return layout.unified
    ? new CellReservationAdmission(layout.totalCells)
    : new SequenceSlotAdmission();
}
