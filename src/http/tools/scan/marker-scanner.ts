/**
 * Finding markup markers (`<tool_call>`, `[TOOL_CALLS]`, ...) in streamed text.
 *
 * Owns: the hold-back rule: text that could be the start of a marker is kept until the next
 * delta decides it, so a marker split across deltas is still found and never leaks as text.
 */

/** The outcome of feeding text to a scanner. */
export interface MarkerScan {
  /** Text that is certainly not (part of) a marker, up to the marker if one was found. */
  readonly text: string;
  /** The marker found, or null. */
  readonly marker: string | null;
  /** Text after the marker (not scanned yet); '' when no marker was found. */
  readonly rest: string;
}

/** Scans streamed text for the first occurrence of any of a set of markers. */
export class MarkerScanner {
  readonly #markers: readonly string[];
  #held = '';

  constructor(markers: readonly string[]) {
    this.#markers = markers;
  }

  /** Feeds text; releases what cannot start a marker and reports the first marker found. */
  push(text: string): MarkerScan {
    const buffer = this.#held + text;
    let at = -1;
    let found: string | null = null;
    for (const marker of this.#markers) {
      const position = buffer.indexOf(marker);
      if (position >= 0 && (at < 0 || position < at)) {
        at = position;
        found = marker;
      }
    }
    if (found !== null) {
      this.#held = '';
      return { text: buffer.slice(0, at), marker: found, rest: buffer.slice(at + found.length) };
    }
    const keep = this.#partialMarkerLength(buffer);
    this.#held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), marker: null, rest: '' };
  }

  /** Ends the text: returns what was held back (it was not a marker after all). */
  flush(): string {
    const held = this.#held;
    this.#held = '';
    return held;
  }

  /** The length of the longest suffix of `buffer` that is a proper prefix of a marker. */
  #partialMarkerLength(buffer: string): number {
    let longest = 0;
    for (const marker of this.#markers) {
      for (let length = Math.min(marker.length - 1, buffer.length); length > longest; length--) {
        if (buffer.endsWith(marker.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
