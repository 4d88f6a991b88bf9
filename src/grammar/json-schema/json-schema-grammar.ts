/**
 * The JSON Schema front end of structured outputs (vLLM's `structured_outputs.json`,
 * `guided_json`, `response_format: json_schema`, tool calls with `tool_choice: required` or a
 * named tool) and of `json_object` mode: a schema becomes the grammar of the JSON texts that
 * validate against it, or a GrammarError (a 400) saying which keyword cannot be enforced.
 *
 * Owns: the entry points and their options. The pieces: schema-compiler.ts (dispatch, $ref,
 * anyOf/oneOf, enum/const), schema-merge.ts (allOf), one-of.ts (oneOf exclusivity),
 * object-schema.ts, array-schema.ts, string-schema.ts (with string-formats.ts, json-string.ts,
 * length-restrict.ts), number-schema.ts (with decimal-range.ts), json-syntax.ts (whitespace, any
 * JSON value), schema-keywords.ts (what is enforced, ignored, refused), finish-grammar.ts.
 *
 * Every member of the grammar validates (with Ajv, formats from ajv-formats); the grammar is a
 * subset of the valid texts where generation is deliberately narrower (only declared properties
 * when additionalProperties is absent, canonical escapes under a pattern, bounded digits).
 * Annotations, keywords no JSON Schema vocabulary defines and formats ajv-formats does not know
 * are ignored, as Ajv with `strict: false` ignores them; validation keywords that cannot be
 * enforced are refused by name.
 */
import { GrammarBuilder, GrammarError, type Grammar } from '../grammar-ir.ts';
import { finishGrammar } from './finish-grammar.ts';
import { JsonSyntax } from './json-syntax.ts';
import { SchemaCompiler } from './schema-compiler.ts';

export interface JsonGrammarOptions {
  /** vLLM's whitespace_pattern: a regex for the whitespace allowed between JSON tokens. Overrides anyWhitespace. */
  readonly whitespacePattern?: string | null;
  /** vLLM's disable_any_whitespace=false (default true): flexible whitespace between tokens; false: none at all (compact JSON). */
  readonly anyWhitespace?: boolean;
  /** vLLM's disable_additional_properties: never generate properties the schema does not declare, even where additionalProperties allows them. */
  readonly disableAdditionalProperties?: boolean;
}

/**
 * Deepest nesting of arrays and objects in a schema document: the compiler and the helpers it
 * uses on values (`const`, `enum`, merges) recurse on them.
 */
const MAX_SCHEMA_NESTING = 256;

/** Whether `value` nests arrays and objects deeper than `limit` (walked without recursion). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= limit) return true;
    for (const child of Object.values(item.value)) {
      stack.push({ value: child, depth: item.depth + 1 });
    }
  }
  return false;
}

/** The grammar of JSON texts valid against `schema` (a parsed JSON Schema object or boolean). Throws GrammarError. */
export function jsonSchemaGrammar(schema: unknown, options: JsonGrammarOptions = {}): Grammar {
  if (nestsDeeperThan(schema, MAX_SCHEMA_NESTING)) {
    throw new GrammarError(
      `JSON Schema at #: documents nested deeper than ${MAX_SCHEMA_NESTING} levels are not supported`,
    );
  }
  const grammar = new SchemaCompiler(schema, options).grammarOf(schema, '#');
  if (grammar === null)
    throw new GrammarError('JSON Schema at #: no JSON value satisfies the schema');
  return grammar;
}

/**
 * Any JSON object (response_format json_object, structured_outputs.json_object). Whitespace
 * follows the options; disableAdditionalProperties does not apply (there is no schema).
 */
export function jsonObjectGrammar(options: JsonGrammarOptions = {}): Grammar {
  const builder = new GrammarBuilder();
  const syntax = new JsonSyntax(builder, options);
  return finishGrammar(builder.build(syntax.anyObject()))!;
}
