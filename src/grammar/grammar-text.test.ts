import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrammarError } from './grammar-ir.ts';
import { grammarFromText } from './grammar-text.ts';
import { randomMember } from './random-member.ts';
import { matchesGrammar } from './reference-matcher.ts';
import { EXAMPLE_GRAMMARS } from './testing/example-grammars.ts';

/** Near misses of `text`: a character dropped at either end, one doubled, two swapped. */
function mutations(text: string): string[] {
  const c = Array.from(text);
  const middle = c.length >> 1;
  const swapped = [...c];
  if (c.length >= 2) [swapped[middle - 1], swapped[middle]] = [c[middle]!, c[middle - 1]!];
  return [
    c.slice(1).join(''),
    c.slice(0, -1).join(''),
    [...c.slice(0, middle + 1), ...c.slice(middle)].join(''),
    swapped.join(''),
  ];
}

describe('grammarFromText', () => {
  it('reads GBNF when a line defines a rule with "::=", Lark otherwise', () => {
    assert.equal(grammarFromText('root ::= "a"').start, 'root');
    assert.equal(grammarFromText('# comment\n  answer-1::= "b"\nroot ::= answer-1').start, 'root');
    assert.equal(grammarFromText('start: "a"').start, 'start');
    assert.equal(grammarFromText('start: "x ::= y"').start, 'start');
  });

  it('refuses an empty or blank text', () => {
    for (const source of ['', '  \n\t ']) {
      assert.throws(
        () => grammarFromText(source),
        (error: unknown) =>
          error instanceof GrammarError && error.message === 'grammar cannot be an empty string',
      );
    }
  });

  it("passes on each syntax's errors", () => {
    assert.throws(() => grammarFromText('root ::= foo'), {
      name: 'GrammarError',
      message: 'grammar: undefined rule "foo" (line 1, column 10)',
    });
    assert.throws(() => grammarFromText('start: foo'), {
      name: 'GrammarError',
      message: 'grammar: undefined rule "foo" (line 1, column 8)',
    });
  });

  for (const example of EXAMPLE_GRAMMARS) {
    it(`${example.name}: GBNF, Lark and the judge give the same verdicts`, () => {
      const gbnf = grammarFromText(example.gbnf);
      const lark = grammarFromText(example.lark);
      assert.equal(gbnf.start, 'root');
      assert.equal(lark.start, 'start');
      const texts = new Set([...example.members, ...example.nonMembers]);
      for (let seed = 1; seed <= 30; seed++) {
        for (const grammar of [gbnf, lark]) {
          const member = randomMember(grammar, { seed });
          assert.ok(member !== null);
          texts.add(member);
          for (const near of mutations(member)) texts.add(near);
        }
      }
      let rejected = 0;
      for (const text of texts) {
        const want = example.judge(text);
        assert.equal(matchesGrammar(gbnf, text), want, `GBNF on ${JSON.stringify(text)}`);
        assert.equal(matchesGrammar(lark, text), want, `Lark on ${JSON.stringify(text)}`);
        if (!want) rejected++;
      }
      assert.ok(rejected >= 10, `only ${rejected} of ${texts.size} strings are non-members`);
    });
  }
});
