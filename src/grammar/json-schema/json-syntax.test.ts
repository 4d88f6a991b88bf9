/**
 * The JSON token layer: the whitespace rule of each option set, and any JSON value or object.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Grammar } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import {
  jsonObjectGrammar,
  jsonSchemaGrammar,
  type JsonGrammarOptions,
} from './json-schema-grammar.ts';

function members(grammar: Grammar, count = 60, maxDepth = 6): string[] {
  return Array.from({ length: count }, (_, i) => randomMember(grammar, { seed: i + 1, maxDepth })!);
}

function accepts(schema: unknown, text: string, options: JsonGrammarOptions = {}): boolean {
  return matchesGrammar(jsonSchemaGrammar(schema, options), text);
}

describe('whitespace', () => {
  const schema = {
    type: 'object',
    properties: { a: { type: 'array', items: { type: 'integer' } } },
  };

  it('default: per gap at most one line break and 20 spaces or tabs; none around the value', () => {
    assert.ok(accepts(schema, '{"a":[1,2]}'));
    assert.ok(accepts(schema, '{\n  "a" : [\n    1,\n    2\n  ]\n}'));
    assert.ok(accepts(schema, `{\r\n${' \t'.repeat(10)}"a":[]}`));
    assert.ok(!accepts(schema, `{\n${' '.repeat(21)}"a":[]}`));
    assert.ok(!accepts(schema, '{\n\n"a":[]}'));
    assert.ok(!accepts(schema, '{ \n"a":[]}'));
    assert.ok(!accepts(schema, ' {"a":[]}'));
    assert.ok(!accepts(schema, '{"a":[]}\n'));
  });

  it('anyWhitespace false: compact only', () => {
    assert.ok(accepts(schema, '{"a":[1,2]}', { anyWhitespace: false }));
    assert.ok(!accepts(schema, '{"a": [1,2]}', { anyWhitespace: false }));
    for (const member of members(jsonSchemaGrammar({}, { anyWhitespace: false }))) {
      assert.doesNotMatch(member.replace(/"(?:[^"\\]|\\.)*"/g, ''), /\s/, member);
    }
  });

  it('whitespacePattern: that language in every gap, overriding anyWhitespace', () => {
    const options = { whitespacePattern: '\\n? {0,2}', anyWhitespace: false };
    assert.ok(accepts(schema, '{\n  "a":\n [1, 2]}', options));
    assert.ok(!accepts(schema, '{   "a":[]}', options));
    assert.ok(!accepts(schema, '{\t"a":[]}', options));
  });
});

describe('any JSON', () => {
  it('{} and true are any value, jsonObjectGrammar any object', () => {
    for (const member of members(jsonSchemaGrammar(true))) JSON.parse(member);
    const objects = members(jsonObjectGrammar({ anyWhitespace: false }), 60, 5);
    for (const member of objects) {
      const value = JSON.parse(member) as unknown;
      assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), member);
    }
    assert.ok(objects.some((member) => member.length > 10));
    assert.ok(!matchesGrammar(jsonObjectGrammar(), '[]'));
  });
});
