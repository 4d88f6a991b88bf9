/**
 * `oneOf`: a value must match exactly one branch. Compiled as the alternation of its branches,
 * which is exact only when no member generated for one branch also matches another; this module
 * proves that or reports that it cannot (and the schema is refused).
 *
 * Owns: the exclusion test `excludes(a, b)`: "every member the compiler generates for a fails
 * b". It holds when
 * - a's values are a finite list (enum/const) and b rejects each (b's enum lacks it, or its
 *   type, or a property value b's properties reject, or a property b requires is missing);
 * - the types generated for a and the types b accepts do not meet (integer meets number);
 * - a generates only objects and some property a always writes (required) has a value schema
 *   excluded by b's schema for that property: the discriminator case (`"kind": {"const": ...}`);
 * - a generates only objects that never have a property b requires;
 * - a is an anyOf/oneOf whose every branch is excluded, or b one whose every branch excludes a.
 */
import { canonicalJson } from './canonical-json.ts';
import { both } from './schema-merge.ts';
import { isSchemaObject, without, type Schema, type SchemaObject } from './schema-keywords.ts';
import {
  declaredTypes,
  generatedTypes,
  JSON_TYPES,
  typeOfValue,
  typesOverlap,
  type JsonType,
} from './schema-types.ts';

/** What the test needs from the compiler. */
export interface ExclusionContext {
  /** `schema` with its top-level `$ref`/`allOf` merged away (see schema-merge.ts). */
  normalize(schema: Schema): Schema;
  readonly disableAdditionalProperties: boolean;
}

const MAX_DEPTH = 8;

/** True when no member the compiler generates for `a` validates against `b`. */
export function excludes(a: Schema, b: Schema, ctx: ExclusionContext, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  const left = ctx.normalize(a);
  const right = ctx.normalize(b);
  if (left === false || right === false) return true;
  if (right === true) return false;
  const generated: SchemaObject = left === true ? {} : left;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = generated[key];
    if (Array.isArray(branches)) {
      const rest = without(generated, key);
      return (branches as Schema[]).every((branch) =>
        excludes(both(rest, branch), right, ctx, depth + 1),
      );
    }
  }
  if (excludesFlat(generated, without(right, 'anyOf', 'oneOf'), ctx, depth)) return true;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = right[key];
    if (Array.isArray(branches)) {
      return (branches as Schema[]).every((branch) => excludes(generated, branch, ctx, depth + 1));
    }
  }
  return false;
}

function propertyMap(schema: SchemaObject): Record<string, Schema> {
  return isSchemaObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
}

function requiredNames(schema: SchemaObject): string[] {
  return Array.isArray(schema.required) ? (schema.required as string[]) : [];
}

/** The schema b applies to property `name` of an object, or undefined when none applies. */
function propertySchema(schema: SchemaObject, name: string): Schema | undefined {
  const properties = propertyMap(schema);
  if (Object.hasOwn(properties, name)) return properties[name];
  return schema.additionalProperties as Schema | undefined;
}

function excludesFlat(
  a: SchemaObject,
  b: SchemaObject,
  ctx: ExclusionContext,
  depth: number,
): boolean {
  if (Array.isArray(a.enum))
    return (a.enum as unknown[]).every((value) => rejects(b, value, ctx, depth));
  const accepted = acceptedTypes(b);
  const types = generatedTypes(a, '#');
  if (types.every((t) => !accepted.some((u) => typesOverlap(t, u)))) return true;
  if (types.length !== 1 || types[0] !== 'object') return false;
  for (const name of requiredNames(a)) {
    const mine = propertySchema(a, name) ?? true;
    const theirs = propertySchema(b, name);
    if (theirs !== undefined && excludes(mine, theirs, ctx, depth + 1)) return true;
  }
  const declared = propertyMap(a);
  const extras =
    a.additionalProperties !== false &&
    (a.additionalProperties !== undefined || Object.keys(declared).length === 0) &&
    !ctx.disableAdditionalProperties;
  return requiredNames(b).some(
    (name) =>
      !extras &&
      !requiredNames(a).includes(name) &&
      (!Object.hasOwn(declared, name) || declared[name] === false),
  );
}

/** The types `schema` (flat) may accept: its declared types, narrowed by its enum. */
function acceptedTypes(schema: SchemaObject): JsonType[] {
  let types = declaredTypes(schema, '#') ?? [...JSON_TYPES];
  if (Array.isArray(schema.enum)) {
    const valueTypes = (schema.enum as unknown[]).map(typeOfValue);
    types = types.filter((t) => valueTypes.some((v) => typesOverlap(t, v)));
  }
  return types;
}

/** True when `schema` surely rejects `value`. */
function rejects(schema: Schema, value: unknown, ctx: ExclusionContext, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  const flat = ctx.normalize(schema);
  if (flat === false) return true;
  if (flat === true) return false;
  if (Array.isArray(flat.enum)) {
    const key = canonicalJson(value);
    if (!(flat.enum as unknown[]).some((item) => canonicalJson(item) === key)) return true;
  }
  const declared = declaredTypes(flat, '#');
  const type = typeOfValue(value);
  if (
    declared !== null &&
    !declared.some((t) => (type === 'integer' ? typesOverlap(t, type) : t === type))
  ) {
    return true;
  }
  if (type !== 'object') return false;
  const object = value as Record<string, unknown>;
  if (requiredNames(flat).some((name) => !Object.hasOwn(object, name))) return true;
  return Object.entries(object).some(([name, item]) => {
    const sub = propertySchema(flat, name);
    return sub !== undefined && rejects(sub, item, ctx, depth + 1);
  });
}
