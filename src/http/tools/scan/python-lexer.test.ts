import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactJsonWriter } from './json-writer.ts';
import { PythonLexer, pythonNumberToJson } from './python-lexer.ts';

/** The JSON for a whole Python literal, or 'error'/'incomplete'. */
function toJson(literal: string): string {
  const writer = new CompactJsonWriter();
  const lexer = new PythonLexer(writer);
  for (const ch of literal) {
    const status = lexer.push(ch);
    if (status === 'error') return 'error';
    if (status === 'done-before' || status === 'done') break;
  }
  if (!lexer.end()) return 'incomplete';
  return writer.take();
}

describe('PythonLexer', () => {
  it('converts literals to JSON', () => {
    const cases: [string, string][] = [
      ['"Paris"', '"Paris"'],
      ["'it\\'s \"fine\"'", '"it\'s \\"fine\\""'],
      ['r"C:\\new\\table"', '"C:\\\\new\\\\table"'],
      ["u'ok'", '"ok"'],
      ["'''a\nb'''", '"a\\nb"'],
      ['"""say ""hi"" """', '"say \\"\\"hi\\"\\" "'],
      ["'\\a\\b\\f\\v\\0\\x7f\\N'", 'error'],
      ["'\\a\\b\\f\\v\\0\\x7f'", '"\\u0007\\b\\f\\u000b\\u0000\u007f"'],
      ["'\\q\\\nx'", '"\\\\qx"'],
      ["'\\1234'", '"S4"'],
      ['"\\U0001F600 \\u00e9"', '"😀 é"'],
      ["''", '""'],
      ['42', '42'],
      ['-7', '-7'],
      ['0o17', '15'],
      ['-0b101', '-5'],
      ['007', '7'],
      ['1_000_000', '1000000'],
      ['3.', '3.0'],
      ['.25', '0.25'],
      ['1e-3', '1e-3'],
      ['1_0.5_0E+1_0', '10.50e+10'],
      ['True', 'true'],
      ['None', 'null'],
      ['[1, [2, []], ]', '[1,[2,[]]]'],
      [
        "{'a': {'b': [None]}, 2: 'x', 1.5: True, False: None, None: 0,}",
        '{"a":{"b":[null]},"2":"x","1.5":true,"false":null,"null":0}',
      ],
      ['{ }', '{}'],
    ];
    for (const [literal, json] of cases) assert.equal(toJson(literal), json, literal);
  });

  it('refuses what is not a literal', () => {
    for (const literal of [
      'x ',
      'true ',
      'f(1)',
      '(1, 2)',
      "b'bytes'",
      "f'{x}'",
      "['a' 'b']",
      '[1 2]',
      '{1, 2}',
      '{[1]: 2}',
      '{"a": }',
      '"unterminated\n"',
      '1__0 ',
      '0x ',
      '1e ',
      '[1,, 2]',
      '{"a": 1]',
      '-',
    ]) {
      assert.equal(toJson(literal), literal === '-' ? 'incomplete' : 'error', literal);
    }
  });

  it('reports an unfinished literal at the end of the input as incomplete', () => {
    for (const literal of ['"abc', '[1, 2', "{'a': ", "'''x''", 'Tru']) {
      assert.equal(toJson(literal), 'incomplete', literal);
    }
  });

  it('every prefix of a literal closes to valid JSON', () => {
    const literal = "{'name': 'Ann', 'tags': [1, -2.5, None, '''x\"y'''], 3: {'deep': [True]}}";
    const full = toJson(literal);
    const points = Array.from(literal);
    for (let cut = 0; cut <= points.length; cut++) {
      const writer = new CompactJsonWriter();
      const lexer = new PythonLexer(writer);
      for (const ch of points.slice(0, cut)) lexer.push(ch);
      const written = writer.take();
      assert.ok(full.startsWith(written), `${cut}: ${written}`);
      if (writer.started) JSON.parse(written + writer.closing());
    }
  });
});

describe('pythonNumberToJson', () => {
  it('converts Python numbers and refuses the rest', () => {
    assert.equal(pythonNumberToJson('0xFF'), '255');
    assert.equal(pythonNumberToJson('+0.0'), '0.0');
    assert.equal(pythonNumberToJson('-00.5e0_1'), '-0.5e01');
    assert.equal(
      pythonNumberToJson('123456789012345678901234567890'),
      '123456789012345678901234567890',
    );
    for (const bad of ['', '-', '.', 'e5', '1_', '_1', '1.2.3', '0x1G', '1e+']) {
      assert.equal(pythonNumberToJson(bad), null, bad);
    }
  });
});
