/**
 * Arrays of a JSON Schema: `prefixItems` (or draft 7's array form of `items` with
 * `additionalItems`), `items`, `minItems`, `maxItems`, and `uniqueItems` where it is trivial.
 *
 * Owns: the element sequence.
 * - Element i < prefix length takes prefixItems[i]; later elements take `items`. The array may
 *   end anywhere between minItems and maxItems, also inside the prefix (as JSON Schema allows).
 * - `items` absent after a non-empty prefix: no elements beyond the prefix, except as many as
 *   minItems needs (any JSON), like additionalProperties absent for objects. `items` absent and
 *   no prefix: any JSON elements. `items: false`: nothing beyond the prefix.
 * - `uniqueItems: true` is refused unless maxItems is at most 1.
 */
import { NOTHING, optional, repeat, seq, EMPTY, type Expr } from '../grammar-ir.ts';
import type { CompileContext } from './compile-context.ts';
import {
  childPath,
  readCount,
  readSchema,
  readSchemaList,
  schemaError,
  type Schema,
  type SchemaObject,
} from './schema-keywords.ts';

/** `expr` without its outer `?` (the body an array writes when it is not empty). */
function required(expr: Expr): Expr {
  return expr.kind === 'repeat' && expr.min === 0 && expr.max === 1 ? expr.item : expr;
}

/** The grammar of an array schema's values. */
export function arraySchemaExpr(schema: SchemaObject, path: string, ctx: CompileContext): Expr {
  const { syntax } = ctx;
  let prefix: Schema[];
  let tail: Schema | undefined;
  let prefixKey: string;
  let tailKey: string;
  if (Array.isArray(schema.items)) {
    prefix = readSchemaList(schema, 'items', path) ?? [];
    tail = readSchema(schema, 'additionalItems', path);
    [prefixKey, tailKey] = ['items', 'additionalItems'];
  } else {
    prefix = readSchemaList(schema, 'prefixItems', path) ?? [];
    tail = readSchema(schema, 'items', path);
    [prefixKey, tailKey] = ['prefixItems', 'items'];
  }
  const minItems = readCount(schema, 'minItems', path) ?? 0;
  const maxItems = readCount(schema, 'maxItems', path) ?? Infinity;
  if (schema.uniqueItems === true && maxItems > 1) {
    throw schemaError(
      path,
      "unsupported keyword 'uniqueItems': distinct elements cannot be enforced while generating (only with maxItems <= 1)",
    );
  }
  if (maxItems < minItems) return NOTHING;

  const k = prefix.length;
  const tailMin = Math.max(0, minItems - k);
  let tailMax = Math.max(0, maxItems - k);
  if (tail === false) tailMax = 0;
  else if (tail === undefined && k > 0) tailMax = tailMin;
  if (tailMax < tailMin) return NOTHING;

  const count = (n: number): number | null => (n === Infinity ? null : n);
  let rest: Expr = EMPTY;
  if (tailMax > 0 && maxItems >= k) {
    const element = syntax.share('item', ctx.compile(tail ?? true, childPath(path, tailKey)));
    const more = seq(syntax.comma, element);
    if (k === 0) {
      const body = seq(element, repeat(more, Math.max(0, tailMin - 1), count(tailMax - 1)));
      rest = tailMin === 0 ? optional(body) : body;
    } else {
      rest = repeat(more, tailMin, count(tailMax));
    }
  }
  for (let i = Math.min(k, maxItems) - 1; i >= 0; i--) {
    const element = ctx.compile(prefix[i]!, childPath(path, prefixKey, i));
    const written = seq(i === 0 ? EMPTY : syntax.comma, element, rest);
    rest = i < minItems ? written : optional(written);
  }
  return syntax.container('[', required(rest), minItems === 0, ']');
}
