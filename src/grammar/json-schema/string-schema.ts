/**
 * Strings of a JSON Schema: `minLength`, `maxLength`, `pattern` and `format`.
 *
 * Owns: how those combine.
 * - Neither pattern nor format: any body characters (every escape allowed), as many as the
 *   length bounds say; each body character is one code point (see `json-string.ts`).
 * - `pattern` is a search, as in JSON Schema: each top-level alternative compiles with
 *   `regexToExpr` (its full match) and gets `[\s\S]*` before it unless it starts with `^` and
 *   after it unless it ends with an unescaped `$`. Every string of that language contains a
 *   match, so it validates; `^a$|^b$` is read per alternative.
 * - `format`: the subset grammar of `string-formats.ts`; unknown formats restrict nothing.
 * - A pattern or format is a language of decoded texts: its members are written in the canonical
 *   JSON encoding (a character is escaped only where JSON requires it). Length bounds on such a
 *   language go through `restrictLength`; a schema where that fails is refused, as is a pattern
 *   together with a format (two languages cannot be intersected here).
 */
import {
  alt,
  EMPTY,
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
import { encodeDecoded, quoted } from './json-string.ts';
import type { JsonSyntax } from './json-syntax.ts';
import { restrictLength } from './length-restrict.ts';
import { readCount, readString, schemaError, type SchemaObject } from './schema-keywords.ts';
import { stringFormatExpr } from './string-formats.ts';

const ANY_TEXT = star(chars([[0, MAX_CODE_POINT]]));

/** The top-level alternatives of a pattern, each with its offset in code points. */
function topLevelBranches(pattern: string): { text: string; offset: number }[] {
  const units = Array.from(pattern);
  const branches: { text: string; offset: number }[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < units.length; i++) {
    const c = units[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      branches.push({ text: units.slice(start, i).join(''), offset: start });
      start = i + 1;
    }
  }
  branches.push({ text: units.slice(start).join(''), offset: start });
  return branches;
}

/** The search language of one top-level alternative (anchored at an end where it says so). */
function branchSearch(branch: string, offset: number, path: string): Expr {
  let body: Expr;
  try {
    body = regexToExpr(branch);
  } catch (error) {
    if (!(error instanceof GrammarError)) throw error;
    const message = error.message.replace(
      /\(at (\d+)\)$/,
      (_, at: string) => `(at ${Number(at) + offset})`,
    );
    throw schemaError(path, `'pattern' ${message}`);
  }
  const anchoredStart = branch.startsWith('^');
  // A final `$` is an anchor unless an odd number of backslashes escapes it.
  const ending = /(\\*)\$$/.exec(branch);
  const anchoredEnd = ending !== null && ending[1]!.length % 2 === 0;
  return seq(anchoredStart ? EMPTY : ANY_TEXT, body, anchoredEnd ? EMPTY : ANY_TEXT);
}

/**
 * The decoded texts a JSON Schema `pattern` accepts: a search, so each top-level alternative
 * matches anywhere unless `^` or `$` pins it to an end.
 */
export function patternExpr(pattern: string, path: string): Expr {
  return alt(
    ...topLevelBranches(pattern).map(({ text, offset }) => branchSearch(text, offset, path)),
  );
}

/** The grammar of a string schema's values (quotes included). */
export function stringSchemaExpr(schema: SchemaObject, path: string, syntax: JsonSyntax): Expr {
  const minLength = readCount(schema, 'minLength', path) ?? 0;
  const maxLength = readCount(schema, 'maxLength', path) ?? null;
  if (maxLength !== null && maxLength < minLength) return NOTHING;
  const pattern = readString(schema, 'pattern', path);
  const format = readString(schema, 'format', path);
  const formatExpr = format === undefined ? null : stringFormatExpr(format);
  if (pattern === undefined && formatExpr === null) {
    return quoted(repeat(syntax.stringChar, minLength, maxLength));
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
  return quoted(
    encodeDecoded(decoded, (alternatives) => syntax.shareEqual('text-char', alternatives)),
  );
}
