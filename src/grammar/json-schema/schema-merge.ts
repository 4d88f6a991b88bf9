/**
 * `allOf` (and `$ref` with sibling keywords): the schemas are merged into one schema that
 * accepts what all of them accept, which then compiles like any other.
 *
 * Owns: the merge rules. `$ref`s at the top of a part are inlined and nested `allOf`s flattened;
 * `const` becomes a one-value `enum`, `nullable: true` a `null` type, draft 7's array `items` the
 * `prefixItems` form. Then, keyword by keyword: `type` and `enum` intersect; lower bounds take
 * the largest, upper bounds the smallest; `required` and `uniqueItems` combine; properties merge
 * by name, each side's additionalProperties standing for the names only the other side declares
 * (so `additionalProperties: false` on one side forbids the other side's extra names); array
 * positions merge likewise; two `anyOf` lists become the list of their pairwise combinations
 * (at most 64). Subschemas that meet (a property in both parts) are combined lazily as
 * `{allOf: [a, b]}`. Refused: two different `pattern`s, `format`s or `multipleOf`s, two `oneOf`s,
 * and circular `allOf`/`$ref` chains.
 */
import { canonicalJson, sameJson } from './canonical-json.ts';
import { resolveRef } from './schema-refs.ts';
import {
  checkKeywords,
  childPath,
  ENFORCED_KEYWORDS,
  isSchemaObject,
  schemaError,
  type Schema,
  type SchemaObject,
} from './schema-keywords.ts';
import { typesOverlap, type JsonType } from './schema-types.ts';

const MAX_DEPTH = 64;
const MAX_ANY_OF_PRODUCT = 64;
const LOWER_BOUNDS = ['minLength', 'minItems', 'minProperties', 'minimum', 'exclusiveMinimum'];
const UPPER_BOUNDS = ['maxLength', 'maxItems', 'maxProperties', 'maximum', 'exclusiveMaximum'];
const MUST_AGREE = ['pattern', 'format', 'multipleOf'];
const OBJECT_KEYS = ['properties', 'additionalProperties'];
const ARRAY_KEYS = ['prefixItems', 'items'];

/** `a` and `b` both: the simpler form when one is trivial, else a lazy allOf. */
export function both(a: Schema, b: Schema): Schema {
  if (a === true) return b;
  if (b === true) return a;
  if (a === false || b === false) return false;
  if (sameJson(a, b)) return a;
  return { allOf: [a, b] };
}

/** One schema accepting exactly what every one of `parts` accepts. Throws GrammarError. */
export function mergeSchemas(parts: readonly Schema[], root: unknown, path: string): Schema {
  const flat: SchemaObject[] = [];
  for (const part of parts) if (!flatten(part, path, root, flat, 0)) return false;
  let merged: Record<string, unknown> = {};
  for (const part of flat) {
    const next = mergeTwo(merged, part, path);
    if (next === false) return false;
    merged = next;
  }
  return merged;
}

/** Appends the normalized, $ref- and allOf-free pieces of `part`; false when one is `false`. */
function flatten(
  part: Schema,
  path: string,
  root: unknown,
  out: SchemaObject[],
  depth: number,
): boolean {
  if (part === true) return true;
  if (part === false) return false;
  if (!isSchemaObject(part)) throw schemaError(path, 'a schema must be an object or a boolean');
  if (depth > MAX_DEPTH) throw schemaError(path, "circular 'allOf'/'$ref' chain");
  checkKeywords(part, path);
  const rest: Record<string, unknown> = { ...part };
  if (typeof rest.$ref === 'string') {
    const target = resolveRef(root, rest.$ref, path);
    if (!flatten(target.schema, target.path, root, out, depth + 1)) return false;
  } else if (rest.$ref !== undefined) throw schemaError(path, "'$ref' must be a string");
  delete rest.$ref;
  if (rest.allOf !== undefined) {
    if (!Array.isArray(rest.allOf) || rest.allOf.length === 0) {
      throw schemaError(path, "'allOf' must be a non-empty array of schemas");
    }
    for (const [i, item] of (rest.allOf as Schema[]).entries()) {
      if (!flatten(item, childPath(path, 'allOf', i), root, out, depth + 1)) return false;
    }
    delete rest.allOf;
  }
  out.push(normalize(rest));
  return true;
}

/** const -> enum, nullable -> type, array items -> prefixItems; annotations dropped. */
function normalize(schema: Record<string, unknown>): SchemaObject {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ENFORCED_KEYWORDS.has(key)) result[key] = value;
  }
  if (result.const !== undefined) {
    const value = result.const;
    result.enum = Array.isArray(result.enum)
      ? (result.enum as unknown[]).filter((item) => sameJson(item, value))
      : [value];
    delete result.const;
  }
  if (result.nullable === true && result.type !== undefined) {
    const types = Array.isArray(result.type) ? (result.type as unknown[]) : [result.type];
    result.type = types.includes('null') ? types : [...types, 'null'];
  }
  delete result.nullable;
  if (Array.isArray(result.items)) {
    result.prefixItems = result.items;
    if (result.additionalItems !== undefined) result.items = result.additionalItems;
    else delete result.items;
  }
  delete result.additionalItems;
  return result;
}

function typeList(value: unknown): JsonType[] {
  return (Array.isArray(value) ? value : [value]) as JsonType[];
}

/** The types in both lists (integer where one says number and the other integer). */
function intersectTypes(a: readonly JsonType[], b: readonly JsonType[]): JsonType[] {
  const result = new Set<JsonType>();
  for (const x of a) {
    for (const y of b) {
      if (x === y) result.add(x);
      else if (typesOverlap(x, y)) result.add('integer');
    }
  }
  return [...result];
}

function mergeTwo(
  a: Record<string, unknown>,
  b: SchemaObject,
  path: string,
): Record<string, unknown> | false {
  const result: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (OBJECT_KEYS.includes(key) || ARRAY_KEYS.includes(key)) continue;
    const current = result[key];
    if (current === undefined) {
      result[key] = value;
      continue;
    }
    if (key === 'type') {
      const types = intersectTypes(typeList(current), typeList(value));
      if (types.length === 0) return false;
      result.type = types;
    } else if (key === 'enum') {
      if (!Array.isArray(current) || !Array.isArray(value))
        throw schemaError(path, "'enum' must be an array");
      const values = current.filter((x) => value.some((y) => sameJson(x, y)));
      if (values.length === 0) return false;
      result.enum = values;
    } else if (LOWER_BOUNDS.includes(key) || UPPER_BOUNDS.includes(key)) {
      if (typeof current !== 'number' || typeof value !== 'number') {
        throw schemaError(path, `'${key}' must be a number`);
      }
      result[key] = LOWER_BOUNDS.includes(key)
        ? Math.max(current, value)
        : Math.min(current, value);
    } else if (MUST_AGREE.includes(key)) {
      if (!sameJson(current, value)) {
        throw schemaError(
          path,
          `'allOf' combines two different '${key}' values, which is not supported`,
        );
      }
    } else if (key === 'required') {
      result.required = [...new Set([...(current as string[]), ...(value as string[])])];
    } else if (key === 'uniqueItems') {
      result.uniqueItems = current === true || value === true;
    } else if (key === 'anyOf') {
      const left = current as Schema[];
      const right = value as Schema[];
      if (left.length * right.length > MAX_ANY_OF_PRODUCT) {
        throw schemaError(
          path,
          `'allOf' combines 'anyOf' lists with too many combinations (over ${MAX_ANY_OF_PRODUCT})`,
        );
      }
      result.anyOf = left.flatMap((x) => right.map((y) => both(x, y)));
    } else if (key === 'oneOf') {
      throw schemaError(path, "'allOf' combining two 'oneOf' lists is not supported");
    } else {
      result[key] = value;
    }
  }
  mergeObjects(result, a, b);
  mergeArrays(result, a, b);
  return result;
}

function schemaMap(value: unknown): Record<string, Schema> {
  return isSchemaObject(value) ? (value as Record<string, Schema>) : {};
}

function mergeObjects(result: Record<string, unknown>, a: SchemaObject, b: SchemaObject): void {
  if (!OBJECT_KEYS.some((key) => b[key] !== undefined)) return;
  if (!OBJECT_KEYS.some((key) => a[key] !== undefined)) {
    for (const key of OBJECT_KEYS) if (b[key] !== undefined) result[key] = b[key];
    return;
  }
  const left = schemaMap(a.properties);
  const right = schemaMap(b.properties);
  const leftExtra = a.additionalProperties as Schema | undefined;
  const rightExtra = b.additionalProperties as Schema | undefined;
  // No prototype: a property named __proto__ stays an own property.
  const properties = Object.create(null) as Record<string, Schema>;
  for (const name of new Set([...Object.keys(left), ...Object.keys(right)])) {
    properties[name] = both(
      Object.hasOwn(left, name) ? left[name]! : (leftExtra ?? true),
      Object.hasOwn(right, name) ? right[name]! : (rightExtra ?? true),
    );
  }
  result.properties = properties;
  const extra =
    leftExtra === undefined
      ? rightExtra
      : rightExtra === undefined
        ? leftExtra
        : both(leftExtra, rightExtra);
  if (extra === undefined) delete result.additionalProperties;
  else result.additionalProperties = extra;
}

function mergeArrays(result: Record<string, unknown>, a: SchemaObject, b: SchemaObject): void {
  if (!ARRAY_KEYS.some((key) => b[key] !== undefined)) return;
  if (!ARRAY_KEYS.some((key) => a[key] !== undefined)) {
    for (const key of ARRAY_KEYS) if (b[key] !== undefined) result[key] = b[key];
    return;
  }
  const left = (a.prefixItems as Schema[] | undefined) ?? [];
  const right = (b.prefixItems as Schema[] | undefined) ?? [];
  const leftTail = a.items as Schema | undefined;
  const rightTail = b.items as Schema | undefined;
  const length = Math.max(left.length, right.length);
  if (length > 0) {
    result.prefixItems = Array.from({ length }, (_, i) =>
      both(left[i] ?? leftTail ?? true, right[i] ?? rightTail ?? true),
    );
  }
  const tail =
    leftTail === undefined
      ? rightTail
      : rightTail === undefined
        ? leftTail
        : both(leftTail, rightTail);
  if (tail === undefined) delete result.items;
  else result.items = tail;
}

/** The memo key of a merged schema. */
export function schemaKey(schema: Schema): string {
  return canonicalJson(schema);
}
