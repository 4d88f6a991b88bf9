import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonLexer, type LexStatus } from './json-lexer.ts';
import { CompactJsonWriter } from './json-writer.ts';

/** Feeds `text`; returns the written JSON, the last status and how many code points were eaten. */
function lex(text: string): { json: string; status: LexStatus | 'end'; eaten: number } {
  const writer = new CompactJsonWriter();
  const lexer = new JsonLexer(writer);
  let eaten = 0;
  for (const ch of text) {
    const status = lexer.push(ch);
    if (status === 'error' || status === 'done-before')
      return { json: writer.take(), status, eaten };
    eaten++;
    if (status === 'done') return { json: writer.take(), status, eaten };
  }
  const complete = lexer.end();
  return { json: writer.take(), status: complete ? 'done' : 'end', eaten };
}

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
}

const STRING_PIECES = ['a', 'Z', ' ', 'é', '🌍', '\\"', '\\\\', '\\n', '\\u00e9', '\\/', 'é"'];

/** Random JSON text with random (legal) whitespace. */
function randomJson(random: () => number, depth: number): string {
  const ws = (): string => [' ', '', '\n  ', '\t'][Math.floor(random() * 4)] ?? '';
  const pick = Math.floor(random() * (depth > 3 ? 4 : 6));
  switch (pick) {
    case 0: {
      const numbers = ['0', '-1', '12.5', '3e7', '-0.25E-3', '1234567890123456789'];
      return numbers[Math.floor(random() * numbers.length)] ?? '0';
    }
    case 1:
      return ['true', 'false', 'null'][Math.floor(random() * 3)] ?? 'null';
    case 2:
    case 3: {
      let text = '';
      const length = Math.floor(random() * 5);
      for (let i = 0; i < length; i++) {
        const piece = STRING_PIECES[Math.floor(random() * STRING_PIECES.length)] ?? 'a';
        text += piece === 'é"' ? 'é' : piece;
      }
      return `"${text}"`;
    }
    case 4: {
      const items = Array.from(
        { length: Math.floor(random() * 4) },
        () => ws() + randomJson(random, depth + 1) + ws(),
      );
      return `[${items.join(',')}${items.length === 0 ? ws() : ''}]`;
    }
    default: {
      const entries = Array.from(
        { length: Math.floor(random() * 4) },
        (_, i) => `${ws()}"k${i}"${ws()}:${ws()}${randomJson(random, depth + 1)}${ws()}`,
      );
      return `{${entries.join(',')}}`;
    }
  }
}

describe('JsonLexer + CompactJsonWriter', () => {
  it('writes valid JSON compactly, escapes kept as written', () => {
    const text = '{ "a" : [1, -2.5e3, true, null, "x\\"y\\u00e9"], "b": {}, "c": [ ] }';
    assert.deepEqual(lex(text), {
      json: '{"a":[1,-2.5e3,true,null,"x\\"y\\u00e9"],"b":{},"c":[]}',
      status: 'done',
      eaten: Array.from(text).length,
    });
  });

  it('agrees with JSON.parse on random valid documents, and every prefix can be closed', () => {
    const random = seededRandom(7);
    for (let n = 0; n < 300; n++) {
      const text = randomJson(random, 0);
      const whole = lex(text);
      assert.equal(whole.status, 'done', text);
      assert.deepEqual(JSON.parse(whole.json), JSON.parse(text), text);
      const points = Array.from(text);
      for (let cut = 0; cut <= points.length; cut++) {
        const writer = new CompactJsonWriter();
        const lexer = new JsonLexer(writer);
        for (const ch of points.slice(0, cut)) lexer.push(ch);
        const written = writer.take();
        assert.ok(whole.json.startsWith(written), `written text is final: ${text} @${cut}`);
        if (writer.started) JSON.parse(written + writer.closing());
        else assert.equal(written, '');
      }
    }
  });

  it('rejects invalid JSON at the first character that shows it (numbers when they end)', () => {
    const invalid: [string, number][] = [
      ['{a: 1}', 1],
      ["{'a': 1}", 1],
      ['[1, 2,]', 6],
      ['{"a" 1}', 5],
      ['{"a": 1,}', 8],
      ['[01]', 3],
      ['[1.]', 3],
      ['[-]', 2],
      ['[tru]', 4],
      ['"\\x41"', 2],
      ['"\\u12G4"', 5],
      ['[1 2]', 3],
      ['{"a": 1]', 7],
      ['[NaN]', 1],
    ];
    for (const [text, at] of invalid) {
      assert.throws(() => JSON.parse(text) as unknown, SyntaxError, text);
      const result = lex(text);
      assert.equal(result.status, 'error', text);
      assert.equal(result.eaten, at, text);
    }
  });

  it('reports an incomplete value at the end, and completes a trailing number', () => {
    assert.equal(lex('{"a": [1').status, 'end');
    assert.deepEqual(lex('  42'), { json: '42', status: 'done', eaten: 4 });
    assert.deepEqual(lex('42 '), { json: '42', status: 'done-before', eaten: 2 });
  });

  it('accepts raw control characters inside strings and escapes them', () => {
    assert.equal(lex('"a\tb\nc\u0001"').json, '"a\\tb\\nc\\u0001"');
  });

  it('closes what was written: strings, dangling keys, containers', () => {
    const closings: [string, string][] = [
      ['{"a": "xy', '{"a":"xy"}'],
      ['{"a": ', '{"a":null}'],
      ['{"a": 1, "b', '{"a":1}'],
      ['[[1, {"k": [', '[[1,{"k":[]}]]'],
      ['["a\\', '["a"]'],
      ['["\\u00', '[""]'],
      ['[1, tr', '[1]'],
    ];
    for (const [prefix, closed] of closings) {
      const writer = new CompactJsonWriter();
      const lexer = new JsonLexer(writer);
      for (const ch of prefix) lexer.push(ch);
      assert.equal(writer.take() + writer.closing(), closed, prefix);
    }
  });
});
