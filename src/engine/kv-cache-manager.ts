/**
 * The engine's KV memory (vLLM's `KVCacheManager`): which KV sequence holds which tokens, the
 * block accounting of a unified pool, and automatic prefix caching.
 *
 * Owns: every sequence id's use (free, running for a request, or cached: the KV of a request that
 * left, kept for reuse), the tokens each holds, the index of full blocks by prefix key, the LRU
 * eviction of cached sequences, and the list of KV operations the engine must apply (in order,
 * while no decode is in flight) to make llama.cpp's cache match. It never touches the backend.
 *
 * Two layouts, as llama.cpp has them (bench/RESULTS.md "KV layout" has the measurements):
 *   - per-sequence (sharedCells false): each id is a stream of cellsPerSequence cells. Capacity is
 *     per stream, so growth never fails. Reusing a prefix copies the source's whole stream, then
 *     drops the tail; a cached sequence whose whole content is a prefix of the new prompt is taken
 *     over without a copy.
 *   - unified (sharedCells true): one pool of totalCells cells in blocks of blockSize
 *     (`BlockPool`). A copy shares cells: full blocks are shared by reference; a partly written
 *     block is charged anew to the copy (the copy writes its own cells into it). A request holds
 *     only the blocks its scheduled tokens need; when the pool is short, cached sequences are
 *     evicted least recently used first, from their tail, and then `grow` fails (the scheduler
 *     preempts).
 *
 * Tokens are recorded when scheduled (`append`) and confirmed when their step returned
 * (`commitStep`); lookups see confirmed tokens only, so a request never copies cells that are not
 * computed yet.
 */
import { BlockPool } from './block-pool.ts';
import { blockKey, ROOT_KEY } from './prefix-hash.ts';

/** The KV memory the manager accounts for (from the backend's KvLayout and the flags). */
export interface KvCacheConfig {
  /** Tokens per block (vLLM's `--block-size`). */
  readonly blockSize: number;
  /** Sequence ids are 0 .. sequences-1. */
  readonly sequences: number;
  /** Unified KV: one pool of `totalCells`, copies share cells. Otherwise one stream per id. */
  readonly sharedCells: boolean;
  readonly totalCells: number;
  /** Cells one sequence may hold (per-sequence streams). */
  readonly cellsPerSequence: number;
  /** vLLM's `--enable-prefix-caching`: keep the KV of finished requests and reuse prefixes. */
  readonly prefixCaching: boolean;
}

/**
 * One change to apply to the backend's KV cache: drop a sequence's cells from position `from`
 * on, or make `destination` hold `source`'s cells in [0, to) (to null: all of them).
 */
export type KvOperation =
  | { readonly kind: 'remove'; readonly sequenceId: number; readonly from: number }
  | {
      readonly kind: 'copy';
      readonly source: number;
      readonly destination: number;
      readonly to: number | null;
    };

/** The longest cached prefix of a token list: held by `source`, `length` tokens. */
export interface PrefixMatch {
  readonly source: number;
  readonly length: number;
}

/** A request's start: its sequence and how many of its first tokens are already in it. */
export interface SequenceStart {
  readonly sequenceId: number;
  readonly cachedTokens: number;
}

/** Counts at one instant. */
export interface KvCacheUsage {
  /** Blocks of the pool (unified) or of all streams (per-sequence). */
  readonly capacityBlocks: number;
  /** Blocks held by running requests (what vLLM's kv_cache_usage_perc reports). */
  readonly runningBlocks: number;
  /** Blocks held by anyone, cached sequences included. */
  readonly usedBlocks: number;
  readonly runningSequences: number;
  readonly cachedSequences: number;
}

type SequenceUse = 'free' | 'running' | 'cached';

interface SequenceRecord {
  use: SequenceUse;
  /** The tokens its cells hold, positions 0 .. length-1 (scheduled; see `confirmed`). */
  tokens: number[];
  /** How many of `tokens` a returned step computed. */
  confirmed: number;
  /** Prefix keys of the confirmed full blocks, registered in the index. */
  keys: number[];
  /** Unified only: the block ids charged to it, one per started block of `tokens`. */
  blocks: number[];
  /** When it was last started, released or reused (a counter). */
  lastUsed: number;
}

function commonPrefix(a: readonly number[], b: readonly number[], limit: number): number {
  const end = Math.min(a.length, b.length, limit);
  let i = 0;
  while (i < end && a[i] === b[i]) i++;
  return i;
}

export class KvCacheManager {
  readonly config: KvCacheConfig;
  readonly #records: SequenceRecord[];
  /** Prefix key of a confirmed full block -> the sequences holding it. */
  readonly #index = new Map<number, Set<number>>();
  readonly #operations: KvOperation[] = [];
  readonly #pool: BlockPool | null;
  /** Unified: per block, how many running sequences hold it; and how many blocks have any. */
  readonly #runningReferences: Int32Array;
  #runningBlocks = 0;
  /** Sequences with tokens not confirmed yet. */
  readonly #pending = new Set<number>();
  #clock = 0;

  constructor(config: KvCacheConfig) {
    const { blockSize, sequences, totalCells, cellsPerSequence } = config;
    for (const [name, value] of Object.entries({
      blockSize,
      sequences,
      totalCells,
      cellsPerSequence,
    })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
    if (config.sharedCells && totalCells < blockSize) {
      throw new RangeError(`the KV pool (${totalCells} cells) holds no block of ${blockSize}`);
    }
    this.config = { ...config };
    this.#records = Array.from({ length: sequences }, () => ({
      use: 'free',
      tokens: [],
      confirmed: 0,
      keys: [],
      blocks: [],
      lastUsed: 0,
    }));
    this.#pool = config.sharedCells ? new BlockPool(Math.floor(totalCells / blockSize)) : null;
    this.#runningReferences = new Int32Array(this.#pool?.capacity ?? 0);
  }

  get blockSize(): number {
    return this.config.blockSize;
  }

  /** Tokens one request may hold: the pool (unified) or one stream. */
  get maxTokensPerSequence(): number {
    return this.#pool === null
      ? this.config.cellsPerSequence
      : this.#pool.capacity * this.config.blockSize;
  }

  /** The tokens `sequenceId` holds (scheduled), for tests and assertions. */
  tokensOf(sequenceId: number): readonly number[] {
    return this.#record(sequenceId).tokens;
  }

  useOf(sequenceId: number): SequenceUse {
    return this.#record(sequenceId).use;
  }

  usage(): KvCacheUsage {
    let running = 0;
    let cached = 0;
    let streamBlocks = 0;
    let runningStreamBlocks = 0;
    const blockSize = this.config.blockSize;
    for (const record of this.#records) {
      if (record.use === 'free') continue;
      const blocks = Math.ceil(record.tokens.length / blockSize);
      streamBlocks += blocks;
      if (record.use === 'running') {
        running++;
        runningStreamBlocks += blocks;
      } else cached++;
    }
    const pool = this.#pool;
    return {
      capacityBlocks:
        pool?.capacity ??
        Math.ceil(this.config.cellsPerSequence / blockSize) * this.config.sequences,
      runningBlocks: pool === null ? runningStreamBlocks : this.#runningBlocks,
      usedBlocks: pool?.usedCount ?? streamBlocks,
      runningSequences: running,
      cachedSequences: cached,
    };
  }

  /** The operations queued since the last call, in the order the backend must apply them. */
  drainOperations(): KvOperation[] {
    return this.#operations.splice(0);
  }

  /** Ids `acquire` could hand out now: free and cached ones. */
  availableSequences(): number {
    let count = 0;
    for (const record of this.#records) if (record.use !== 'running') count++;
    return count;
  }

  /** Whether `acquire` would find an id (a free one, or a cached one other than `except`). */
  canAcquire(except = -1): boolean {
    return this.#records.some(
      (record, id) => record.use === 'free' || (record.use === 'cached' && id !== except),
    );
  }

  /**
   * An empty sequence for a request, null when every id runs. Unified: the lowest free id, else
   * the least recently used cached one (not `except`), whose cells are dropped. Per-sequence: the
   * lowest id that does not run (not `except`), dropping what it caches: llama.cpp splits a batch
   * whose streams are not consecutive into several passes (8 sequences on ids 0, 2, ..., 14 decode
   * 2.09x slower than on 0..7, bench/batch-order.ts), so running requests must stay on the lowest ids.
   */
  acquire(except = -1): number | null {
    const id =
      this.#pool === null ? this.#lowestAvailable(except) : this.#freeOrLeastRecent(except);
    if (id < 0) return null;
    if (this.#records[id]!.use === 'cached') this.#drop(id);
    const record = this.#records[id]!;
    record.use = 'running';
    record.lastUsed = ++this.#clock;
    return id;
  }

  /**
   * The longest prefix of `tokens[0, limit)` whose KV a running or cached sequence holds
   * (confirmed), found through the block index and confirmed token by token; it may end inside
   * a block when the holder's tokens go on matching. Null with prefix caching off or no full
   * block matching.
   */
  lookup(tokens: readonly number[], limit: number): PrefixMatch | null {
    const blockSize = this.config.blockSize;
    if (!this.config.prefixCaching || limit < blockSize) return null;
    let key = ROOT_KEY;
    let holders: Set<number> | undefined;
    for (let start = 0; start + blockSize <= limit; start += blockSize) {
      key = blockKey(key, tokens, start, blockSize);
      const next = this.#index.get(key);
      if (next === undefined) break;
      holders = next;
    }
    if (holders === undefined) return null;
    let best: PrefixMatch | null = null;
    for (const id of holders) {
      const record = this.#records[id]!;
      const length = commonPrefix(tokens, record.tokens, Math.min(limit, record.confirmed));
      const better =
        best === null ||
        length > best.length ||
        (length === best.length && this.#prefer(id, best.source));
      if (length > 0 && better) best = { source: id, length };
    }
    return best;
  }

  /** Between two holders of the same match: a cached one (it can be taken over), then the newer. */
  #prefer(a: number, b: number): boolean {
    const ra = this.#records[a]!;
    const rb = this.#records[b]!;
    if (ra.use !== rb.use) return ra.use === 'cached';
    return ra.lastUsed > rb.lastUsed;
  }

  /**
   * Start a request whose first tokens are `tokens`: reuse the longest cached prefix of
   * `tokens[0, limit)` when `readCache` (limit keeps the last token to compute, so the request
   * samples), else an empty sequence. Queues the copies it needs. Null when no id is available.
   * The request's first chunk still needs `grow`.
   */
  start(tokens: readonly number[], limit: number, readCache: boolean): SequenceStart | null {
    const match = readCache ? this.lookup(tokens, limit) : null;
    if (match === null) {
      const id = this.acquire();
      return id === null ? null : { sequenceId: id, cachedTokens: 0 };
    }
    const source = this.#records[match.source]!;
    // Take a cached source over when that needs no copy, and (per-sequence) when it is the
    // lowest id free to run anyway; otherwise copy it into the id `acquire` picks.
    const lowest = this.#pool === null ? this.#lowestAvailable(-1) : match.source;
    if (
      source.use === 'cached' &&
      match.length === source.tokens.length &&
      lowest === match.source
    ) {
      this.#takeOver(match.source);
      return { sequenceId: match.source, cachedTokens: match.length };
    }
    const id = this.acquire(match.source);
    if (id === null) {
      if (source.use !== 'cached') return null;
      // Every other id runs: take the cached source over and drop its tail (unified: at a block
      // boundary, so it never writes into a block another sequence shares).
      const keep =
        this.#pool === null
          ? match.length
          : Math.floor(match.length / this.config.blockSize) * this.config.blockSize;
      this.#takeOver(match.source);
      this.#truncate(match.source, keep);
      return { sequenceId: match.source, cachedTokens: keep };
    }
    const length = this.#copyPrefix(match.source, id, match.length);
    return { sequenceId: id, cachedTokens: length };
  }

  /**
   * Make the empty running sequence `destination` hold `source`'s first `length` confirmed tokens.
   * Returns the length copied: unified KV may drop a trailing partial block if the pool cannot
   * charge it.
   */
  #copyPrefix(source: number, destination: number, length: number): number {
    const from = this.#records[source]!;
    const to = this.#records[destination]!;
    if (to.use !== 'running' || to.tokens.length !== 0) {
      throw new Error(`sequence ${destination} is not an empty running sequence`);
    }
    if (length > from.confirmed) {
      throw new Error(`sequence ${source} has ${from.confirmed} computed tokens, not ${length}`);
    }
    const blockSize = this.config.blockSize;
    const fullBlocks = Math.floor(length / blockSize);
    // Taken now: charging a block below may evict the source's tail.
    const prefix = from.tokens.slice(0, length);
    if (this.#pool !== null) {
      for (let b = 0; b < fullBlocks; b++) this.#hold(destination, from.blocks[b]!, true);
      // The copy goes first: charging the partial block may evict the source's own tail.
      this.#operations.push({ kind: 'copy', source, destination, to: length });
      if (length % blockSize !== 0 && !this.#charge(destination, 1)) {
        length = fullBlocks * blockSize;
        this.#operations.push({ kind: 'remove', sequenceId: destination, from: length });
      }
    } else {
      this.#operations.push({ kind: 'copy', source, destination, to: null });
      if (from.tokens.length > length) {
        this.#operations.push({ kind: 'remove', sequenceId: destination, from: length });
      }
    }
    to.tokens = prefix.slice(0, length);
    to.confirmed = length;
    to.keys = [];
    this.#registerConfirmed(destination);
    from.lastUsed = ++this.#clock;
    return length;
  }

  /**
   * Copy all of `source`'s (confirmed) tokens into the empty running sequence `destination`: a
   * sibling that shares a prompt, a forked beam. False when the unified pool cannot charge the
   * copy's partial block (nothing changed then).
   */
  fork(source: number, destination: number): boolean {
    const from = this.#record(source);
    if (from.tokens.length !== from.confirmed) {
      throw new Error(`sequence ${source} has tokens not computed yet`);
    }
    if (this.#pool !== null && from.tokens.length % this.config.blockSize !== 0) {
      if (!this.#ensureFree(1)) return false;
    }
    const copied = this.#copyPrefix(source, destination, from.tokens.length);
    if (copied !== from.tokens.length) throw new Error('the fork lost its partial block');
    return true;
  }

  /**
   * Make room for `sequenceId` (running) to hold `length` tokens. Per-sequence: always (within
   * its stream). Unified: charges the blocks it lacks, evicting cached sequences as needed; false
   * (nothing charged) when even that is not enough.
   */
  grow(sequenceId: number, length: number): boolean {
    const record = this.#record(sequenceId);
    if (record.use !== 'running') throw new Error(`sequence ${sequenceId} is not running`);
    if (length > this.maxTokensPerSequence) {
      throw new RangeError(
        `sequence ${sequenceId} cannot hold ${length} tokens (at most ${this.maxTokensPerSequence})`,
      );
    }
    if (this.#pool === null) return true;
    const need = Math.ceil(length / this.config.blockSize) - record.blocks.length;
    return need <= 0 || this.#charge(sequenceId, need);
  }

  /** Record that a step computes `tokens` next in `sequenceId` (within what `grow` made room for). */
  append(sequenceId: number, tokens: readonly number[]): void {
    const record = this.#record(sequenceId);
    if (record.use !== 'running') throw new Error(`sequence ${sequenceId} is not running`);
    const length = record.tokens.length + tokens.length;
    const room =
      this.#pool === null ? this.config.cellsPerSequence : record.blocks.length * this.blockSize;
    if (length > room) {
      throw new Error(`sequence ${sequenceId} has room for ${room} tokens, not ${length}`);
    }
    for (const token of tokens) record.tokens.push(token);
    this.#pending.add(sequenceId);
  }

  /** The step that computed the appended tokens returned: they become visible to lookups. */
  commitStep(): void {
    for (const id of this.#pending) {
      const record = this.#records[id]!;
      record.confirmed = record.tokens.length;
      this.#registerConfirmed(id);
    }
    this.#pending.clear();
  }

  /** Drop `sequenceId`'s cells and tokens; it stays running, empty (a retired beam's spare). */
  clear(sequenceId: number): void {
    const record = this.#record(sequenceId);
    if (record.use !== 'running') throw new Error(`sequence ${sequenceId} is not running`);
    this.#truncate(sequenceId, 0);
  }

  /**
   * A request leaves `sequenceId`. With `keep` (it finished, or was preempted) and prefix caching
   * on, the sequence is cached with its computed tokens (tokens of a step still in flight are
   * dropped); otherwise its cells are removed and the id is free.
   */
  release(sequenceId: number, keep: boolean): void {
    const record = this.#record(sequenceId);
    if (record.use !== 'running') throw new Error(`sequence ${sequenceId} is not running`);
    this.#pending.delete(sequenceId);
    if (!keep || !this.config.prefixCaching || record.confirmed === 0) {
      this.#drop(sequenceId);
      return;
    }
    this.#truncate(sequenceId, record.confirmed);
    this.#setUse(sequenceId, 'cached');
    record.lastUsed = ++this.#clock;
    this.#dropRedundant(sequenceId);
  }

  /** Free every cached sequence (tests; `--no-enable-prefix-caching` never has any). */
  dropCached(): void {
    this.#records.forEach((record, id) => {
      if (record.use === 'cached') this.#drop(id);
    });
  }

  // ---- internals ----

  #record(sequenceId: number): SequenceRecord {
    const record = this.#records[sequenceId];
    if (record === undefined) {
      throw new RangeError(
        `sequence id must be in [0, ${this.#records.length}), got ${sequenceId}`,
      );
    }
    return record;
  }

  #lowestAvailable(except: number): number {
    return this.#records.findIndex((record, id) => record.use !== 'running' && id !== except);
  }

  #freeOrLeastRecent(except: number): number {
    const free = this.#records.findIndex((record) => record.use === 'free');
    return free >= 0 ? free : this.#leastRecentlyUsedCached(except);
  }

  #leastRecentlyUsedCached(except: number): number {
    let best = -1;
    this.#records.forEach((record, id) => {
      if (record.use !== 'cached' || id === except) return;
      if (best < 0 || record.lastUsed < this.#records[best]!.lastUsed) best = id;
    });
    return best;
  }

  #takeOver(sequenceId: number): void {
    this.#setUse(sequenceId, 'running');
    this.#records[sequenceId]!.lastUsed = ++this.#clock;
  }

  /** Switch running <-> cached, keeping the running block references right. */
  #setUse(sequenceId: number, use: 'running' | 'cached'): void {
    const record = this.#records[sequenceId]!;
    if (record.use === use) return;
    if (this.#pool !== null) {
      for (const block of record.blocks) this.#countRunning(block, use === 'running' ? 1 : -1);
    }
    record.use = use;
  }

  #countRunning(block: number, delta: 1 | -1): void {
    const before = this.#runningReferences[block]!;
    this.#runningReferences[block] = before + delta;
    if (before === 0 && delta === 1) this.#runningBlocks++;
    if (before === 1 && delta === -1) this.#runningBlocks--;
  }

  /** `sequenceId` takes a reference to `block` (a new block when `shared` is false). */
  #hold(sequenceId: number, block: number, shared: boolean): void {
    const record = this.#records[sequenceId]!;
    if (shared) this.#pool!.retain(block);
    record.blocks.push(block);
    if (record.use === 'running') this.#countRunning(block, 1);
  }

  /** Charge `count` new blocks to `sequenceId`, evicting cached sequences if needed. */
  #charge(sequenceId: number, count: number): boolean {
    if (!this.#ensureFree(count)) return false;
    for (let i = 0; i < count; i++) this.#hold(sequenceId, this.#pool!.allocate()!, false);
    return true;
  }

  /** Evict cached sequences (least recently used first, tail blocks first) until `count` are free. */
  #ensureFree(count: number): boolean {
    const pool = this.#pool!;
    while (pool.freeCount < count) {
      const victim = this.#leastRecentlyUsedCached(-1);
      if (victim < 0) return false;
      this.#evictTail(victim);
    }
    return true;
  }

  /**
   * Free the last block of a cached sequence if it alone holds it; when its last block is shared
   * (so all its blocks are: a sharer holds a prefix), or nothing is left, drop the sequence.
   */
  #evictTail(sequenceId: number): void {
    const record = this.#records[sequenceId]!;
    const last = record.blocks[record.blocks.length - 1];
    if (last === undefined || this.#pool!.references(last) > 1 || record.blocks.length === 1) {
      this.#drop(sequenceId);
      return;
    }
    this.#truncate(sequenceId, (record.blocks.length - 1) * this.config.blockSize);
  }

  /**
   * Keep only `sequenceId`'s first `length` tokens: unregister the keys of later blocks, release
   * their blocks (unified), queue the removal of their cells.
   */
  #truncate(sequenceId: number, length: number): void {
    const record = this.#records[sequenceId]!;
    const blockSize = this.config.blockSize;
    if (length > record.tokens.length) throw new Error('truncate cannot grow a sequence');
    const keepKeys = Math.floor(Math.min(length, record.confirmed) / blockSize);
    for (let b = keepKeys; b < record.keys.length; b++)
      this.#unregister(record.keys[b]!, sequenceId);
    record.keys.length = keepKeys;
    if (this.#pool !== null) {
      const keepBlocks = Math.ceil(length / blockSize);
      // A kept partial block that others share would take this sequence's new cells: recharge it.
      const partial = length % blockSize !== 0 ? record.blocks[keepBlocks - 1] : undefined;
      while (record.blocks.length > keepBlocks) this.#let(sequenceId, record.blocks.pop()!);
      if (partial !== undefined && this.#pool.references(partial) > 1) {
        throw new Error(`sequence ${sequenceId} would write into shared block ${partial}`);
      }
    }
    if (record.tokens.length > length) {
      record.tokens.length = length;
      this.#operations.push({ kind: 'remove', sequenceId, from: length });
    }
    record.confirmed = Math.min(record.confirmed, length);
  }

  /** `sequenceId` lets go of one of its blocks. */
  #let(sequenceId: number, block: number): void {
    if (this.#records[sequenceId]!.use === 'running') this.#countRunning(block, -1);
    this.#pool!.release(block);
  }

  /** Remove all of `sequenceId`'s cells; the id is free. */
  #drop(sequenceId: number): void {
    const record = this.#records[sequenceId]!;
    for (const key of record.keys) this.#unregister(key, sequenceId);
    if (this.#pool !== null) for (const block of record.blocks) this.#let(sequenceId, block);
    if (record.tokens.length > 0 || record.blocks.length > 0) {
      this.#operations.push({ kind: 'remove', sequenceId, from: 0 });
    }
    record.tokens = [];
    record.confirmed = 0;
    record.keys = [];
    record.blocks = [];
    record.use = 'free';
    this.#pending.delete(sequenceId);
  }

  /** Cached sequences whose tokens are a prefix of `sequenceId`'s add nothing: drop them. */
  #dropRedundant(sequenceId: number): void {
    const kept = this.#records[sequenceId]!;
    this.#records.forEach((other, id) => {
      if (id === sequenceId || other.use !== 'cached' || other.tokens.length > kept.tokens.length)
        return;
      const lastKey = other.keys.length - 1;
      if (lastKey >= 0 && kept.keys[lastKey] !== other.keys[lastKey]) return;
      if (commonPrefix(other.tokens, kept.tokens, other.tokens.length) === other.tokens.length) {
        this.#drop(id);
      }
    });
  }

  /** Register the keys of `sequenceId`'s confirmed full blocks not registered yet. */
  #registerConfirmed(sequenceId: number): void {
    if (!this.config.prefixCaching) return;
    const record = this.#records[sequenceId]!;
    const blockSize = this.config.blockSize;
    const full = Math.floor(record.confirmed / blockSize);
    for (let b = record.keys.length; b < full; b++) {
      const key = blockKey(
        b === 0 ? ROOT_KEY : record.keys[b - 1]!,
        record.tokens,
        b * blockSize,
        blockSize,
      );
      record.keys.push(key);
      let holders = this.#index.get(key);
      if (holders === undefined) this.#index.set(key, (holders = new Set()));
      holders.add(sequenceId);
    }
  }

  #unregister(key: number, sequenceId: number): void {
    const holders = this.#index.get(key);
    if (holders === undefined || !holders.delete(sequenceId)) {
      throw new Error(`block key ${key} of sequence ${sequenceId} was not indexed`);
    }
    if (holders.size === 0) this.#index.delete(key);
  }

  /**
   * Throws if the bookkeeping is inconsistent (tests): references equal the holders' tables, the
   * running count matches, keys are the chained hashes of confirmed tokens and exactly those are
   * indexed, every held block is charged within the pool, free sequences hold nothing.
   */
  checkInvariants(): void {
    const blockSize = this.config.blockSize;
    const references = new Map<number, number>();
    const runningReferences = new Map<number, number>();
    let indexed = 0;
    this.#records.forEach((record, id) => {
      const where = `sequence ${id}`;
      if (record.use === 'free' && (record.tokens.length > 0 || record.blocks.length > 0)) {
        throw new Error(`${where} is free but holds tokens`);
      }
      if (record.confirmed > record.tokens.length) throw new Error(`${where} confirmed too much`);
      if (record.use === 'cached' && record.confirmed !== record.tokens.length) {
        throw new Error(`${where} is cached with unconfirmed tokens`);
      }
      const expectedKeys = this.config.prefixCaching ? Math.floor(record.confirmed / blockSize) : 0;
      if (record.keys.length !== expectedKeys) throw new Error(`${where} has a wrong key count`);
      let key = ROOT_KEY;
      record.keys.forEach((k, b) => {
        key = blockKey(key, record.tokens, b * blockSize, blockSize);
        if (k !== key) throw new Error(`${where} block ${b} has a stale key`);
        if (!this.#index.get(k)?.has(id)) throw new Error(`${where} block ${b} is not indexed`);
        indexed++;
      });
      if (this.#pool === null) {
        if (record.tokens.length > this.config.cellsPerSequence) {
          throw new Error(`${where} overflows its stream`);
        }
        return;
      }
      if (record.blocks.length !== Math.ceil(record.tokens.length / blockSize)) {
        if (!(
          record.use === 'running' && record.blocks.length > record.tokens.length / blockSize
        )) {
          throw new Error(
            `${where} holds ${record.blocks.length} blocks for ${record.tokens.length} tokens`,
          );
        }
      }
      for (const block of record.blocks) {
        references.set(block, (references.get(block) ?? 0) + 1);
        if (record.use === 'running') {
          runningReferences.set(block, (runningReferences.get(block) ?? 0) + 1);
        }
      }
    });
    let entries = 0;
    for (const holders of this.#index.values()) entries += holders.size;
    if (entries !== indexed)
      throw new Error(`the index has ${entries} entries, expected ${indexed}`);
    const pool = this.#pool;
    if (pool === null) return;
    for (let block = 0; block < pool.capacity; block++) {
      if (pool.references(block) !== (references.get(block) ?? 0)) {
        throw new Error(
          `block ${block} has ${pool.references(block)} references, tables hold it ${references.get(block) ?? 0} times`,
        );
      }
      if (this.#runningReferences[block] !== (runningReferences.get(block) ?? 0)) {
        throw new Error(`block ${block} has a wrong running reference count`);
      }
    }
    if (this.#runningBlocks !== runningReferences.size)
      throw new Error('wrong running block count');
    if (pool.usedCount !== references.size) throw new Error('the pool and the tables disagree');
  }
}
