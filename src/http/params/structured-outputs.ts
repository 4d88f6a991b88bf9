/**
 * A request's structured output, resolved as vLLM does and compiled for the engine.
 *
 * Owns: reading the three ways a request asks for one (`structured_outputs`, `response_format`
 * json_object / json_schema, and the seed era's `guided_*` aliases) into one constraint, vLLM's
 * rule of exactly one kind of constraint with its messages, the type checks of each field, the
 * front end per kind (src/grammar), and a small cache of compiled grammars keyed by the
 * constraint, so repeated schemas reuse their automaton and the engine its cached token masks.
 * Every refusal is a 400 naming the field.
 */
import { compileGrammar, type CompiledGrammar } from '../../grammar/automaton/byte-nfa.ts';
import { PushdownRunner } from '../../grammar/automaton/pda.ts';
import { choiceGrammar } from '../../grammar/choice.ts';
import { type Grammar, GrammarError, grammarOf } from '../../grammar/grammar-ir.ts';
import { grammarFromText } from '../../grammar/grammar-text.ts';
import {
  jsonObjectGrammar,
  jsonSchemaGrammar,
  type JsonGrammarOptions,
} from '../../grammar/json-schema/json-schema-grammar.ts';
import { regexToExpr } from '../../grammar/regex/parse-regex.ts';
import { BadRequestError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestingExceeds } from '../json-body.ts';
import type { CommonRequest } from '../schemas/common-fields.ts';
import { notSupportedYet } from './request-checks.ts';

/** One constraint, as vLLM's StructuredOutputsParams holds it after validation. */
export type StructuredOutputSpec =
  | { readonly kind: 'json'; readonly schema: unknown }
  | { readonly kind: 'regex'; readonly pattern: string }
  | { readonly kind: 'choice'; readonly choices: readonly string[] }
  | { readonly kind: 'grammar'; readonly text: string }
  | { readonly kind: 'json_object' };

export interface ResolvedStructuredOutput {
  readonly spec: StructuredOutputSpec;
  readonly options: JsonGrammarOptions;
  /** The request field the constraint came from, for error messages. */
  readonly param: string;
}

const CONSTRAINT_KEYS = ['json', 'regex', 'choice', 'grammar', 'json_object', 'structural_tag'];

/** The seed era's names for structured_outputs' fields. */
const GUIDED_ALIASES = [
  ['guided_json', 'json'],
  ['guided_regex', 'regex'],
  ['guided_choice', 'choice'],
  ['guided_grammar', 'grammar'],
  ['guided_whitespace_pattern', 'whitespace_pattern'],
] as const;

/** A value as Python prints it inside vLLM's messages (None, True, False, 'text'). */
function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : 'None';
}

/** Gathers the request's constraint fields into structured_outputs' shape, or null when none. */
function gatherFields(
  request: CommonRequest,
): { fields: Record<string, unknown>; param: string } | null {
  let fields: Record<string, unknown> | null = null;
  let param = 'structured_outputs';
  if (request.structured_outputs !== null && request.structured_outputs !== undefined) {
    fields = { ...request.structured_outputs };
  }
  for (const [alias, field] of GUIDED_ALIASES) {
    const value = request[alias];
    if (value === null || value === undefined) continue;
    fields ??= {};
    if (fields[field] === undefined || fields[field] === null) fields[field] = value;
    param = alias;
  }
  const format = request.response_format ?? null;
  if (format !== null && format.type !== 'text') {
    fields ??= {};
    param = 'response_format';
    if (format.type === 'json_object') fields.json_object = true;
    else if (format.type === 'json_schema') fields.json = format.json_schema?.schema ?? null;
    else fields.structural_tag = format;
  }
  return fields === null ? null : { fields, param };
}

function present(value: unknown): boolean {
  return value !== null && value !== undefined && value !== false;
}

function expectString(value: unknown, name: string, param: string): string {
  if (typeof value !== 'string') throw new BadRequestError(`${name} must be a string.`, param);
  return value;
}

function expectBoolean(value: unknown, name: string, param: string): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value !== 'boolean') throw new BadRequestError(`${name} must be a boolean.`, param);
  return value;
}

function jsonSchemaOf(value: unknown, param: string): unknown {
  if (typeof value === 'string') {
    // As deep as a body may be (the text is parsed and walked as a body is).
    if (nestingExceeds(value, MAX_JSON_DEPTH)) {
      throw new BadRequestError(
        `${param}: the JSON schema is nested deeper than ${MAX_JSON_DEPTH} levels.`,
        param,
      );
    }
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw new BadRequestError(`${param}: the JSON schema is not valid JSON.`, param);
    }
  }
  if (typeof value === 'boolean' || (typeof value === 'object' && !Array.isArray(value))) {
    return value;
  }
  throw new BadRequestError(`${param}: the JSON schema must be an object or a JSON string.`, param);
}

/**
 * The request's structured output, or null when it asks for none. Throws BadRequestError with
 * vLLM's messages for zero or several kinds of constraint and for fields of the wrong type.
 */
export function resolveStructuredOutputSpec(
  request: CommonRequest,
): ResolvedStructuredOutput | null {
  const gathered = gatherFields(request);
  if (gathered === null) return null;
  const { fields, param } = gathered;
  const kinds = CONSTRAINT_KEYS.filter((key) => present(fields[key]));
  if (kinds.length === 0) {
    throw new BadRequestError(
      `You must use one kind of structured outputs constraint but none are specified: ${pythonRepr(fields)}`,
      param,
    );
  }
  if (kinds.length > 1) {
    throw new BadRequestError(
      `You can only use one kind of structured outputs constraint but multiple are specified: ${pythonRepr(fields)}`,
      param,
    );
  }
  const whitespacePattern = fields.whitespace_pattern;
  const options: JsonGrammarOptions = {
    anyWhitespace: !expectBoolean(fields.disable_any_whitespace, 'disable_any_whitespace', param),
    disableAdditionalProperties: expectBoolean(
      fields.disable_additional_properties,
      'disable_additional_properties',
      param,
    ),
    whitespacePattern:
      whitespacePattern === null || whitespacePattern === undefined
        ? null
        : expectString(whitespacePattern, 'whitespace_pattern', param),
  };
  const kind = kinds[0]!;
  const value = fields[kind];
  switch (kind) {
    case 'json':
      return { spec: { kind: 'json', schema: jsonSchemaOf(value, param) }, options, param };
    case 'regex':
      return {
        spec: { kind: 'regex', pattern: expectString(value, 'regex', param) },
        options,
        param,
      };
    case 'choice': {
      if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) {
        throw new BadRequestError('choice must be a list of strings.', param);
      }
      return { spec: { kind: 'choice', choices: value }, options, param };
    }
    case 'grammar': {
      const text = expectString(value, 'grammar', param);
      if (text.trim() === '') {
        throw new BadRequestError('structured_outputs.grammar cannot be an empty string', param);
      }
      return { spec: { kind: 'grammar', text }, options, param };
    }
    case 'json_object':
      return { spec: { kind: 'json_object' }, options, param };
    default:
      throw notSupportedYet(param, 'structural_tag constraints');
  }
}

function frontEnd(spec: StructuredOutputSpec, options: JsonGrammarOptions): Grammar {
  switch (spec.kind) {
    case 'json':
      return jsonSchemaGrammar(spec.schema, options);
    case 'regex':
      return grammarOf(regexToExpr(spec.pattern));
    case 'choice':
      return choiceGrammar(spec.choices);
    case 'grammar':
      return grammarFromText(spec.text);
    case 'json_object':
      return jsonObjectGrammar(options);
  }
}

/** Compiled grammars by constraint, most recently used last. */
const compiledCache = new Map<string, CompiledGrammar>();
const CACHE_SIZE = 64;

/** The automaton of `resolved` (cached); a constraint that cannot be enforced is a 400. */
export function compileStructuredOutput(resolved: ResolvedStructuredOutput): CompiledGrammar {
  const key = JSON.stringify([resolved.spec, resolved.options]);
  const cached = compiledCache.get(key);
  if (cached !== undefined) {
    compiledCache.delete(key);
    compiledCache.set(key, cached);
    return cached;
  }
  let compiled: CompiledGrammar;
  try {
    compiled = compileGrammar(frontEnd(resolved.spec, resolved.options));
    // Refuses a language with no member at all.
    new PushdownRunner(compiled);
  } catch (error) {
    if (error instanceof GrammarError) throw new BadRequestError(error.message, resolved.param);
    throw error;
  }
  compiledCache.set(key, compiled);
  if (compiledCache.size > CACHE_SIZE) compiledCache.delete(compiledCache.keys().next().value!);
  return compiled;
}

/** The request's compiled structured output, or null when it asks for none. */
export function resolveStructuredOutput(request: CommonRequest): CompiledGrammar | null {
  const resolved = resolveStructuredOutputSpec(request);
  return resolved === null ? null : compileStructuredOutput(resolved);
}

/** The structured output of a request about to be planned (see `compileForPlan`). */
export function structuredOutputFor(
  request: CommonRequest,
  beamSearch: boolean,
): CompiledGrammar | null {
  return compileForPlan(resolveStructuredOutputSpec(request), beamSearch);
}

/**
 * `resolved` compiled for a plan, or null for none; a beam search cannot take one (its beams
 * are scored, not sampled, under a constraint it would not keep).
 */
export function compileForPlan(
  resolved: ResolvedStructuredOutput | null,
  beamSearch: boolean,
): CompiledGrammar | null {
  if (resolved === null) return null;
  if (beamSearch) {
    throw new BadRequestError(
      'Structured outputs are not supported with beam search (use_beam_search).',
      resolved.param,
    );
  }
  return compileStructuredOutput(resolved);
}
