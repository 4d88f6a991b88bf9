/**
 * Character classes `[...]` of the regex front end.
 *
 * Owns: the class syntax both engines share. Items are characters (any but `\` and `]` stand for
 * themselves, `[` included), escapes (`regex-escapes.ts`), shorthands, and ranges `a-z` between
 * two characters; a `-` first, last, or right after a range is a character. `[^...]` negates. The
 * empty classes `[]` and `[^]` are refused (JavaScript reads them as a class, Python as the start
 * of one holding `]`), as are ranges with a shorthand end (`[\d-z]`) or a reversed order
 * (`[z-a]`). What the items match is `regex-char-sets.ts`'s business.
 */
import type { Expr } from '../grammar-ir.ts';
import { exactSet, negatedClass, positiveClass, type ClassSets } from './regex-char-sets.ts';
import { readEscape, type EscapeValue } from './regex-escapes.ts';
import type { RegexSource } from './regex-source.ts';

/** Reads the class whose `[` is at `source.pos`. */
export function readClass(source: RegexSource): Expr {
  const start = source.pos;
  source.pos++;
  const negated = source.eat('^');
  if (source.peek() === ']') source.fail('empty character class is not supported', start);
  const items: ClassSets[] = [];
  for (;;) {
    if (source.atEnd) source.fail('unterminated character class', start);
    if (source.eat(']')) break;
    items.push(readItem(source));
  }
  return negated ? negatedClass(items) : positiveClass(items);
}

/** One item: a character, an escape, or a range. */
function readItem(source: RegexSource): ClassSets {
  const at = source.pos;
  const first = readAtom(source);
  const isRange = source.peek() === '-' && source.peek(1) !== ']' && source.peek(1) !== '';
  if (!isRange)
    return first.kind === 'char' ? exactSet([[first.codePoint, first.codePoint]]) : first.sets;
  source.pos++;
  const last = readAtom(source);
  if (first.kind !== 'char' || last.kind !== 'char' || first.codePoint > last.codePoint) {
    source.fail(`bad character range ${source.slice(at, source.pos)}`, at);
  }
  return exactSet([[first.codePoint, last.codePoint]]);
}

function readAtom(source: RegexSource): EscapeValue {
  if (source.peek() === '\\') return readEscape(source, true);
  return { kind: 'char', codePoint: source.next().codePointAt(0)! };
}
