/**
 * Seeded random schemas built from the enforced keywords (nested objects, arrays, anyOf, oneOf,
 * allOf, $ref, enum/const, bounds, patterns, formats), judged by Ajv: each compiles or is
 * refused with a GrammarError; members of a compiled one validate; mutants Ajv rejects are not
 * members. Covers keyword combinations the corpus does not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { GrammarError, type Grammar } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { jsonSchemaGrammar, type JsonGrammarOptions } from './json-schema-grammar.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: false }));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Draws from a seeded linear congruential generator. */
class Draw {
  #state: number;
  constructor(seed: number) {
    this.#state = seed;
  }
  next(): number {
    this.#state = (this.#state * 1103515245 + 12345) % 2147483648;
    return this.#state / 2147483648;
  }
  int(from: number, to: number): number {
    return from + Math.floor(this.next() * (to - from + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

function scalarSchema(d: Draw): Json {
  switch (d.int(0, 8)) {
    case 0: {
      const schema: Record<string, Json> = { type: 'string', maxLength: d.int(0, 6) };
      if (d.chance(0.5)) schema.minLength = d.int(0, 3);
      if (d.chance(0.3))
        schema.pattern = d.pick(['^a', 'b$', 'x', '^[a-c]+$', '^(ab|c)*$|^z', '[0-9]']);
      return schema;
    }
    case 1: {
      const schema: Record<string, Json> = { type: d.pick(['number', 'integer']) };
      if (d.chance(0.7))
        schema[d.pick(['minimum', 'exclusiveMinimum'])] = d.pick([-3, 0, 0.5, 1.25, 7]);
      if (d.chance(0.7))
        schema[d.pick(['maximum', 'exclusiveMaximum'])] = d.pick([0, 2.5, 10, 100]);
      return schema;
    }
    case 2:
      return { type: 'boolean' };
    case 3:
      return { type: 'null' };
    case 4:
      return { enum: [d.pick([1, 'a', null]), d.pick([2.5, 'b', true, { k: 1 }])] };
    case 5:
      return { const: d.pick<Json>(['x', 3, [1], { a: null }]) };
    case 6: {
      const format = d.pick(['date', 'uuid', 'email', 'ipv4', 'time', 'date-time', 'hostname']);
      return d.chance(0.3)
        ? { type: 'string', format, maxLength: d.int(8, 30) }
        : { type: 'string', format };
    }
    case 7:
      return {
        type: [d.pick(['string', 'integer']), 'null'],
        maxLength: 3,
        maximum: 5,
        minimum: -5,
      };
    default:
      return d.pick<Json>([true, {}, { type: 'integer', nullable: true, minimum: 0, maximum: 3 }]);
  }
}

function objectSchema(d: Draw, depth: number): Json {
  const properties: Record<string, Json> = {};
  for (let i = d.int(0, 4); i > 0; i--) properties[`p${i}`] = randomSchema(d, depth - 1);
  const required: Json[] = Object.keys(properties).filter(() => d.chance(0.5));
  if (d.chance(0.2)) required.push('zz');
  const schema: Record<string, Json> = { type: 'object', properties, required };
  const extra = d.int(0, 4);
  if (extra === 1) schema.additionalProperties = false;
  if (extra === 2) schema.additionalProperties = true;
  if (extra === 3) schema.additionalProperties = scalarSchema(d);
  if (d.chance(0.15)) schema.minProperties = d.int(0, 3);
  if (d.chance(0.1)) schema.maxProperties = d.int(0, 5);
  return schema;
}

function randomSchema(d: Draw, depth: number): Json {
  if (depth <= 0) return scalarSchema(d);
  switch (d.int(0, 7)) {
    case 0:
    case 1:
      return objectSchema(d, depth);
    case 2: {
      const schema: Record<string, Json> = { type: 'array' };
      if (d.chance(0.4))
        schema.prefixItems = [randomSchema(d, depth - 1), randomSchema(d, depth - 1)].slice(
          0,
          d.int(1, 2),
        );
      const items = d.int(0, 3);
      if (items === 1) schema.items = false;
      if (items >= 2) schema.items = randomSchema(d, depth - 1);
      if (d.chance(0.5)) schema.minItems = d.int(0, 3);
      if (d.chance(0.5)) schema.maxItems = d.int(0, 4);
      return schema;
    }
    case 3:
      return { anyOf: [randomSchema(d, depth - 1), randomSchema(d, depth - 1)] };
    case 4:
      return d.chance(0.5)
        ? { oneOf: [{ type: 'string', maxLength: 3 }, randomSchema(d, depth - 1)] }
        : {
            oneOf: [
              {
                type: 'object',
                properties: { k: { const: 'a' }, v: randomSchema(d, depth - 1) },
                required: ['k'],
              },
              {
                type: 'object',
                properties: { k: { const: 'b' }, w: randomSchema(d, depth - 1) },
                required: ['k', 'w'],
              },
            ],
          };
    case 5:
      return { allOf: [randomSchema(d, depth - 1), randomSchema(d, depth - 1)] };
    case 6:
      return {
        type: 'object',
        properties: {
          a: { type: 'integer', minimum: 0, maximum: 9 },
          b: randomSchema(d, depth - 1),
        },
        anyOf: [{ required: ['a'] }, { required: ['b'] }],
      };
    default:
      return {
        type: 'object',
        properties: {
          x: { $ref: '#/$defs/d' },
          y: d.chance(0.5)
            ? { $ref: '#/$defs/d', description: 'z' }
            : { $ref: '#/$defs/d', type: 'string' },
          self: { type: 'array', items: { $ref: '#' }, maxItems: 1 },
        },
      };
  }
}

/** Character edits and value edits (drop members, shift numbers, grow strings). */
function mutants(d: Draw, text: string, value: Json): string[] {
  const result: string[] = [];
  for (let k = 0; k < 4; k++) {
    const at = d.int(0, text.length);
    const insert =
      k % 2 === 1 ? d.pick(['{', '}', ',', '"', '1', '-', 'a', ':', ' ', '.', '[']) : '';
    result.push(text.slice(0, at) + insert + text.slice(at + (k % 2 === 1 ? 0 : 1)));
  }
  const edit = (x: Json): Json => {
    if (Array.isArray(x)) return d.chance(0.3) ? x.slice(1) : x.map(edit);
    if (typeof x === 'object' && x !== null) {
      const copy: Record<string, Json> = {};
      for (const [key, item] of Object.entries(x)) if (!d.chance(0.15)) copy[key] = edit(item);
      if (d.chance(0.1)) copy.extra = 1;
      return copy;
    }
    if (typeof x === 'number') return d.chance(0.3) ? x + d.pick([1, -1, 0.5, 100, -100]) : x;
    if (typeof x === 'string') return d.chance(0.3) ? x + d.pick(['a', '1', '-']) : x;
    return d.chance(0.1) ? 'q' : x;
  };
  for (let k = 0; k < 3; k++) result.push(JSON.stringify(edit(value)));
  return result;
}

describe('random schemas (judged by Ajv)', () => {
  it('compile or are refused; members validate; rejected mutants are not members', () => {
    const d = new Draw(20240611);
    const options: readonly JsonGrammarOptions[] = [
      {},
      { anyWhitespace: false },
      { disableAdditionalProperties: true },
    ];
    let compiled = 0;
    for (let round = 0; round < 300; round++) {
      const schema = randomSchema(d, d.int(1, 3)) as Record<string, Json>;
      schema.$defs = { d: randomSchema(d, d.int(0, 2)) };
      let grammar: Grammar;
      try {
        grammar = jsonSchemaGrammar(schema, d.pick(options));
      } catch (error) {
        assert.ok(error instanceof GrammarError, `${String(error)}: ${JSON.stringify(schema)}`);
        continue;
      }
      compiled++;
      const validate = ajv.compile(schema);
      for (let draw = 0; draw < 12; draw++) {
        const member = randomMember(grammar, {
          seed: round * 31 + draw,
          maxDepth: 6,
          maxExtraRepeats: 3,
        });
        assert.ok(member !== null, JSON.stringify(schema));
        const value = JSON.parse(member) as Json;
        assert.ok(
          validate(value),
          `${JSON.stringify(schema)}\n${member}\n${JSON.stringify(validate.errors)}`,
        );
        if (draw % 3 !== 0) continue;
        for (const mutant of mutants(d, member, value)) {
          let valid: boolean;
          try {
            valid = validate(JSON.parse(mutant));
          } catch {
            valid = false;
          }
          if (!valid)
            assert.ok(!matchesGrammar(grammar, mutant), `${JSON.stringify(schema)}\n${mutant}`);
        }
      }
    }
    assert.ok(compiled >= 200, `only ${compiled} of 300 compiled`);
  });
});
