/**
 * Objects of a JSON Schema: `properties`, `required`, `additionalProperties`, and
 * `minProperties`/`maxProperties` where a subset can meet them.
 *
 * Owns: the members an object may have and their order.
 * - Declared properties come first, in declaration order; required ones always, optional ones
 *   may be skipped. Names in `required` that `properties` lacks follow, with the
 *   additionalProperties schema as their value (impossible when it is false).
 * - `additionalProperties` absent while `properties` is given: only the declared properties are
 *   generated (as OpenAI's strict mode asks; the outputs still validate). With no `properties`
 *   and no `additionalProperties: false`, any keys are allowed, each with a value of the
 *   additionalProperties schema (any JSON when absent).
 * - `additionalProperties` true or a schema beside `properties`: extra members follow the
 *   declared ones; their keys use unescaped characters only and differ from every declared name
 *   (so a duplicate key can never override a declared property). disableAdditionalProperties
 *   turns extra members off.
 * - `minProperties` above the required count makes the first optional properties required; if
 *   there are too few, it is refused. `maxProperties` turns extra members off and is refused when
 *   it is below the number of declared properties.
 */
import { alt, EMPTY, literal, NOTHING, optional, seq, star, type Expr } from '../grammar-ir.ts';
import type { CompileContext } from './compile-context.ts';
import { quoted, textNotIn } from './json-string.ts';
import {
  childPath,
  readCount,
  readSchema,
  readSchemaMap,
  readStringList,
  schemaError,
  type Schema,
  type SchemaObject,
} from './schema-keywords.ts';

/** Optional members beyond which the member chain is shared through rules. */
const SHARED_CHAIN_AFTER = 8;

interface Member {
  readonly name: string;
  readonly schema: Schema;
  readonly path: string;
  required: boolean;
}

/** The grammar of an object schema's values. */
export function objectSchemaExpr(schema: SchemaObject, path: string, ctx: CompileContext): Expr {
  const properties = readSchemaMap(schema, 'properties', path);
  const required = new Set(readStringList(schema, 'required', path));
  const additional = readSchema(schema, 'additionalProperties', path);
  const declared = new Set(properties.map(([name]) => name));
  const members: Member[] = properties.map(([name, value]) => ({
    name,
    schema: value,
    path: childPath(path, 'properties', name),
    required: required.has(name),
  }));
  for (const name of required) {
    if (!declared.has(name)) {
      members.push({
        name,
        schema: additional ?? true,
        path: childPath(path, 'additionalProperties'),
        required: true,
      });
    }
  }
  let extras =
    additional !== false &&
    (additional !== undefined || properties.length === 0) &&
    !ctx.disableAdditionalProperties;

  const minProperties = readCount(schema, 'minProperties', path);
  const maxProperties = readCount(schema, 'maxProperties', path);
  let requiredCount = members.filter((member) => member.required).length;
  if (minProperties !== undefined && minProperties > requiredCount) {
    for (const member of members) {
      if (!member.required && requiredCount < minProperties) {
        member.required = true;
        requiredCount++;
      }
    }
    if (requiredCount < minProperties) {
      throw schemaError(
        path,
        `'minProperties' ${minProperties} is not supported: it needs more properties than the ${members.length} the schema names`,
      );
    }
  }
  if (maxProperties !== undefined) {
    if (members.length > maxProperties) {
      throw schemaError(
        path,
        `'maxProperties' ${maxProperties} is not supported: it is below the ${members.length} properties the schema names`,
      );
    }
    extras = false;
  }

  const { syntax } = ctx;
  const memberExprs = members.map((member) => ({
    expr: seq(
      literal(JSON.stringify(member.name)),
      syntax.colon,
      syntax.share(`property-${member.name}`, ctx.compile(member.schema, member.path)),
    ),
    required: member.required,
  }));
  const extra = extras
    ? seq(
        members.length === 0 ? syntax.anyString : quoted(textNotIn(members.map((m) => m.name))),
        syntax.colon,
        syntax.share(
          'additional-value',
          ctx.compile(additional ?? true, childPath(path, 'additionalProperties')),
        ),
      )
    : null;

  // `after`: the members from i on when one was written already (each after a comma);
  // `first`: the members from i on when none was written yet, at least one of them.
  let after: Expr = extra === null ? EMPTY : star(seq(syntax.comma, extra));
  let first: Expr = extra === null ? NOTHING : seq(extra, after);
  const optionalCount = memberExprs.filter((member) => !member.required).length;
  for (let i = memberExprs.length - 1; i >= 0; i--) {
    const { expr, required: isRequired } = memberExprs[i]!;
    if (optionalCount > SHARED_CHAIN_AFTER && after.kind !== 'empty') {
      after = syntax.builder.define('members', after);
    }
    const written = seq(syntax.comma, expr);
    first = isRequired ? seq(expr, after) : alt(seq(expr, after), first);
    after = seq(isRequired ? written : optional(written), after);
  }
  return syntax.container('{', first, requiredCount === 0, '}');
}
