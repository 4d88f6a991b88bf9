/**
 * What the JSON Schema front end knows about keywords: which it enforces, which it ignores
 * (annotations, containers, keywords no validator knows), which it refuses and why, and the
 * typed readers that turn a malformed keyword value into a GrammarError naming its location.
 *
 * Owns: the keyword lists, the refusal messages, and schema-location paths (`#/properties/a`).
 */
import { GrammarError } from '../grammar-ir.ts';

/** A JSON Schema object (after JSON.parse). */
export type SchemaObject = Readonly<Record<string, unknown>>;

/** A schema: an object or a boolean. */
export type Schema = SchemaObject | boolean;

export function isSchemaObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `path` extended by one JSON Pointer token. */
export function childPath(path: string, ...tokens: readonly (string | number)[]): string {
  let result = path;
  for (const token of tokens) {
    result += `/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`;
  }
  return result;
}

/** The GrammarError for a schema problem at `path`. */
export function schemaError(path: string, message: string): GrammarError {
  return new GrammarError(`JSON Schema at ${path}: ${message}`);
}

/**
 * Keywords that do not restrict a value (annotations, `$defs`/`definitions` containers, OpenAPI
 * extras). Keywords not listed anywhere are ignored too, as Ajv does with `strict: false`.
 */
export const IGNORED_KEYWORDS: ReadonlySet<string> = new Set([
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$recursiveAnchor',
  '$vocabulary',
  '$comment',
  '$defs',
  'definitions',
  'title',
  'description',
  'default',
  'examples',
  'example',
  'deprecated',
  'readOnly',
  'writeOnly',
  'contentMediaType',
  'contentEncoding',
  'contentSchema',
  'discriminator',
  'xml',
  'externalDocs',
]);

/** Validation keywords the front end enforces (some only in the cases their modules accept). */
export const ENFORCED_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'nullable',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'prefixItems',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
]);

/** Validation keywords refused outright, with what they would need. */
export const REFUSED_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['not', 'a negated schema cannot be enforced while generating'],
  ['if', 'conditional schemas (if/then/else) cannot be enforced while generating'],
  ['then', 'conditional schemas (if/then/else) cannot be enforced while generating'],
  ['else', 'conditional schemas (if/then/else) cannot be enforced while generating'],
  ['patternProperties', 'property names matched by patterns are not supported'],
  ['propertyNames', 'constraints on property names are not supported'],
  ['dependentRequired', 'properties required by the presence of others are not supported'],
  ['dependentSchemas', 'schemas applied by the presence of properties are not supported'],
  ['dependencies', 'property dependencies are not supported'],
  ['contains', 'array contains constraints are not supported'],
  ['minContains', 'array contains constraints are not supported'],
  ['maxContains', 'array contains constraints are not supported'],
  ['unevaluatedProperties', 'unevaluatedProperties is not supported'],
  ['unevaluatedItems', 'unevaluatedItems is not supported'],
  ['$dynamicRef', 'dynamic references are not supported'],
  ['$recursiveRef', 'recursive references ($recursiveRef) are not supported'],
]);

/** Throws for the first refused keyword of `schema`. */
export function checkKeywords(schema: SchemaObject, path: string): void {
  for (const key of Object.keys(schema)) {
    const reason = REFUSED_KEYWORDS.get(key);
    if (reason !== undefined) {
      throw schemaError(path, `unsupported keyword '${key}': ${reason}`);
    }
  }
}

/** True when `schema` has a keyword that restricts values (enforced or refused). */
export function hasValidationKeywords(schema: SchemaObject): boolean {
  return Object.keys(schema).some((key) => ENFORCED_KEYWORDS.has(key) || REFUSED_KEYWORDS.has(key));
}

/** `schema` without the keywords that do not restrict values. */
export function validationPart(schema: SchemaObject): SchemaObject {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ENFORCED_KEYWORDS.has(key) || REFUSED_KEYWORDS.has(key)) result[key] = value;
  }
  return result;
}

/** `schema` without `keys`. */
export function without(schema: SchemaObject, ...keys: readonly string[]): SchemaObject {
  const result: Record<string, unknown> = { ...schema };
  for (const key of keys) delete result[key];
  return result;
}

/** A finite number keyword, or undefined when absent. */
export function readNumber(schema: SchemaObject, key: string, path: string): number | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value === 'boolean' && (key === 'exclusiveMinimum' || key === 'exclusiveMaximum')) {
    throw schemaError(
      path,
      `boolean '${key}' (draft 4) is not supported; give the bound itself as a number`,
    );
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw schemaError(path, `'${key}' must be a number`);
  }
  return value;
}

/** A non-negative integer keyword (minLength, maxItems, ...), or undefined when absent. */
export function readCount(schema: SchemaObject, key: string, path: string): number | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw schemaError(path, `'${key}' must be a non-negative integer`);
  }
  return value;
}

/** A string keyword, or undefined when absent. */
export function readString(schema: SchemaObject, key: string, path: string): string | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw schemaError(path, `'${key}' must be a string`);
  return value;
}

/** An array-of-strings keyword (required), or [] when absent. */
export function readStringList(schema: SchemaObject, key: string, path: string): string[] {
  const value = schema[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw schemaError(path, `'${key}' must be an array of strings`);
  }
  return value;
}

/** A schema-valued keyword (items, additionalProperties, ...), or undefined when absent. */
export function readSchema(schema: SchemaObject, key: string, path: string): Schema | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean' && !isSchemaObject(value)) {
    throw schemaError(path, `'${key}' must be a schema (an object or a boolean)`);
  }
  return value;
}

/** A non-empty array of schemas (anyOf, oneOf, allOf, prefixItems), or undefined when absent. */
export function readSchemaList(
  schema: SchemaObject,
  key: string,
  path: string,
): Schema[] | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    (key !== 'prefixItems' && key !== 'items' && value.length === 0) ||
    !value.every((item) => typeof item === 'boolean' || isSchemaObject(item))
  ) {
    throw schemaError(path, `'${key}' must be a non-empty array of schemas`);
  }
  return value;
}

/** An object of schemas (properties), or [] when absent, in declaration order. */
export function readSchemaMap(schema: SchemaObject, key: string, path: string): [string, Schema][] {
  const value = schema[key];
  if (value === undefined) return [];
  if (!isSchemaObject(value)) throw schemaError(path, `'${key}' must be an object of schemas`);
  const entries = Object.entries(value);
  for (const [name, item] of entries) {
    if (typeof item !== 'boolean' && !isSchemaObject(item)) {
      throw schemaError(childPath(path, key, name), 'a schema must be an object or a boolean');
    }
  }
  return entries as [string, Schema][];
}
