/**
 * Writing a JSON value incrementally as compact text, from structural events.
 *
 * Owns: the event interface lexers drive (`ValueSink`), compact output (no insignificant
 * whitespace; commas and `:` placed by the writer), and `closing()`: the text that turns what
 * was written so far into a complete JSON value (close the open string, `null` after a dangling
 * key, then the open containers), which is how a cut-off or broken call's arguments are ended.
 * Everything written is final: the writer never takes text back.
 */

/** Structural events of one JSON value (sent by a lexer that has already validated them). */
export interface ValueSink {
  openObject(): void;
  openArray(): void;
  /** Closes the innermost open object or array. */
  close(): void;
  /** An object key, as a complete JSON string literal (quotes included). */
  key(literal: string): void;
  openString(): void;
  /** String characters, already JSON-escaped. */
  stringText(escaped: string): void;
  closeString(): void;
  /** A complete JSON number, `true`, `false` or `null`. */
  scalar(literal: string): void;
}

interface Container {
  readonly closer: '}' | ']';
  /** Elements (array) or keys (object) so far. */
  count: number;
}

/** A sink that writes compact JSON text, handed out in fragments by `take()`. */
export class CompactJsonWriter implements ValueSink {
  readonly #stack: Container[] = [];
  #pending = '';
  #afterKey = false;
  #inString = false;
  #started = false;
  #complete = false;

  /** True once the value has begun (something was written). */
  get started(): boolean {
    return this.#started;
  }

  /** True once the whole value has been written. */
  get complete(): boolean {
    return this.#complete;
  }

  /** The text written since the last call. */
  take(): string {
    const text = this.#pending;
    this.#pending = '';
    return text;
  }

  /** The text that completes what has been written ('' when complete or nothing was written). */
  closing(): string {
    if (!this.#started || this.#complete) return '';
    let text = this.#inString ? '"' : this.#afterKey ? 'null' : '';
    for (let i = this.#stack.length - 1; i >= 0; i--) text += this.#stack[i]?.closer ?? '';
    return text;
  }

  openObject(): void {
    this.#beginValue();
    this.#pending += '{';
    this.#stack.push({ closer: '}', count: 0 });
  }

  openArray(): void {
    this.#beginValue();
    this.#pending += '[';
    this.#stack.push({ closer: ']', count: 0 });
  }

  close(): void {
    const container = this.#stack.pop();
    if (container === undefined) return;
    this.#pending += container.closer;
    this.#endValue();
  }

  key(literal: string): void {
    const container = this.#stack.at(-1);
    if (container === undefined) return;
    if (container.count > 0) this.#pending += ',';
    container.count++;
    this.#pending += `${literal}:`;
    this.#afterKey = true;
  }

  openString(): void {
    this.#beginValue();
    this.#pending += '"';
    this.#inString = true;
  }

  stringText(escaped: string): void {
    this.#pending += escaped;
  }

  closeString(): void {
    this.#pending += '"';
    this.#inString = false;
    this.#endValue();
  }

  scalar(literal: string): void {
    this.#beginValue();
    this.#pending += literal;
    this.#endValue();
  }

  /** Separates an array element from the previous one; a value after a key needs nothing. */
  #beginValue(): void {
    this.#started = true;
    if (this.#afterKey) {
      this.#afterKey = false;
      return;
    }
    const container = this.#stack.at(-1);
    if (container === undefined) return;
    if (container.count > 0) this.#pending += ',';
    container.count++;
  }

  #endValue(): void {
    if (this.#stack.length === 0) this.#complete = true;
  }
}

/** JSON-escapes text for the inside of a string literal (quotes, backslashes, controls). */
export function escapeJsonText(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
