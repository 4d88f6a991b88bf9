import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertJsonMediaType, topLevelNumberLiteral } from './json-body.ts';

describe('topLevelNumberLiteral', () => {
  it('reads the raw literal of a top-level key', () => {
    assert.equal(
      topLevelNumberLiteral('{"seed": 12345678901234567890}', 'seed'),
      '12345678901234567890',
    );
    assert.equal(
      topLevelNumberLiteral('{"a":1,"seed":-9223372036854775809,"b":2}', 'seed'),
      '-9223372036854775809',
    );
    assert.equal(topLevelNumberLiteral('{"seed":1.5e3}', 'seed'), '1.5e3');
  });

  it('ignores nested keys, keys inside strings and non-numbers; keeps the last duplicate', () => {
    assert.equal(topLevelNumberLiteral('{"x":{"seed":1},"y":"\\"seed\\":2"}', 'seed'), null);
    assert.equal(topLevelNumberLiteral('{"messages":[{"seed":3}],"seed":4}', 'seed'), '4');
    assert.equal(topLevelNumberLiteral('{"seed":null}', 'seed'), null);
    assert.equal(topLevelNumberLiteral('{"seed":1,"seed":2}', 'seed'), '2');
    assert.equal(topLevelNumberLiteral('{"se\\u0065d":7}', 'seed'), '7');
  });
});

describe('assertJsonMediaType', () => {
  it('accepts application/json in any case, with parameters', () => {
    assertJsonMediaType('application/json');
    assertJsonMediaType('Application/JSON; charset=utf-8');
  });

  it("refuses anything else with vLLM's message", () => {
    for (const type of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/jsonx',
    ]) {
      assert.throws(
        () => assertJsonMediaType(type),
        /Unsupported Media Type: Only 'application\/json' is allowed/,
      );
    }
  });
});
