/**
 * A regex pattern as the regex front end reads it: its code points, a read position, and the
 * one shape of its errors, `regex: <what> (at N)` with N the 0-based offset in code points.
 *
 * Owns: positions and the positioned `GrammarError`; nothing about regex syntax.
 */
import { GrammarError } from '../grammar-ir.ts';

/** A pattern's code points, read front to back by the hand-written regex parser. */
export class RegexSource {
  readonly #points: readonly number[];
  /** The index of the next code point to read. */
  pos = 0;

  constructor(pattern: string) {
    this.#points = Array.from(pattern, (c) => c.codePointAt(0)!);
  }

  /** The number of code points in the pattern. */
  get length(): number {
    return this.#points.length;
  }

  get atEnd(): boolean {
    return this.pos >= this.#points.length;
  }

  /** The code point `ahead` of `pos` as a one-character string ('' past the end). */
  peek(ahead = 0): string {
    const c = this.#points[this.pos + ahead];
    return c === undefined ? '' : String.fromCodePoint(c);
  }

  /** Reads one code point (as a string); '' at the end. */
  next(): string {
    const c = this.peek();
    if (c !== '') this.pos++;
    return c;
  }

  /** Reads `text` when it comes next (compared code point by code point). */
  eat(text: string): boolean {
    const want = Array.from(text);
    if (!want.every((c, i) => this.peek(i) === c)) return false;
    this.pos += want.length;
    return true;
  }

  /** The pattern text between two offsets. */
  slice(from: number, to: number): string {
    return String.fromCodePoint(...this.#points.slice(from, to));
  }

  /** Throws `regex: <what> (at <at>)`. */
  fail(what: string, at: number = this.pos): never {
    throw new GrammarError(`regex: ${what} (at ${at})`);
  }
}
