/**
 * What the per-type modules (objects, arrays) need from the schema compiler: compiling a
 * subschema, the JSON token layer, and the options that change generation.
 *
 * Owns: nothing but that interface, so the type modules do not import the compiler.
 */
import type { Expr } from '../grammar-ir.ts';
import type { JsonSyntax } from './json-syntax.ts';
import type { Schema } from './schema-keywords.ts';

export interface CompileContext {
  /** The grammar of the values of `schema` (found at schema location `path`). */
  compile(schema: Schema, path: string): Expr;
  readonly syntax: JsonSyntax;
  /** vLLM's disable_additional_properties: never generate undeclared properties. */
  readonly disableAdditionalProperties: boolean;
}
