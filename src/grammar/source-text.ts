/**
 * Grammar source text as the text front ends (GBNF, Lark) read it: code points with their line
 * and column, and the one shape of their errors, `grammar: <what> (line L, column C)`.
 *
 * Owns: positions (1-based lines and columns, columns counted in code points) and the
 * positioned `GrammarError`; nothing about either syntax.
 */
import { GrammarError } from './grammar-ir.ts';

/** A grammar's text as code points, read front to back by a hand-written parser. */
export class SourceText {
  /** The code points of the text. */
  readonly points: readonly number[];
  /** The index of the next code point to read. */
  pos = 0;
  readonly #lineStarts: number[] = [0];

  constructor(source: string) {
    this.points = Array.from(source, (c) => c.codePointAt(0)!);
    this.points.forEach((c, i) => {
      if (c === 0x0a) this.#lineStarts.push(i + 1);
    });
  }

  get atEnd(): boolean {
    return this.pos >= this.points.length;
  }

  /** The code point `offset` ahead of `pos` as a one-character string ('' past the end). */
  peek(offset = 0): string {
    const c = this.points[this.pos + offset];
    return c === undefined ? '' : String.fromCodePoint(c);
  }

  /** Reads one code point and returns it as a string ('' past the end). */
  next(): string {
    const c = this.peek();
    if (c !== '') this.pos++;
    return c;
  }

  /** True (and `text` read) when the text at `pos` starts with `text`. */
  eat(text: string): boolean {
    const want = Array.from(text, (c) => c.codePointAt(0)!);
    if (!want.every((c, i) => this.points[this.pos + i] === c)) return false;
    this.pos += want.length;
    return true;
  }

  /** The text from `from` to `pos`. */
  slice(from: number, to = this.pos): string {
    return this.points
      .slice(from, to)
      .map((c) => String.fromCodePoint(c))
      .join('');
  }

  /** The 1-based line and column of index `at`. */
  position(at: number): { line: number; column: number } {
    let low = 0;
    let high = this.#lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#lineStarts[middle]! <= at) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: at - this.#lineStarts[low]! + 1 };
  }

  /** `grammar: <message> (line L, column C)` for index `at` (default: `pos`). */
  error(message: string, at = this.pos): GrammarError {
    const { line, column } = this.position(at);
    return new GrammarError(`grammar: ${message} (line ${line}, column ${column})`);
  }
}

/** How a character is quoted in an error message: printable as itself, others as U+XXXX. */
export function describeChar(c: string): string {
  if (c === '') return 'end of text';
  const code = c.codePointAt(0)!;
  if (code < 0x21 || (code >= 0x7f && code <= 0xa0)) {
    return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return JSON.stringify(c);
}
