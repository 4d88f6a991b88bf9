/**
 * Strings of a JSON Schema: `minLength`, `maxLength`, `pattern` and `format`.
 *
 * Owns: how those combine.
 * - Neither pattern nor format: any body characters (every escape allowed), as many as the
 *   length bounds say; each body character is one code point (see `json-string.ts`).
 * - `pattern` is a search, as in JSON Schema: the pattern compiles with `regexToExpr` (its full
 *   match) and gets `[\s\S]*` before it unless it starts with `^` and after it unless it ends with
 *   an unescaped `$`. Every string of that language contains a match, so it validates.
 * - `format`: the subset grammar of `string-formats.ts`; unknown formats restrict nothing.
 * - A pattern or format is a language of decoded texts: its members are written in the canonical
 *   JSON encoding (a character is escaped only where JSON requires it). Length bounds on such a
 *   language go through `restrictLength`; a schema where that fails is refused, as is a pattern
 *   together with a format (two languages cannot be intersected here).
 */
import {
  GrammarError,
  MAX_CODE_POINT,
  chars,
  NOTHING,
  repeat,
  seq,
  star,
  type Expr,
} from '../grammar-ir.ts';
import { regexToExpr } from '../regex/parse-regex.ts';
import { encodeDecoded, quoted, STRING_CHAR } from './json-string.ts';
import { restrictLength } from './length-restrict.ts';
import { readCount, readString, schemaError, type SchemaObject } from './schema-keywords.ts';
import { stringFormatExpr } from './string-formats.ts';

const ANY_TEXT = star(chars([[0, MAX_CODE_POINT]]));

/** The decoded texts a JSON Schema `pattern` (a search) accepts. */
export function patternExpr(pattern: string, path: string): Expr {
  let body: Expr;
  try {
    body = regexToExpr(pattern);
  } catch (error) {
    if (error instanceof GrammarError) throw schemaError(path, `'pattern' ${error.message}`);
    throw error;
  }
  const anchoredStart = pattern.startsWith('^');
  const trailingBackslashes = /\\*(?=\$$)/.exec(pattern)?.[0].length ?? -1;
  const anchoredEnd = pattern.endsWith('$') && trailingBackslashes % 2 === 0;
  return seq(anchoredStart ? seq() : ANY_TEXT, body, anchoredEnd ? seq() : ANY_TEXT);
}

/** The grammar of a string schema's values (quotes included). */
export function stringSchemaExpr(schema: SchemaObject, path: string): Expr {
  const minLength = readCount(schema, 'minLength', path) ?? 0;
  const maxLength = readCount(schema, 'maxLength', path) ?? null;
  if (maxLength !== null && maxLength < minLength) return NOTHING;
  const pattern = readString(schema, 'pattern', path);
  const format = readString(schema, 'format', path);
  const formatExpr = format === undefined ? null : stringFormatExpr(format);
  if (pattern === undefined && formatExpr === null) {
    return quoted(repeat(STRING_CHAR, minLength, maxLength));
  }
  if (pattern !== undefined && formatExpr !== null) {
    throw schemaError(
      path,
      `'pattern' together with 'format' '${format}' is not supported (use one of them)`,
    );
  }
  let decoded = formatExpr ?? patternExpr(pattern!, path);
  if (minLength > 0 || maxLength !== null) {
    const restricted = restrictLength(decoded, minLength, maxLength ?? Infinity);
    if (restricted === null) {
      throw schemaError(
        path,
        `'minLength'/'maxLength' cannot be combined with this ${pattern === undefined ? `format '${format}'` : 'pattern'} (give the length in the pattern instead)`,
      );
    }
    decoded = restricted;
  }
  return quoted(encodeDecoded(decoded));
}
