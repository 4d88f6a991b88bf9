/**
 * Stop strings over streamed text (vLLM's stop checker with its hold-back buffer).
 *
 * Owns: when text is safe to emit. Text that could still be the start of a stop string (a suffix
 * of what arrived that is a proper prefix of some stop string) is held back until it can no
 * longer match. On a match the output is cut before the stop string, or after it when
 * `includeStopString` is set; text after the cut is dropped. When several stop strings occur in
 * what arrived, the leftmost wins, and of those starting at the same place the shortest.
 */

/** What one `push` yields. */
export interface StopMatch {
  /** Text now safe to emit. */
  readonly text: string;
  /** The stop string that matched, or null. After a match the matcher takes no more text. */
  readonly stop: string | null;
}

export class StopStringMatcher {
  readonly #stops: readonly string[];
  readonly #includeStopString: boolean;
  #held = '';
  #matched = false;

  /** Empty stop strings are ignored (the engine refuses them earlier). */
  constructor(stops: readonly string[], includeStopString: boolean) {
    this.#stops = stops.filter((stop) => stop.length > 0);
    this.#includeStopString = includeStopString;
  }

  /** Text held back because it may still become a stop string. */
  get heldText(): string {
    return this.#held;
  }

  /**
   * Add newly decoded text. With `match` false (min_tokens not reached yet) no stop string can
   * end here, but a possible start is still held back for the pushes that follow.
   */
  push(text: string, match = true): StopMatch {
    if (this.#matched) throw new Error('a stop string already matched');
    const buffer = this.#held + text;
    let best: { at: number; stop: string } | null = null;
    for (const stop of match ? this.#stops : []) {
      const at = buffer.indexOf(stop);
      if (at < 0) continue;
      if (best === null || at < best.at || (at === best.at && stop.length < best.stop.length)) {
        best = { at, stop };
      }
    }
    if (best !== null) {
      this.#matched = true;
      this.#held = '';
      const end = this.#includeStopString ? best.at + best.stop.length : best.at;
      return { text: buffer.slice(0, end), stop: best.stop };
    }
    const keep = this.#partialMatchLength(buffer);
    this.#held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), stop: null };
  }

  /** The output ended without a match: release everything held back. */
  flush(): string {
    const text = this.#held;
    this.#held = '';
    return text;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some stop string. */
  #partialMatchLength(buffer: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, buffer.length); length > longest; length--) {
        if (buffer.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
