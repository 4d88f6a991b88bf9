import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrammarError } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { EXAMPLE_GRAMMARS } from '../testing/example-grammars.ts';
import { larkToGrammar } from './parse-lark.ts';

/** Asserts the verdict of `source`'s grammar on each string. */
function assertVerdicts(source: string, cases: Readonly<Record<string, boolean>>): void {
  const grammar = larkToGrammar(source);
  for (const [text, want] of Object.entries(cases)) {
    assert.equal(matchesGrammar(grammar, text), want, JSON.stringify(text));
  }
}

function assertError(source: string, message: string): void {
  assert.throws(
    () => larkToGrammar(source),
    (error: unknown) => error instanceof GrammarError && error.message === message,
    `${JSON.stringify(source)} should fail with ${message}`,
  );
}

describe('larkToGrammar on the example languages', () => {
  for (const example of EXAMPLE_GRAMMARS) {
    it(`${example.name}: the listed strings and 40 random members agree with the judge`, () => {
      const grammar = larkToGrammar(example.lark);
      for (const text of example.members) {
        assert.ok(matchesGrammar(grammar, text), `grammar rejects ${JSON.stringify(text)}`);
      }
      for (const text of example.nonMembers) {
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

/** What each `%import common.NAME` means, as a JavaScript RegExp. */
const COMMON_JUDGES: Readonly<Record<string, RegExp>> = {
  DIGIT: /^[0-9]$/,
  HEXDIGIT: /^[0-9a-fA-F]$/,
  INT: /^[0-9]+$/,
  SIGNED_INT: /^[+-]?[0-9]+$/,
  DECIMAL: /^(?:[0-9]+\.[0-9]*|\.[0-9]+)$/,
  FLOAT: /^(?:[0-9]+[eE][+-]?[0-9]+|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/,
  SIGNED_FLOAT: /^[+-]?(?:[0-9]+[eE][+-]?[0-9]+|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/,
  NUMBER: /^(?:[0-9]+(?:[eE][+-]?[0-9]+)?|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/,
  SIGNED_NUMBER:
    /^[+-]?(?:[0-9]+(?:[eE][+-]?[0-9]+)?|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/,
  ESCAPED_STRING: /^"(?:[^"\\\n]|\\[^\n])*"$/u,
  LCASE_LETTER: /^[a-z]$/,
  UCASE_LETTER: /^[A-Z]$/,
  LETTER: /^[a-zA-Z]$/,
  WORD: /^[a-zA-Z]+$/,
  CNAME: /^[a-zA-Z_][a-zA-Z0-9_]*$/,
  WS_INLINE: /^[ \t]+$/,
  WS: /^[ \t\f\r\n]+$/,
  CR: /^\r$/,
  LF: /^\n$/,
  NEWLINE: /^(?:\r?\n)+$/,
};

describe('larkToGrammar imports from common', () => {
  for (const [name, judge] of Object.entries(COMMON_JUDGES)) {
    it(`common.${name}: 30 random members match its meaning`, () => {
      const grammar = larkToGrammar(`start: ${name}\n%import common.${name}`);
      for (let seed = 1; seed <= 30; seed++) {
        const member = randomMember(grammar, { seed });
        assert.ok(member !== null && judge.test(member), JSON.stringify(member));
        if (/NUMBER|FLOAT|DECIMAL|INT/.test(name)) {
          assert.ok(!Number.isNaN(Number(member)), `Number() refuses ${member}`);
        }
      }
    });
  }

  it('the numeric terminals accept and refuse what their names say', () => {
    const verdicts = (name: string, texts: readonly string[]): boolean[] => {
      const grammar = larkToGrammar(`start: ${name}\n%import common.${name}`);
      return texts.map((text) => matchesGrammar(grammar, text));
    };
    const texts = ['12', '-12', '+1.5', '1.', '.5', '1e5', '1.5E-3', '.', 'e5', '1e', '0x1', ''];
    assert.deepEqual(verdicts('INT', texts), [
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    assert.deepEqual(verdicts('NUMBER', texts), [
      true,
      false,
      false,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    assert.deepEqual(verdicts('SIGNED_NUMBER', texts), [
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    assert.deepEqual(verdicts('FLOAT', texts), [
      false,
      false,
      false,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('ESCAPED_STRING takes escaped quotes and backslashes, not raw newlines', () => {
    assertVerdicts('start: ESCAPED_STRING\n%import common.ESCAPED_STRING', {
      '"a \\"b\\" \\\\"': true,
      '""': true,
      '"a" b"': false,
      '"a\\"': false,
      '"a\nb"': false,
    });
  });

  it('reads the list form and aliases', () => {
    assertVerdicts(
      'start: WORD WS_INLINE NUM\n%import common (WORD, WS_INLINE)\n%import common.INT -> NUM',
      {
        'abc 12': true,
        'abc\t 3': true,
        abc12: false,
      },
    );
  });
});

describe('larkToGrammar syntax', () => {
  it('continues a definition on lines starting with "|", across blank and comment lines', () => {
    const source = [
      'start: "a"',
      '     | "b" // a comment',
      '',
      '     // another one',
      '     | "c" "d"',
      'other: "x"',
    ].join('\n');
    assertVerdicts(source, { a: true, b: true, cd: true, c: false, x: false });
  });

  it('reads optional items, groups and every quantifier', () => {
    assertVerdicts('start: "a" ["b" | "c"] ("d" "e")*', {
      a: true,
      ab: true,
      acdede: true,
      abc: false,
    });
    assertVerdicts('start: "a"+ "b"? "c"*', { a: true, aabcc: true, b: false });
    assertVerdicts('start: "ab" ~ 2', { abab: true, ab: false, ababab: false });
    assertVerdicts('start: "a" ~ 1..3 "b"~0..1', { a: true, aaab: true, aaaa: false, '': false });
  });

  it('reads empty alternatives, character ranges and string escapes', () => {
    assertVerdicts('start: "x" ("y" |)', { x: true, xy: true });
    assertVerdicts('start: "a".."c" "0".."1"', { a0: true, c1: true, d1: false, a2: false });
    const escapes = String.raw`start: "\n\t\r\f\\\"\x41\u00e9\U0001F600"`;
    assertVerdicts(escapes, { '\n\t\r\f\\"Aé😀': true, '\n\t\r\f\\"Aé': false });
    // Lark keeps a backslash that starts no escape it knows.
    assertVerdicts(String.raw`start: "\d\'"`, { "\\d\\'": true, d: false });
  });

  it('reads regex terminals, inline or named, with "\\/" for a slash', () => {
    assertVerdicts(
      String.raw`start: PATH "?" /[a-z]=\d{2}/
PATH: /[a-z]+(\/[a-z]+)*/`,
      {
        'usr/bin?q=12': true,
        'usr?a=00': true,
        'usr//bin?q=12': false,
        'usr/bin?q=1': false,
      },
    );
  });

  it('ignores rule prefixes, priorities and aliases', () => {
    const source = [
      '?start: greeting',
      '!greeting.2: "hi" NAME -> hello',
      '           | "bye" -> bye',
      'NAME.3: "bob" | "al"',
    ].join('\n');
    assertVerdicts(source, { hibob: true, hial: true, bye: true, byebob: false });
  });

  it('names the start rule start, keeps Lark names and drops what start cannot reach', () => {
    const grammar = larkToGrammar('start: item\nitem: INT\nunused: "y"\n%import common (INT, WS)');
    assert.equal(grammar.start, 'start');
    assert.deepEqual([...grammar.rules.keys()].sort(), ['INT', 'item', 'start']);
  });
});

describe('larkToGrammar errors', () => {
  it('names an undefined rule or terminal where it is used', () => {
    assertError(
      'start: a\na: "x"\n  | "y" foo',
      'grammar: undefined rule "foo" (line 3, column 9)',
    );
    assertError('start: "x" WS', 'grammar: undefined terminal "WS" (line 1, column 12)');
  });

  it('refuses a grammar without start and a name defined twice', () => {
    assertError('root: "x"', 'grammar: there is no "start" rule (the start rule)');
    assertError(
      'start: A\nA: "x"\n%import common.INT -> A',
      'grammar: "A" is defined more than once (line 3, column 16)',
    );
  });

  it('refuses unterminated literals and regular expressions', () => {
    assertError('start: "abc\n', 'grammar: unterminated string literal (line 1, column 8)');
    assertError(
      'start: "a" /[a-z]+',
      'grammar: unterminated regular expression (line 1, column 12)',
    );
    assertError(
      'start: "\\x4"',
      'grammar: bad escape "\\x4": expected 2 hex digits (line 1, column 9)',
    );
  });

  it('refuses flags on literals and regular expressions', () => {
    assertError(
      'start: "a" "b"i',
      'grammar: case-insensitive literals ("..."i) are not supported (line 1, column 12)',
    );
    assertError(
      'start: A\nA: /a+/im',
      'grammar: regular expression flags ("im") are not supported (line 2, column 4)',
    );
  });

  it("passes on the regex parser's refusals with the position of the regex", () => {
    assertError(
      'start: "x" /a(/',
      'grammar: in /a(/: regex: unbalanced parenthesis: missing ) (at 1) (line 1, column 12)',
    );
    assertError(
      'start: A\nA: /a\\/b/ /\\1/',
      'grammar: in /\\1/: regex: backreference is not supported (at 0) (line 2, column 11)',
    );
  });

  it('refuses %ignore, other directives and imports it does not define', () => {
    assertError(
      'start: WORD\n%import common.WORD\n%ignore " "',
      'grammar: %ignore is not supported: the output is exactly the text the grammar describes, ' +
        'so write optional whitespace into the rules where it may appear (line 3, column 1)',
    );
    assertError('start: A\n%declare A', 'grammar: %declare is not supported (line 2, column 1)');
    assertError(
      'start: A\n%import python.NAME',
      'grammar: only imports from Lark\'s "common" module are supported (line 2, column 9)',
    );
    assertError(
      'start: A\n%import common.C_COMMENT',
      `grammar: "common.C_COMMENT" is not supported; the supported terminals are DIGIT, HEXDIGIT, INT, SIGNED_INT, DECIMAL, FLOAT, SIGNED_FLOAT, NUMBER, SIGNED_NUMBER, ESCAPED_STRING, LCASE_LETTER, UCASE_LETTER, LETTER, WORD, CNAME, WS_INLINE, WS, CR, LF, NEWLINE (line 2, column 16)`,
    );
  });

  it('refuses impossible repetitions, bad ranges and templates', () => {
    assertError(
      'start: "a" ~ 3..1',
      'grammar: invalid repetition ~ 3..1: the maximum is less than the minimum (line 1, column 12)',
    );
    assertError(
      'start: "ab".."z"',
      'grammar: a range "a".."z" needs one character at each end (line 1, column 8)',
    );
    assertError('start: "z".."a"', 'grammar: range end comes before its start (line 1, column 8)');
    assertError(
      'pair{x}: x x\nstart: pair{"a"}',
      'grammar: rule templates are not supported (line 1, column 5)',
    );
  });

  it('refuses unexpected characters and tokens, unclosed groups and mixed-case names', () => {
    assertError('start: "a" @', 'grammar: unexpected character "@" (line 1, column 12)');
    assertError('start: "a"**', 'grammar: unexpected "*" (line 1, column 12)');
    assertError('start: ("a" | "b"\nx: "c"', 'grammar: unclosed "(" (line 1, column 8)');
    assertError('start: ["a" : ]', 'grammar: unexpected ":", expected "]" (line 1, column 13)');
    assertError(
      'start "a"',
      'grammar: unexpected string "a", expected ":" after "start" (line 1, column 7)',
    );
    assertError(
      'start: myRule',
      'grammar: "myRule" is neither a rule name (lowercase) nor a terminal name (uppercase) (line 1, column 8)',
    );
    assertError(
      '| "a"',
      'grammar: unexpected "|", expected a rule or terminal name (line 1, column 1)',
    );
  });

  it('refuses groups nested deeper than 200 (found by the fuzzer: a stack overflow, a 500)', () => {
    const nested = (depth: number, open = '(', close = ')') =>
      `start: ${open.repeat(depth)}"a"${close.repeat(depth)}`;
    assertVerdicts(nested(200), { a: true, b: false });
    assertVerdicts(nested(200, '[', ']'), { a: true, '': true });
    assertError(
      nested(201),
      'grammar: groups nested deeper than 200 are not supported (line 1, column 208)',
    );
    assert.throws(() => larkToGrammar(nested(20_000, '[', ']')), GrammarError);
  });
});
