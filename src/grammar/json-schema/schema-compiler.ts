/**
 * The JSON Schema compiler: one schema (and the document its `$ref`s point into) to grammar
 * rules. Dispatches each subschema to the keyword modules.
 *
 * Owns: the order keywords are read in and the rules that make recursion possible.
 * - `true` is any JSON value, `false` nothing; refused keywords throw (schema-keywords.ts).
 * - `$ref` alone is a rule per target (so recursive schemas are recursive rules); with sibling
 *   keywords, and `allOf`, the parts are merged (schema-merge.ts) and the merged schema gets a
 *   rule keyed by its canonical text (so merges that recur terminate).
 * - `anyOf`: the alternation of the branches, each combined with the sibling keywords. `oneOf`
 *   likewise, once one-of.ts proves no generated member matches two branches.
 * - `enum`/`const`: the listed values (keys in their order, the usual gaps inside arrays and
 *   objects); with other keywords beside them, only the values whose compact text the grammar of
 *   those keywords accepts (checked with the reference matcher on a compact-whitespace grammar of
 *   the sibling keywords: values it cannot confirm are left out).
 * - Otherwise one alternative per generated type (schema-types.ts).
 */
import { alt, GrammarBuilder, literal, NOTHING, type Expr, type Grammar } from '../grammar-ir.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { arraySchemaExpr } from './array-schema.ts';
import { canonicalJson, sameJson } from './canonical-json.ts';
import type { CompileContext } from './compile-context.ts';
import { finishGrammar } from './finish-grammar.ts';
import { JsonSyntax, type WhitespaceOptions } from './json-syntax.ts';
import { numberSchemaExpr } from './number-schema.ts';
import { objectSchemaExpr } from './object-schema.ts';
import { excludes } from './one-of.ts';
import {
  checkKeywords,
  childPath,
  hasValidationKeywords,
  isSchemaObject,
  readSchemaList,
  readString,
  schemaError,
  without,
  type Schema,
  type SchemaObject,
} from './schema-keywords.ts';
import { mergeSchemas } from './schema-merge.ts';
import { resolveRef } from './schema-refs.ts';
import { generatedTypes, type JsonType } from './schema-types.ts';
import { stringSchemaExpr } from './string-schema.ts';

/** Deepest nesting of `compile` calls (the regex and grammar front ends allow 200 groups). */
const MAX_COMPILE_DEPTH = 200;

/** The options that change what the compiler generates. */
export interface CompilerOptions extends WhitespaceOptions {
  readonly disableAdditionalProperties?: boolean;
}

export class SchemaCompiler implements CompileContext {
  readonly syntax: JsonSyntax;
  readonly disableAdditionalProperties: boolean;
  readonly #root: unknown;
  readonly #builder = new GrammarBuilder();
  /** Rules of `$ref` targets (`ref:` + pointer) and merged schemas (`all:` + canonical text). */
  readonly #rules = new Map<string, Expr>();
  /** `compile` calls on the stack. */
  #depth = 0;

  /**
   * Grammars of the keywords beside an enum/const, by canonical text, shared with the compilers
   * made for them; null while one is being built (a filter that needs itself: nothing passes).
   */
  readonly #filters: Map<string, Grammar | null>;

  constructor(
    root: unknown,
    options: CompilerOptions,
    filters = new Map<string, Grammar | null>(),
  ) {
    this.#root = root;
    this.#filters = filters;
    this.syntax = new JsonSyntax(this.#builder, options);
    this.disableAdditionalProperties = options.disableAdditionalProperties === true;
  }

  /**
   * The grammar of `schema`'s values (null when none exists). The root document itself compiles
   * as the rule that `$ref: '#'` names, so recursion to the root shares it.
   */
  grammarOf(schema: unknown, path: string): Grammar | null {
    if (typeof schema !== 'boolean' && !isSchemaObject(schema)) {
      throw schemaError(path, 'a schema must be an object or a boolean');
    }
    const start = schema === this.#root ? this.#reference('#', path) : this.compile(schema, path);
    return finishGrammar(this.#builder.build(start));
  }

  compile(schema: Schema, path: string): Expr {
    // Each subschema (through properties, items, combinators or $ref chains) is a nested call:
    // past MAX_COMPILE_DEPTH the stack could overflow, so such a schema is refused.
    if (this.#depth >= MAX_COMPILE_DEPTH) {
      throw schemaError(
        path,
        `subschemas nested deeper than ${MAX_COMPILE_DEPTH} levels (properties, items, $ref chains) are not supported`,
      );
    }
    this.#depth++;
    try {
      return this.#compileSubschema(schema, path);
    } finally {
      this.#depth--;
    }
  }

  #compileSubschema(schema: Schema, path: string): Expr {
    if (schema === true) return this.syntax.anyValue();
    if (schema === false) return NOTHING;
    if (!isSchemaObject(schema)) throw schemaError(path, 'a schema must be an object or a boolean');
    checkKeywords(schema, path);
    if (schema.$ref !== undefined) {
      const ref = readString(schema, '$ref', path)!;
      if (hasValidationKeywords(without(schema, '$ref'))) return this.#merged(schema, path);
      return this.#reference(ref, path);
    }
    if (schema.allOf !== undefined) return this.#merged(schema, path);
    if (schema.anyOf !== undefined) return this.#alternatives(schema, 'anyOf', path);
    if (schema.oneOf !== undefined) return this.#alternatives(schema, 'oneOf', path);
    if (schema.enum !== undefined || schema.const !== undefined) return this.#values(schema, path);
    return alt(...generatedTypes(schema, path).map((type) => this.#typed(type, schema, path)));
  }

  /** A rule (shared by key) whose body `compileBody` gives; recursion meets the reference. */
  #rule(key: string, hint: string, compileBody: () => Expr): Expr {
    const known = this.#rules.get(key);
    if (known !== undefined) return known;
    const name = this.#builder.reserve(hint);
    const reference: Expr = { kind: 'ref', rule: name };
    this.#rules.set(key, reference);
    this.#builder.set(name, compileBody());
    return reference;
  }

  #reference(ref: string, path: string): Expr {
    const target = resolveRef(this.#root, ref, path);
    const hint = target.path === '#' ? 'root' : target.path.split('/').pop()!;
    return this.#rule(`ref:${target.path}`, `ref-${hint}`, () =>
      this.compile(target.schema, target.path),
    );
  }

  /** `schema` with its `$ref`/`allOf` parts merged in (see schema-merge.ts). */
  normalize(schema: Schema, path = '#'): Schema {
    return mergeSchemas([schema], this.#root, path);
  }

  #merged(schema: SchemaObject, path: string): Expr {
    const merged = this.normalize(schema, path);
    if (typeof merged === 'boolean') return this.compile(merged, path);
    return this.#rule(`all:${canonicalJson(merged)}`, 'all-of', () => this.compile(merged, path));
  }

  #alternatives(schema: SchemaObject, key: 'anyOf' | 'oneOf', path: string): Expr {
    const list = readSchemaList(schema, key, path)!;
    const rest = without(schema, key);
    const combine = hasValidationKeywords(rest);
    const branches = list.map((branch): Schema => (combine ? { allOf: [rest, branch] } : branch));
    if (key === 'oneOf') {
      for (const [i, branch] of branches.entries()) {
        for (const [j, other] of list.entries()) {
          if (i !== j && !excludes(branch, other, this)) {
            throw schemaError(
              path,
              `'oneOf' branches ${i} and ${j} may both match one value; only oneOf with mutually exclusive branches (different types, different const/enum values, or a required property with different const/enum values) is supported (use anyOf if either may match)`,
            );
          }
        }
      }
    }
    return alt(...branches.map((branch, i) => this.compile(branch, childPath(path, key, i))));
  }

  #values(schema: SchemaObject, path: string): Expr {
    let values: unknown[];
    if (schema.enum !== undefined && !Array.isArray(schema.enum)) {
      throw schemaError(path, "'enum' must be an array");
    }
    if (schema.const !== undefined) {
      values = [schema.const];
      if (Array.isArray(schema.enum))
        values = schema.enum.filter((item) => sameJson(item, schema.const));
    } else values = schema.enum as unknown[];
    const unique = [...new Map(values.map((value) => [canonicalJson(value), value])).values()];
    const rest = without(schema, 'enum', 'const');
    let kept = unique;
    if (hasValidationKeywords(rest)) {
      const filter = this.#filter(rest, path);
      kept =
        filter === null
          ? []
          : unique.filter((value) => matchesGrammar(filter, JSON.stringify(value)));
    }
    return alt(...kept.map((value) => this.syntax.valueExpr(value)));
  }

  /** The compact grammar of `rest` (null when empty or while it is being built). */
  #filter(rest: SchemaObject, path: string): Grammar | null {
    const key = canonicalJson(rest);
    if (this.#filters.has(key)) return this.#filters.get(key)!;
    this.#filters.set(key, null);
    const options = {
      anyWhitespace: false,
      disableAdditionalProperties: this.disableAdditionalProperties,
    };
    const grammar = new SchemaCompiler(this.#root, options, this.#filters).grammarOf(rest, path);
    this.#filters.set(key, grammar);
    return grammar;
  }

  #typed(type: JsonType, schema: SchemaObject, path: string): Expr {
    switch (type) {
      case 'null':
        return literal('null');
      case 'boolean':
        return alt(literal('true'), literal('false'));
      case 'string':
        return stringSchemaExpr(schema, path, this.syntax);
      case 'number':
      case 'integer':
        return numberSchemaExpr(schema, type === 'integer', path);
      case 'object':
        return objectSchemaExpr(schema, path, this);
      case 'array':
        return arraySchemaExpr(schema, path, this);
    }
  }
}
