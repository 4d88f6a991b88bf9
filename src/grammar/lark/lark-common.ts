/**
 * The terminals of Lark's `common` module that `%import common.NAME` brings in, written here as
 * IR expressions from their documented meaning (digits, integers, decimals, floats with an
 * exponent, signed forms, double-quoted strings with backslash escapes, letters, words, C names,
 * whitespace, newlines).
 *
 * Owns: those definitions and the list of importable names.
 */
import {
  alt,
  chars,
  type CharRange,
  type Expr,
  literal,
  notChars,
  optional,
  plus,
  seq,
  star,
} from '../grammar-ir.ts';

const code = (c: string): number => c.codePointAt(0)!;
const range = (from: string, to: string): CharRange => [code(from), code(to)];
const oneOf = (text: string): Expr => chars(Array.from(text, (c) => range(c, c)));

const digit = chars([range('0', '9')]);
const hexDigit = chars([range('0', '9'), range('a', 'f'), range('A', 'F')]);
const lowercase = chars([range('a', 'z')]);
const uppercase = chars([range('A', 'Z')]);
const letter = chars([range('a', 'z'), range('A', 'Z')]);
const int = plus(digit);
const sign = optional(oneOf('+-'));
const signedInt = seq(sign, int);
/** `1.`, `1.5` or `.5`. */
const decimal = alt(seq(int, literal('.'), optional(int)), seq(literal('.'), int));
const exponent = seq(oneOf('eE'), signedInt);
/** An integer with an exponent, or a decimal with an optional one. */
const float = alt(seq(int, exponent), seq(decimal, optional(exponent)));
const number = alt(float, int);
const carriageReturn = literal('\r');
const lineFeed = literal('\n');
/** `"` ... `"`: any character but a newline, `"` and `\` only escaped by a backslash. */
const escapedString = seq(
  literal('"'),
  star(
    alt(
      notChars([range('"', '"'), range('\\', '\\'), range('\n', '\n')]),
      seq(literal('\\'), notChars([range('\n', '\n')])),
    ),
  ),
  literal('"'),
);

const COMMON_TERMINALS: ReadonlyMap<string, Expr> = new Map([
  ['DIGIT', digit],
  ['HEXDIGIT', hexDigit],
  ['INT', int],
  ['SIGNED_INT', signedInt],
  ['DECIMAL', decimal],
  ['FLOAT', float],
  ['SIGNED_FLOAT', seq(sign, float)],
  ['NUMBER', number],
  ['SIGNED_NUMBER', seq(sign, number)],
  ['ESCAPED_STRING', escapedString],
  ['LCASE_LETTER', lowercase],
  ['UCASE_LETTER', uppercase],
  ['LETTER', letter],
  ['WORD', plus(letter)],
  ['CNAME', seq(alt(literal('_'), letter), star(alt(literal('_'), letter, digit)))],
  ['WS_INLINE', plus(oneOf(' \t'))],
  ['WS', plus(oneOf(' \t\f\r\n'))],
  ['CR', carriageReturn],
  ['LF', lineFeed],
  ['NEWLINE', plus(seq(optional(carriageReturn), lineFeed))],
]);

/** The expression of `common.NAME`, or undefined when it is not one we define. */
export function commonTerminal(name: string): Expr | undefined {
  return COMMON_TERMINALS.get(name);
}

/** The names `%import common.NAME` accepts. */
export const COMMON_TERMINAL_NAMES: readonly string[] = [...COMMON_TERMINALS.keys()];
