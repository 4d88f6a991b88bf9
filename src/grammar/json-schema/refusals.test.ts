import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrammarError } from '../grammar-ir.ts';
import { jsonSchemaGrammar, type JsonGrammarOptions } from './json-schema-grammar.ts';

function refusal(schema: unknown, options: JsonGrammarOptions = {}): string {
  try {
    jsonSchemaGrammar(schema, options);
  } catch (error) {
    assert.ok(error instanceof GrammarError, String(error));
    return error.message;
  }
  assert.fail(`accepted: ${JSON.stringify(schema)}`);
}

const object = (extra: Record<string, unknown>): Record<string, unknown> => ({
  type: 'object',
  properties: { a: { type: 'string' }, b: { type: 'integer' } },
  ...extra,
});

describe('refusals name the keyword and where it is', () => {
  const refusedKeywords: readonly [string, unknown][] = [
    ['not', { not: { type: 'string' } }],
    ['if', { if: { type: 'string' }, then: { minLength: 2 } }],
    ['then', { then: { minLength: 2 } }],
    ['else', { else: { minLength: 2 } }],
    ['patternProperties', object({ patternProperties: { '^x': { type: 'string' } } })],
    ['propertyNames', object({ propertyNames: { maxLength: 3 } })],
    ['dependentRequired', object({ dependentRequired: { a: ['b'] } })],
    ['dependentSchemas', object({ dependentSchemas: { a: { required: ['b'] } } })],
    ['dependencies', object({ dependencies: { a: ['b'] } })],
    ['contains', { type: 'array', contains: { const: 1 } }],
    ['minContains', { type: 'array', minContains: 2 }],
    ['unevaluatedProperties', object({ unevaluatedProperties: false })],
    ['unevaluatedItems', { type: 'array', unevaluatedItems: false }],
    ['$dynamicRef', { $dynamicRef: '#meta' }],
  ];
  for (const [keyword, schema] of refusedKeywords) {
    it(`'${keyword}'`, () => {
      const message = refusal({ type: 'object', properties: { x: schema }, required: ['x'] });
      assert.ok(message.includes(`unsupported keyword '${keyword}'`), message);
      assert.match(message, /#\/properties\/x/);
    });
  }

  it('uniqueItems, multipleOf, minProperties, maxProperties unless a subset can meet them', () => {
    assert.match(refusal({ type: 'array', uniqueItems: true }), /'uniqueItems'/);
    assert.doesNotThrow(() => jsonSchemaGrammar({ type: 'array', uniqueItems: true, maxItems: 1 }));
    assert.match(refusal({ type: 'number', multipleOf: 0.01 }), /'multipleOf'/);
    assert.match(refusal({ type: 'integer', multipleOf: 3 }), /'multipleOf'/);
    assert.doesNotThrow(() => jsonSchemaGrammar({ type: 'integer', multipleOf: 1 }));
    assert.match(refusal(object({ minProperties: 3 })), /'minProperties' 3/);
    assert.doesNotThrow(() => jsonSchemaGrammar(object({ minProperties: 2 })));
    assert.match(refusal(object({ maxProperties: 1 })), /'maxProperties' 1/);
    assert.doesNotThrow(() =>
      jsonSchemaGrammar(object({ maxProperties: 2, additionalProperties: true })),
    );
  });

  it('references that leave the document, name anchors or do not resolve', () => {
    assert.match(refusal({ $ref: 'https://example.com/schema.json' }), /outside the schema/);
    assert.match(refusal({ $ref: 'other.json#/a' }), /outside the schema/);
    assert.match(refusal({ $ref: '#node', $defs: { n: { $anchor: 'node' } } }), /anchor/);
    assert.match(refusal({ $ref: '#/$defs/missing' }), /does not resolve/);
  });

  it('oneOf whose branches may overlap, with the branch numbers', () => {
    assert.match(
      refusal({ oneOf: [{ type: 'string' }, { type: 'string', maxLength: 3 }] }),
      /'oneOf' branches 0 and 1 may both match/,
    );
    assert.match(
      refusal({ oneOf: [{ type: 'number' }, { type: 'integer' }] }),
      /'oneOf' branches 0 and 1/,
    );
    assert.match(
      refusal({
        oneOf: [
          { type: 'object', properties: { kind: { const: 'a' } } },
          { type: 'object', properties: { kind: { const: 'b' } } },
        ],
      }),
      /'oneOf'/,
    );
  });

  it('allOf parts that cannot be merged', () => {
    assert.match(
      refusal({ allOf: [{ type: 'string', pattern: '^a' }, { pattern: 'b$' }] }),
      /two different 'pattern'/,
    );
    assert.match(
      refusal({
        allOf: [
          { oneOf: [{ type: 'string' }, { type: 'null' }] },
          { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        ],
      }),
      /two 'oneOf'/,
    );
    assert.match(
      refusal({
        $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] } },
        $ref: '#/$defs/a',
        type: 'string',
      }),
      /circular/,
    );
  });

  it('pattern and length bounds or formats it cannot combine with', () => {
    assert.match(
      refusal({ type: 'string', pattern: '^(a|bcd)(a|bcd)$', minLength: 4, maxLength: 4 }),
      /'minLength'\/'maxLength'/,
    );
    assert.match(refusal({ type: 'string', pattern: '(?=a)b' }), /#: 'pattern' regex: /);
    assert.match(
      refusal({ type: 'string', format: 'uuid', pattern: 'a' }),
      /'pattern' together with 'format' 'uuid'/,
    );
  });

  it('schemas no value satisfies, and self-reference without nesting', () => {
    assert.match(refusal(false), /no JSON value satisfies the schema/);
    assert.match(refusal({ type: 'string', enum: [1, 2] }), /no JSON value/);
    assert.match(
      refusal({ type: 'object', properties: { a: false }, required: ['a'] }),
      /no JSON value/,
    );
    assert.match(
      refusal({ type: 'object', properties: { child: { $ref: '#' } }, required: ['child'] }),
      /no JSON value/,
    );
    assert.match(refusal({ type: 'integer', minimum: 5, maximum: 4 }), /no JSON value/);
    assert.match(
      refusal({ anyOf: [{ $ref: '#' }, { type: 'string' }] }),
      /refers to itself without nesting/,
    );
  });

  it('malformed keyword values and draft 4 exclusive bounds', () => {
    assert.match(refusal({ type: 'strin' }), /'type' must be one of/);
    assert.match(
      refusal({ type: 'string', maxLength: -1 }),
      /'maxLength' must be a non-negative integer/,
    );
    assert.match(
      refusal({ type: 'number', minimum: 0, exclusiveMinimum: true }),
      /boolean 'exclusiveMinimum' \(draft 4\)/,
    );
    assert.match(
      refusal({ type: 'object', required: 'a' }),
      /'required' must be an array of strings/,
    );
    assert.match(refusal({ anyOf: [] }), /'anyOf' must be a non-empty array/);
    assert.match(refusal(42), /a schema must be an object or a boolean/);
  });

  it('whitespace patterns that match more than JSON whitespace', () => {
    assert.match(
      refusal({ type: 'object' }, { whitespacePattern: '[ a]*' }),
      /whitespace_pattern may only match JSON whitespace/,
    );
    assert.match(
      refusal({ type: 'object' }, { whitespacePattern: '(' }),
      /whitespace_pattern: regex: /,
    );
  });

  it('schemas nested too deep for the stack (found by the request fuzzer: 500s)', () => {
    const items = (depth: number): unknown => {
      let schema: unknown = { type: 'integer' };
      for (let i = 0; i < depth; i++) schema = { type: 'array', items: schema };
      return schema;
    };
    jsonSchemaGrammar(items(150));
    assert.match(
      refusal(items(3000)),
      /^JSON Schema at #: documents nested deeper than 256 levels are not supported$/,
    );
    let value: unknown = 1;
    for (let i = 0; i < 300; i++) value = [value];
    assert.match(refusal({ const: value }), /documents nested deeper than 256 levels/);
    // A chain of 3,000 $refs is deep in compile calls, not in the document.
    const $defs = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [
        `d${i}`,
        { type: 'array', items: { $ref: `#/$defs/d${i + 1}` } },
      ]),
    );
    assert.match(
      refusal({ $defs, $ref: '#/$defs/d0' }),
      /subschemas nested deeper than 200 levels \(properties, items, \$ref chains\) are not supported/,
    );
    // Recursion through a $ref to an ancestor stays a rule, however deep the values it accepts.
    jsonSchemaGrammar({ type: 'array', items: { $ref: '#' } });
  });
});
