import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alt,
  chars,
  GrammarBuilder,
  grammarOf,
  literal,
  optional,
  ref,
  repeat,
  seq,
  star,
} from './grammar-ir.ts';
import { randomMember } from './random-member.ts';
import { matchesGrammar } from './reference-matcher.ts';

describe('matchesGrammar', () => {
  it('matches literals, classes, sequences, alternations and bounded repeats as RegExp does', () => {
    const digit = chars([[0x30, 0x39]]);
    const grammar = grammarOf(
      seq(alt(literal('ab'), literal('c')), repeat(digit, 2, 3), optional(literal('é'))),
    );
    const regexp = /^(?:ab|c)[0-9]{2,3}(?:é)?$/u;
    for (const text of ['ab12', 'c123', 'c1234', 'ab1', 'c12é', 'x12', '', 'ab', 'c99é', 'c99éé']) {
      assert.equal(matchesGrammar(grammar, text), regexp.test(text), text);
    }
  });

  it('handles recursion (balanced brackets) and repeats of what may match empty', () => {
    const builder = new GrammarBuilder();
    const name = builder.reserve('brackets');
    builder.set(name, star(seq(literal('['), ref(name), literal(']'))));
    const grammar = builder.build(ref(name));
    for (const [text, want] of [
      ['', true],
      ['[]', true],
      ['[[]][]', true],
      ['[[]', false],
      ['][', false],
    ] as const) {
      assert.equal(matchesGrammar(grammar, text), want, text);
    }
    const emptyRepeat = grammarOf(star(optional(literal('a'))));
    assert.equal(matchesGrammar(emptyRepeat, 'aaa'), true);
    assert.equal(matchesGrammar(emptyRepeat, 'aab'), false);
  });
});

describe('randomMember', () => {
  it('draws members of the language, recursive grammars included', () => {
    const builder = new GrammarBuilder();
    const name = builder.reserve('brackets');
    builder.set(name, star(seq(literal('['), ref(name), literal(']'))));
    const grammar = builder.build(seq(ref(name), repeat(chars([[0x61, 0x7a]]), 1, 4)));
    const regexp = /^[[\]]*[a-z]{1,4}$/u;
    const seen = new Set<string>();
    for (let seed = 1; seed <= 200; seed++) {
      const member = randomMember(grammar, { seed });
      assert.ok(member !== null);
      assert.ok(regexp.test(member), member);
      assert.ok(matchesGrammar(grammar, member), member);
      seen.add(member);
    }
    assert.ok(seen.size > 100, `only ${seen.size} distinct members`);
  });
});
