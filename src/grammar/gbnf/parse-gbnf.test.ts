import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrammarError } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { EXAMPLE_GRAMMARS } from '../testing/example-grammars.ts';
import { gbnfToGrammar } from './parse-gbnf.ts';

/** Asserts the verdict of `source`'s grammar on each string. */
function assertVerdicts(source: string, cases: Readonly<Record<string, boolean>>): void {
  const grammar = gbnfToGrammar(source);
  for (const [text, want] of Object.entries(cases)) {
    assert.equal(matchesGrammar(grammar, text), want, JSON.stringify(text));
  }
}

function assertError(source: string, message: string): void {
  assert.throws(
    () => gbnfToGrammar(source),
    (error: unknown) => error instanceof GrammarError && error.message === message,
    `${JSON.stringify(source)} should fail with ${message}`,
  );
}

describe('gbnfToGrammar on the example languages', () => {
  for (const example of EXAMPLE_GRAMMARS) {
    it(`${example.name}: the listed strings and 40 random members agree with the judge`, () => {
      const grammar = gbnfToGrammar(example.gbnf);
      for (const text of example.members) {
        assert.ok(example.judge(text), `judge rejects member ${JSON.stringify(text)}`);
        assert.ok(matchesGrammar(grammar, text), `grammar rejects ${JSON.stringify(text)}`);
      }
      for (const text of example.nonMembers) {
        assert.ok(!example.judge(text), `judge accepts non-member ${JSON.stringify(text)}`);
        assert.ok(!matchesGrammar(grammar, text), `grammar accepts ${JSON.stringify(text)}`);
      }
      const distinct = new Set<string>();
      for (let seed = 1; seed <= 40; seed++) {
        const member = randomMember(grammar, { seed });
        assert.ok(member !== null, `seed ${seed} hit an empty branch`);
        assert.ok(example.judge(member), `judge rejects ${JSON.stringify(member)}`);
        assert.ok(matchesGrammar(grammar, member), JSON.stringify(member));
        distinct.add(member);
      }
      assert.ok(distinct.size >= 10, `only ${distinct.size} distinct members`);
    });
  }
});

describe('gbnfToGrammar syntax', () => {
  it('reads literals with every escape', () => {
    const source = String.raw`root ::= "a\n\t\r\\\"\[\]\-\x41\u00e9\U0001F600"`;
    assertVerdicts(source, { 'a\n\t\r\\"[]-Aé😀': true, 'a\n\t\r\\"[]-Aé': false });
    assertVerdicts('root ::= "" "x" ""', { x: true, '': false });
    assertVerdicts('root ::= "two\nlines"', { 'two\nlines': true });
  });

  it('reads character classes: ranges, negation, escapes, a literal "-" at either end', () => {
    const source = String.raw`root ::= [a-c0-2] [^a-z\n] [-+] [x-] [\]\x41-\x43] [\u00e0-\u00e5]`;
    assertVerdicts(source, {
      'aA+x]ä': true,
      '2é--Bå': true,
      'a_+_Aà': false, // [x-] has no "_"
      'bq+xAà': false, // [^a-z\n] refuses "q"
      'b\n+xAà': false,
      'dA+xAà': false,
      'aA+x]æ': false,
    });
  });

  it('reads "." as any one character, newlines and astral characters included', () => {
    assertVerdicts('root ::= "<" . ">"', {
      '<a>': true,
      '<\n>': true,
      '<😀>': true,
      '<>': false,
      '<ab>': false,
    });
  });

  it('reads groups, alternation with empty alternatives and every quantifier', () => {
    assertVerdicts('root ::= ("a" | "b" |) "!"', {
      'a!': true,
      'b!': true,
      '!': true,
      'ab!': false,
    });
    assertVerdicts('root ::= "a"* "b"+ "c"?', { b: true, aabbc: true, ac: false, bcc: false });
    assertVerdicts('root ::= "a"{3}', { aaa: true, aa: false, aaaa: false });
    assertVerdicts('root ::= "a"{2,}', { aa: true, aaaaaaa: true, a: false });
    assertVerdicts('root ::= "a"{ 1 , 2 }', { a: true, aa: true, aaa: false, '': false });
    assertVerdicts('root ::= "a"{0,0} "b"', { b: true, ab: false });
    assertVerdicts('root ::= ("ab" [0-9]){2}', { ab1ab2: true, ab1: false });
  });

  it('reads comments, rules spanning lines, names with "-" and "_", and references in any order', () => {
    const source = [
      '# a comment before the first rule',
      'root ::= greeting-word # trailing comment',
      '  " " ( name_1',
      '  | "world" ) # still the root rule',
      'name_1 ::=',
      '  "bob"',
      'greeting-word::="hello"|"hi"',
    ].join('\n');
    assertVerdicts(source, { 'hello bob': true, 'hi world': true, 'hello ': false, hi: false });
  });

  it('names the start rule root, keeps GBNF names and drops rules root cannot reach', () => {
    const grammar = gbnfToGrammar('root ::= a\na ::= "x"\nunused ::= "y"');
    assert.equal(grammar.start, 'root');
    assert.deepEqual([...grammar.rules.keys()].sort(), ['a', 'root']);
  });
});

describe('gbnfToGrammar errors', () => {
  it('names an undefined rule where it is used', () => {
    assertError(
      'root ::= a\na ::= "x" |\n    "y" foo',
      'grammar: undefined rule "foo" (line 3, column 9)',
    );
  });

  it('refuses a grammar without root and a rule defined twice', () => {
    assertError('start ::= "x"', 'grammar: there is no "root" rule (the start rule)');
    assertError(
      'root ::= "x"\nroot ::= "y"',
      'grammar: rule "root" is defined more than once (line 2, column 1)',
    );
  });

  it('refuses unterminated literals and classes at their start', () => {
    assertError('root ::= "abc\n', 'grammar: unterminated string literal (line 1, column 10)');
    assertError('root ::= "a" [a-z', 'grammar: unterminated character class (line 1, column 14)');
    assertError('root ::= "\\', 'grammar: bad escape at the end of the text (line 1, column 11)');
  });

  it('refuses bad escapes', () => {
    assertError('root ::= "\\q"', 'grammar: bad escape "\\q" (line 1, column 11)');
    assertError('root ::= [\\d]', 'grammar: bad escape "\\d" (line 1, column 11)');
    assertError(
      'root ::= "\\x4"',
      'grammar: bad escape "\\x4": expected 2 hex digits (line 1, column 11)',
    );
    assertError(
      'root ::= "\\U00110000"',
      'grammar: bad escape "\\U00110000": beyond U+10FFFF (line 1, column 11)',
    );
    assertError(
      'root ::= "\\uD800"',
      'grammar: a string literal cannot contain a surrogate code point (line 1, column 11)',
    );
  });

  it('refuses impossible repetitions and ranges', () => {
    assertError(
      'root ::= "a"{3,1}',
      'grammar: invalid repetition {3,1}: the maximum is less than the minimum (line 1, column 13)',
    );
    assertError(
      'root ::= "a"{,2}',
      'grammar: expected a number in the repetition (line 1, column 14)',
    );
    assertError(
      'root ::= "a"{2',
      'grammar: expected "}" to close the repetition (line 1, column 15)',
    );
    assertError(
      'root ::= [z-a]',
      'grammar: invalid character range "z-a": its end comes before its start (line 1, column 11)',
    );
  });

  it('refuses unexpected characters, stray quantifiers and unbalanced parentheses', () => {
    assertError('root ::= "a" @', 'grammar: unexpected character "@" (line 1, column 14)');
    assertError(
      'root ::= * "a"',
      'grammar: quantifier "*" has nothing to repeat (line 1, column 10)',
    );
    assertError('root ::= ("a" | "b"\nx ::= "c"', 'grammar: unclosed "(" (line 1, column 10)');
    assertError(
      'root ::= "a")',
      'grammar: unexpected ")" with no "(" before it (line 1, column 13)',
    );
    assertError(
      'root = "a"',
      'grammar: expected "::=" after the rule name "root" (line 1, column 6)',
    );
    assertError('"a" ::= "b"', 'grammar: expected a rule name, found "\\"" (line 1, column 1)');
  });

  it('refuses groups nested deeper than 200 (found by the fuzzer: a stack overflow, a 500)', () => {
    const nested = (depth: number) => `root ::= ${'('.repeat(depth)}"a"${')'.repeat(depth)}`;
    assertVerdicts(nested(200), { a: true, b: false });
    assertError(
      nested(201),
      'grammar: groups nested deeper than 200 are not supported (line 1, column 210)',
    );
    assert.throws(() => gbnfToGrammar(nested(20_000)), GrammarError);
  });
});
