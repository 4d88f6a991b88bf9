/**
 * The JSON types of a schema: those it declares (`type`, OpenAPI's `nullable`) and those the
 * compiler generates for it.
 *
 * Owns: type inference. Without `type`, a schema generates the types its keywords are about
 * (`properties` -> object, `items` -> array, `minLength` or any `format` but a number
 * format -> string, `minimum` or a number format -> number), or every type when it has none of those; a subset
 * of what the schema accepts, so the outputs still validate. `integer` beside `number` is
 * dropped (number covers it).
 */
import { childPath, schemaError, type SchemaObject } from './schema-keywords.ts';
import { NUMBER_FORMATS } from './string-formats.ts';

export type JsonType = 'null' | 'boolean' | 'object' | 'array' | 'number' | 'integer' | 'string';

export const JSON_TYPES: readonly JsonType[] = [
  'null',
  'boolean',
  'object',
  'array',
  'number',
  'integer',
  'string',
];

const KEYWORD_TYPES: readonly (readonly [JsonType, readonly string[]])[] = [
  ['object', ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties']],
  ['array', ['items', 'prefixItems', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems']],
  ['string', ['minLength', 'maxLength', 'pattern']],
  ['number', ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']],
];

function isJsonType(value: unknown): value is JsonType {
  return JSON_TYPES.includes(value as JsonType);
}

/** The types `type` (and `nullable: true`) allow, or null when the schema has no `type`. */
export function declaredTypes(schema: SchemaObject, path: string): JsonType[] | null {
  const type = schema.type;
  if (type === undefined) return null;
  const list = Array.isArray(type) ? (type as unknown[]) : [type];
  if (!list.every(isJsonType)) {
    throw schemaError(
      childPath(path, 'type'),
      `'type' must be one of ${JSON_TYPES.join(', ')} or an array of them`,
    );
  }
  const types = [...new Set(list)];
  if (schema.nullable === true && !types.includes('null')) types.push('null');
  return types;
}

/** The types the compiler generates for `schema` (without enum/const, which list values). */
export function generatedTypes(schema: SchemaObject, path: string): JsonType[] {
  let types = declaredTypes(schema, path);
  if (types === null) {
    const inferred = new Set<JsonType>();
    for (const [type, keywords] of KEYWORD_TYPES) {
      if (keywords.some((keyword) => schema[keyword] !== undefined)) inferred.add(type);
    }
    if (typeof schema.format === 'string') {
      inferred.add(NUMBER_FORMATS.has(schema.format) ? 'number' : 'string');
    }
    types = inferred.size === 0 ? [...JSON_TYPES] : [...inferred];
    if (schema.nullable === true && !types.includes('null')) types.push('null');
  }
  return types.includes('number') ? types.filter((type) => type !== 'integer') : types;
}

/** The JSON type of a parsed JSON value (integers as 'integer'). */
export function typeOfValue(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string') return 'string';
  return 'object';
}

/** True when a value of type `a` may also be of type `b` (integers are numbers). */
export function typesOverlap(a: JsonType, b: JsonType): boolean {
  if (a === b) return true;
  const numeric = (t: JsonType): boolean => t === 'number' || t === 'integer';
  return numeric(a) && numeric(b);
}
