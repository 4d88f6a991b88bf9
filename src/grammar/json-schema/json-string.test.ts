import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  alt,
  chars,
  grammarOf,
  literal,
  plus,
  repeat,
  seq,
  star,
  type Expr,
} from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { jsonSchemaGrammar } from './json-schema-grammar.ts';
import { encodeDecoded, quoted, textNotIn } from './json-string.ts';
import { lengthRange, restrictLength } from './length-restrict.ts';

const ajv = new Ajv2020({ strict: false });

/** Every string over `alphabet` up to `maxLength` characters. */
function allStrings(alphabet: string, maxLength: number): string[] {
  const result = [''];
  let layer = [''];
  for (let length = 1; length <= maxLength; length++) {
    layer = layer.flatMap((prefix) => [...alphabet].map((c) => prefix + c));
    result.push(...layer);
  }
  return result;
}

describe('string length with escapes', () => {
  const schema = { type: 'string', minLength: 2, maxLength: 3 };
  const grammar = jsonSchemaGrammar(schema, { anyWhitespace: false });
  const validate = ajv.compile(schema);

  it('counts an escape, a \\u escape and a surrogate pair as one character, as Ajv does', () => {
    for (const [text, want] of [
      ['"ab"', true],
      ['"a"', false],
      ['"abcd"', false],
      ['"\\n\\t"', true],
      ['"\\"\\\\\\/"', true],
      ['"\\u0041"', false],
      ['"\\u0041\\u00e9"', true],
      ['"\\ud83d\\ude00a"', true],
      ['"😀😀😀"', true],
      ['"😀😀😀😀"', false],
      ['"\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00"', false],
      ['"\\ud83da"', false], // a lone surrogate escape is never generated
      ['"a\u0001b"', false], // raw control character
      ['"a\\x"', false],
      ['"\\u12"', false],
    ] as const) {
      assert.equal(matchesGrammar(grammar, text), want, text);
      if (want) assert.ok(validate(JSON.parse(text)), text);
    }
  });

  it('random members decode to 2 or 3 code points and validate', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 300; seed++) {
      const member = randomMember(grammar, { seed })!;
      const value = JSON.parse(member) as string;
      assert.ok(validate(value), member);
      const length = [...value].length;
      assert.ok(length >= 2 && length <= 3, member);
      if (member.includes('\\u')) seen.add('u');
      if (/\\u[dD][89abAB]/.test(member)) seen.add('pair');
    }
    assert.deepEqual([...seen].sort(), ['pair', 'u']);
  });
});

describe('encodeDecoded', () => {
  it('writes decoded texts in the canonical JSON encoding, as JSON.stringify does', () => {
    const decoded = seq(literal('a"\\'), chars([[0, 0x7f]]), literal('\n\u2028é'));
    const grammar = grammarOf(quoted(encodeDecoded(decoded)));
    for (let c = 0; c <= 0x7f; c++) {
      const text = `a"\\${String.fromCharCode(c)}\n\u2028é`;
      assert.ok(matchesGrammar(grammar, JSON.stringify(text)), JSON.stringify(text));
    }
    assert.equal(matchesGrammar(grammar, '"a\\"\\\\\\u0041\\n\u2028é"'), false); // A as \u0041
    assert.equal(matchesGrammar(grammar, '"a\\"\\\\\u0001\\n\u2028é"'), false); // raw control
  });
});

describe('textNotIn', () => {
  it('is exactly the unescaped texts that differ from the names', () => {
    const names = ['', 'a', 'ab', 'ba', 'a"b'];
    const grammar = grammarOf(quoted(textNotIn(names)));
    for (const text of allStrings('ab"', 4)) {
      const want = !names.includes(text) && !text.includes('"');
      assert.equal(matchesGrammar(grammar, `"${text}"`), want, text);
    }
  });
});

describe('restrictLength', () => {
  const a = literal('a');
  const b = literal('b');
  const ab = chars([[0x61, 0x62]]);
  const cases: readonly (readonly [string, Expr])[] = [
    ['(a|b)*', star(ab)],
    ['a+b*a?', seq(plus(a), star(b), repeat(a, 0, 1))],
    ['(ab|a)*', star(alt(seq(a, b), a))],
    ['(a|bb)+b', seq(plus(alt(a, seq(b, b))), b)],
    ['a{2,5}|b+', alt(repeat(a, 2, 5), plus(b))],
    ['(ab*)*', star(seq(a, star(b)))],
  ];
  const texts = allStrings('ab', 9);

  it('keeps only members of the expression with a length in the interval', () => {
    for (const [name, expr] of cases) {
      const original = grammarOf(expr);
      for (const [lo, hi] of [
        [0, 3],
        [2, 4],
        [3, 3],
        [5, 8],
        [4, Infinity],
        [1, 1],
      ] as const) {
        const restricted = restrictLength(expr, lo, hi);
        if (restricted === null) continue;
        const grammar = grammarOf(restricted);
        let members = 0;
        for (const text of texts) {
          if (!matchesGrammar(grammar, text)) continue;
          members++;
          assert.ok(
            matchesGrammar(original, text),
            `${name} [${lo},${hi}]: ${text} not in the original`,
          );
          assert.ok(text.length >= lo && text.length <= hi, `${name} [${lo},${hi}]: ${text}`);
        }
        const originalHas = texts.some(
          (text) => text.length >= lo && text.length <= hi && matchesGrammar(original, text),
        );
        if (originalHas) assert.ok(members > 0, `${name} [${lo},${hi}] lost every member`);
      }
    }
  });

  it('is exact for one variable part and for fixed-width repeats', () => {
    const expr = seq(literal('x'), star(ab), literal('y'));
    const restricted = restrictLength(expr, 3, 5)!;
    assert.deepEqual(lengthRange(restricted), [3, 5]);
    const grammar = grammarOf(restricted);
    for (const text of allStrings('abxy', 6)) {
      const want = /^x[ab]*y$/.test(text) && text.length >= 3 && text.length <= 5;
      assert.equal(matchesGrammar(grammar, text), want, text);
    }
  });
});
