import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { GrammarError } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { jsonSchemaGrammar } from './json-schema-grammar.ts';
import { STRING_FORMATS } from './string-formats.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: false }));

describe('string formats (judged by ajv-formats)', () => {
  for (const format of STRING_FORMATS) {
    it(`${format}: members validate`, () => {
      const schema = { type: 'string', format };
      const validate = ajv.compile(schema);
      const grammar = jsonSchemaGrammar(schema);
      const seen = new Set<string>();
      for (let seed = 1; seed <= 150; seed++) {
        const member = randomMember(grammar, { seed, maxExtraRepeats: 6 })!;
        assert.ok(validate(JSON.parse(member)), `${format}: ${member}`);
        seen.add(member);
      }
      assert.ok(seen.size > 20, `${format}: ${seen.size} distinct members`);
    });
  }

  it('date is exact over four-digit years: leap days, month lengths', () => {
    const grammar = jsonSchemaGrammar({ type: 'string', format: 'date' });
    const validate = ajv.compile({ type: 'string', format: 'date' });
    for (const year of ['0000', '1900', '2000', '2023', '2024', '2100', '2400', '1996']) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          assert.equal(matchesGrammar(grammar, JSON.stringify(text)), validate(text), text);
        }
      }
    }
  });

  it('time and date-time reject out-of-range fields', () => {
    const time = jsonSchemaGrammar({ type: 'string', format: 'time' });
    for (const [text, want] of [
      ['23:59:59Z', true],
      ['00:00:00.123+05:30', true],
      ['24:00:00Z', false],
      ['12:60:00Z', false],
      ['12:00:60Z', false],
      ['12:00:00', false],
      ['12:00:00+24:00', false],
    ] as const) {
      assert.equal(matchesGrammar(time, JSON.stringify(text)), want, text);
    }
    const dateTime = jsonSchemaGrammar({ type: 'string', format: 'date-time' });
    assert.ok(matchesGrammar(dateTime, '"2024-02-29T10:20:30Z"'));
    assert.ok(!matchesGrammar(dateTime, '"2023-02-29T10:20:30Z"'));
  });

  it('email, uri and hostname with maxLength stay within it', () => {
    for (const format of ['email', 'uri', 'hostname', 'url']) {
      const schema = { type: 'string', format, maxLength: 24, minLength: 10 };
      const validate = ajv.compile(schema);
      const grammar = jsonSchemaGrammar(schema);
      for (let seed = 1; seed <= 80; seed++) {
        const member = randomMember(grammar, { seed, maxExtraRepeats: 30 })!;
        assert.ok(validate(JSON.parse(member)), `${format}: ${member}`);
      }
    }
  });

  it('password, binary, number formats and unknown formats restrict nothing on strings', () => {
    for (const format of ['password', 'binary', 'int32', 'float', 'my-custom-format']) {
      const grammar = jsonSchemaGrammar({ type: 'string', format, maxLength: 3 });
      assert.ok(matchesGrammar(grammar, '"a\\n "'), format);
    }
  });

  it('a pattern and a format together are refused', () => {
    assert.throws(
      () => jsonSchemaGrammar({ type: 'string', format: 'date', pattern: '^2' }),
      (error: unknown) =>
        error instanceof GrammarError && /'pattern' together with 'format'/.test(error.message),
    );
  });
});
