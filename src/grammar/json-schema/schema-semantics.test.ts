/**
 * The semantic choices of the JSON Schema front end, one by one: additional properties, array
 * tails, pattern search, number bounds, enum filtering, oneOf exclusivity, allOf merging,
 * recursion.
 * Members are judged by Ajv wherever a schema is involved.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Grammar } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { jsonSchemaGrammar, type JsonGrammarOptions } from './json-schema-grammar.ts';

const ajv = new Ajv2020({ strict: false });

function members(grammar: Grammar, count = 60, maxDepth = 6): string[] {
  return Array.from({ length: count }, (_, i) => randomMember(grammar, { seed: i + 1, maxDepth })!);
}

/** Members of the schema's grammar, each checked with Ajv. */
function validMembers(schema: unknown, options: JsonGrammarOptions = {}, count = 60): string[] {
  const validate = ajv.compile(schema as object);
  const drawn = members(jsonSchemaGrammar(schema, options), count);
  for (const member of drawn) assert.ok(validate(JSON.parse(member)), member);
  return drawn;
}

function accepts(schema: unknown, text: string, options: JsonGrammarOptions = {}): boolean {
  return matchesGrammar(jsonSchemaGrammar(schema, options), text);
}

describe('objects', () => {
  it('additionalProperties absent: only declared properties, in declaration order', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'boolean' } },
      required: ['b'],
    };
    assert.ok(accepts(schema, '{"a":1,"b":true}'));
    assert.ok(accepts(schema, '{"b":true}'));
    assert.ok(!accepts(schema, '{"b":true,"a":1}'));
    assert.ok(!accepts(schema, '{"a":1}'));
    assert.ok(!accepts(schema, '{"a":1,"b":true,"c":1}'));
    assert.ok(!accepts(schema, '{"a":1,,"b":true}'));
    validMembers(schema);
  });

  it('additionalProperties schema: extra keys after the declared ones, never a declared name', () => {
    const schema = {
      type: 'object',
      properties: { id: { type: 'integer' }, name: { type: 'string', maxLength: 4 } },
      additionalProperties: { type: 'number', minimum: 0, maximum: 1 },
    };
    assert.ok(accepts(schema, '{"id":1,"x":0.5,"y":1}'));
    assert.ok(accepts(schema, '{"zz":0}'));
    assert.ok(!accepts(schema, '{"id":1,"id":0.5}'));
    assert.ok(!accepts(schema, '{"id":1,"name":1}'));
    assert.ok(!accepts(schema, '{"id":1,"\\u0069d":0.5}'));
    assert.ok(!accepts(schema, '{"x":2}'));
    const drawn = validMembers(schema);
    assert.ok(
      drawn.some((member) =>
        Object.keys(JSON.parse(member) as object).some((k) => k !== 'id' && k !== 'name'),
      ),
    );
    for (const member of validMembers(schema, { disableAdditionalProperties: true })) {
      assert.ok(
        Object.keys(JSON.parse(member) as object).every((k) => k === 'id' || k === 'name'),
        member,
      );
    }
  });

  it('no properties: any keys, values of additionalProperties (any JSON when absent)', () => {
    assert.ok(accepts({ type: 'object' }, '{"a":[1,{"b":null}],"c":"d"}'));
    assert.ok(
      accepts({ type: 'object', additionalProperties: { type: 'string' } }, '{"a\\n":"x"}'),
    );
    assert.ok(!accepts({ type: 'object', additionalProperties: { type: 'string' } }, '{"a":1}'));
    assert.ok(!accepts({ type: 'object', additionalProperties: false }, '{"a":1}'));
    assert.ok(accepts({ type: 'object', additionalProperties: false }, '{ }'));
  });

  it('required names that properties lacks take the additionalProperties schema', () => {
    const schema = {
      type: 'object',
      required: ['n'],
      properties: { a: { type: 'null' } },
      additionalProperties: { type: 'integer' },
    };
    assert.ok(accepts(schema, '{"n":3}'));
    assert.ok(accepts(schema, '{"a":null,"n":3}'));
    assert.ok(!accepts(schema, '{"a":null}'));
    validMembers(schema);
  });

  it('minProperties makes the first optional properties required', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'null' }, b: { type: 'null' }, c: { type: 'null' } },
      minProperties: 2,
    };
    assert.ok(accepts(schema, '{"a":null,"b":null}'));
    assert.ok(!accepts(schema, '{"a":null,"c":null}'));
    validMembers(schema);
  });
});

describe('arrays', () => {
  it('prefixItems, items, minItems and maxItems', () => {
    const schema = {
      type: 'array',
      prefixItems: [{ type: 'string', maxLength: 2 }, { type: 'boolean' }],
      items: { type: 'null' },
      minItems: 1,
      maxItems: 4,
    };
    assert.ok(accepts(schema, '["a"]'));
    assert.ok(accepts(schema, '["a",true,null,null]'));
    assert.ok(!accepts(schema, '[]'));
    assert.ok(!accepts(schema, '["a",true,null,null,null]'));
    assert.ok(!accepts(schema, '[true]'));
    validMembers(schema);
  });

  it('items absent after a prefix: only the prefix (plus what minItems needs)', () => {
    const schema = { type: 'array', prefixItems: [{ const: 1 }], minItems: 2 };
    assert.ok(accepts(schema, '[1,{"x":[]}]'));
    assert.ok(!accepts(schema, '[1,2,3]'));
    validMembers(schema);
  });

  it("draft 7's array form of items with additionalItems", () => {
    const schema = {
      type: 'array',
      items: [{ type: 'integer' }, { type: 'string', maxLength: 1 }],
      additionalItems: false,
    };
    assert.ok(accepts(schema, '[1,"a"]'));
    assert.ok(!accepts(schema, '[1,"a",2]'));
  });
});

describe('strings', () => {
  it('an unanchored pattern is a search; anchors pin the ends', () => {
    assert.ok(accepts({ type: 'string', pattern: 'ab' }, '"xxabyy"'));
    assert.ok(!accepts({ type: 'string', pattern: 'ab' }, '"xaxb"'));
    assert.ok(accepts({ type: 'string', pattern: '^ab' }, '"aby"'));
    assert.ok(!accepts({ type: 'string', pattern: '^ab' }, '"xab"'));
    assert.ok(accepts({ type: 'string', pattern: 'ab$' }, '"xab"'));
    assert.ok(!accepts({ type: 'string', pattern: 'ab$' }, '"abx"'));
    assert.ok(accepts({ type: 'string', pattern: 'ab\\$' }, '"ab$x"'));
    for (const pattern of [
      'ab',
      '^a.c',
      'x+$',
      '^[0-9]{2,3}$',
      '"\\\\',
      '^\\d+(\\.\\d+)?$|^none$',
    ]) {
      const drawn = validMembers({ type: 'string', pattern });
      assert.ok(
        drawn.every((member) => new RegExp(pattern, 'u').test(JSON.parse(member) as string)),
      );
    }
  });

  it('characters a pattern allows that JSON must escape are written escaped', () => {
    const schema = { type: 'string', pattern: '^["\\\\\\n]{3}$' };
    assert.ok(accepts(schema, '"\\"\\\\\\n"'));
    assert.ok(!accepts(schema, '"\\"\\\\\n"'));
    validMembers(schema);
  });

  it('length bounds on a pattern count decoded characters', () => {
    const schema = { type: 'string', pattern: '^[a-z]+(-[a-z]+)*$', minLength: 3, maxLength: 8 };
    const drawn = validMembers(schema, {}, 120);
    assert.ok(new Set(drawn.map((member) => member.length)).size > 3);
  });
});

describe('numbers', () => {
  it('bounds are exact, integers keep JSON syntax', () => {
    const schema = { type: 'number', minimum: -2.5, exclusiveMaximum: 10 };
    assert.ok(accepts(schema, '-2.5'));
    assert.ok(accepts(schema, '9.999999999999998'));
    assert.ok(!accepts(schema, '10'));
    assert.ok(!accepts(schema, '-2.51'));
    assert.ok(!accepts(schema, '1e0'));
    assert.ok(!accepts(schema, '01'));
    assert.ok(accepts({ type: 'integer' }, '-123'));
    assert.ok(!accepts({ type: 'integer' }, '1.0'));
    assert.ok(!accepts({ type: 'integer' }, '-0'));
    assert.ok(accepts({ type: 'number' }, '-0.5e-7'));
    validMembers(schema);
    validMembers({ type: 'integer', format: 'int32' });
  });
});

describe('enum and const', () => {
  it('values written with the usual gaps, filtered by the keywords beside them', () => {
    assert.ok(accepts({ const: { a: [1, 'x'] } }, '{"a":[1,"x"]}'));
    assert.ok(accepts({ const: { a: [1, 'x'] } }, '{ "a": [1, "x"]}'));
    assert.ok(!accepts({ const: { a: [1, 'x'] } }, '{ "a":[1,"x"]}', { anyWhitespace: false }));
    assert.ok(!accepts({ const: { a: [1, 'x'] } }, '{"a":[1,"x"],"b":1}'));
    const schema = { type: 'string', enum: ['a', 1, 'bbb', null], maxLength: 2 };
    assert.ok(accepts(schema, '"a"'));
    assert.ok(!accepts(schema, '"bbb"'));
    assert.ok(!accepts(schema, '1'));
    assert.ok(!accepts(schema, 'null'));
    const nullable = { type: 'string', nullable: true, enum: ['x', null] };
    assert.ok(accepts(nullable, 'null') && accepts(nullable, '"x"'));
  });
});

describe('combinators', () => {
  it('oneOf with disjoint types or discriminators compiles, and members match one branch', () => {
    validMembers({
      oneOf: [{ type: 'string', maxLength: 3 }, { type: 'integer' }, { type: 'null' }],
    });
    validMembers({ oneOf: [{ const: 'a' }, { enum: ['b', 'c'] }, { type: 'number' }] });
    validMembers({
      type: 'object',
      properties: { id: { type: 'integer' } },
      required: ['id'],
      oneOf: [
        { properties: { kind: { const: 'x' }, x: { type: 'boolean' } }, required: ['kind'] },
        { properties: { kind: { const: 'y' } }, required: ['kind'] },
      ],
    });
  });

  it('anyOf combines each branch with its sibling keywords', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'integer' } },
      anyOf: [{ required: ['a'] }, { required: ['b'] }],
    };
    assert.ok(!accepts(schema, '{}'));
    assert.ok(accepts(schema, '{"b":1}'));
    validMembers(schema);
  });

  it('allOf merges: additionalProperties false on one side drops the other side extra names', () => {
    const schema = {
      allOf: [
        {
          type: 'object',
          properties: { a: { type: 'string', maxLength: 3 } },
          additionalProperties: false,
        },
        { properties: { a: { minLength: 2 }, b: { type: 'integer' } }, required: ['a'] },
      ],
    };
    assert.ok(accepts(schema, '{"a":"xy"}'));
    assert.ok(!accepts(schema, '{"a":"x"}'));
    assert.ok(!accepts(schema, '{"a":"xy","b":1}'));
    validMembers(schema);
    validMembers({ allOf: [{ type: ['number', 'string'] }, { type: 'integer', maximum: 3 }] });
  });

  it('$ref with siblings applies both; recursion through $ref and #', () => {
    const schema = {
      $defs: { name: { type: 'string', maxLength: 5 } },
      type: 'object',
      properties: {
        name: { $ref: '#/$defs/name', minLength: 2 },
        kids: { type: 'array', items: { $ref: '#' }, maxItems: 2 },
      },
      required: ['name'],
    };
    assert.ok(!accepts(schema, '{"name":"x"}'));
    assert.ok(accepts(schema, '{"name":"xy","kids":[{"name":"ab","kids":[]}]}'));
    const drawn = validMembers(schema, {}, 100);
    const nested = (member: string): boolean =>
      ((JSON.parse(member) as { kids?: unknown[] }).kids ?? []).length > 0;
    assert.ok(drawn.some(nested));
  });
});
