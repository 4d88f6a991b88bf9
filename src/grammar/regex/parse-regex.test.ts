import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY, grammarOf, GrammarError, literal } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { regexToExpr } from './parse-regex.ts';

/**
 * Realistic patterns. Each is judged by two independent RegExps: JavaScript's own reading, and
 * Python's emulated (`pythonReading`, or `python` where a negated shorthand sits in a class).
 */
const CORPUS: readonly { readonly source: string; readonly python?: string }[] = [
  { source: String.raw`\d{3}-\d{4}` },
  { source: String.raw`\(\d{3}\) \d{3}-\d{4}` },
  { source: String.raw`\+?[1-9]\d{1,14}` },
  { source: String.raw`^\d{4}-\d{2}-\d{2}$` },
  { source: String.raw`(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12]\d|3[01])` },
  { source: String.raw`([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?` },
  { source: String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})` },
  { source: String.raw`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}` },
  { source: String.raw`^\S+@\S+\.\S+$` },
  { source: String.raw`((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)` },
  { source: String.raw`#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})` },
  { source: String.raw`[A-Za-z_][A-Za-z0-9_]*` },
  { source: String.raw`\w+` },
  {
    source: String.raw`(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`,
  },
  { source: String.raw`[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}` },
  { source: String.raw`https?://[a-z0-9.-]+(:\d{1,5})?(/[\w.~-]*)*(\?[\w=&%-]*)?` },
  { source: String.raw`\$\d{1,3}(,\d{3})*(\.\d{2})?` },
  { source: String.raw`-?\d+(\.\d+)?([eE][+-]?\d+)?` },
  { source: String.raw`\d{5}(-\d{4})?` },
  { source: String.raw`[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}` },
  { source: String.raw`[A-Z]\d[A-Z] ?\d[A-Z]\d` },
  { source: String.raw`[À-ÿ]+( [À-ÿ]+)*` },
  { source: String.raw`[\u4e00-\u9fff]{2,6}` },
  { source: String.raw`(😀|🎉|\u{1F680})+` },
  { source: String.raw`Привет, [а-яё]+!` },
  { source: String.raw`((a|b)(c|d)?)+e{0,2}` },
  { source: String.raw`(|a|bc)(x|)` },
  { source: String.raw`a|` },
  { source: String.raw`(?:ab){2,}c{1,3}d*?e+?f??g{2,3}?` },
  { source: String.raw`[\t\n\r ]*` },
  { source: String.raw`[^\s,]+(,[^\s,]+)*` },
  { source: String.raw`\s*(yes|no)\s*` },
  { source: String.raw`[\w.-]+` },
  { source: String.raw`[\[\]\\^$.|?*+(){}]+` },
  { source: String.raw`\x41\u0042\u{43}\0?\/\.` },
  { source: String.raw`[^"\\\n]*` },
  { source: String.raw`"([^"\\]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"` },
  { source: String.raw`(true|false|null)` },
  { source: String.raw`.{3,8}` },
  { source: String.raw`(\W+|\d+)` },
  { source: String.raw`\D{2}\d` },
  { source: String.raw`[-a-z]+-?[+]` },
  { source: String.raw`[a-c-e]+` },
  { source: String.raw`\d+(\.\d+)?%` },
  { source: String.raw`[A-Z]{3} \d{1,3}(\.\d{3})*,\d{2}` },
  { source: '' },
  { source: String.raw`x{0}y{1}z{2,2}` },
  { source: String.raw`(a|b)*abb` },
  { source: String.raw`\-\d+\ ?\_` },
  { source: String.raw`[\d\s]+` },
  { source: String.raw`[\b]?a` },
  { source: String.raw`(?<word>[a-z]+)(?: (?<more>[a-z]+))*` },
  { source: String.raw`.*` },
  { source: String.raw`\S+` },
  { source: String.raw`[\s\S]{1,4}`, python: String.raw`[\0-\u{10FFFF}]{1,4}` },
  { source: String.raw`[^\d\W]+`, python: String.raw`(?:(?!\p{Nd})[\p{L}\p{N}_])+` },
  { source: String.raw`[^\D]+`, python: String.raw`\p{Nd}+` },
];

/** Python's `\s` (str.isspace) as the inside of a JavaScript class. */
const PY_SPACE = String.raw`\t-\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;

/** JavaScript (`u` flag) spellings of Python's shorthands, outside and inside a class. */
const PY_SHORTHAND: Readonly<Record<string, readonly [outside: string, inside: string | null]>> = {
  d: [String.raw`\p{Nd}`, String.raw`\p{Nd}`],
  D: [String.raw`\P{Nd}`, String.raw`\P{Nd}`],
  w: [String.raw`[\p{L}\p{N}_]`, String.raw`\p{L}\p{N}_`],
  W: [String.raw`[^\p{L}\p{N}_]`, null],
  s: [`[${PY_SPACE}]`, PY_SPACE],
  S: [`[^${PY_SPACE}]`, null],
};

/** The pattern with Python's meaning of `.` and the shorthands (in JavaScript syntax). */
function pythonReading(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[++i]!;
      const shorthand = PY_SHORTHAND[next];
      if (shorthand === undefined) out += c + next;
      else if (!inClass) out += shorthand[0];
      else if (shorthand[1] !== null) out += shorthand[1];
      else throw new Error(`give ${source} an explicit Python reading`);
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass && !/\[\^?$/.test(out)) inClass = false;
    out += c === '.' && !inClass ? '[^\\n]' : c;
  }
  return out;
}

/** The whole-match RegExp for `source`: anchors dropped, `(?P<` renamed, escapes `u` refuses. */
function wholeMatch(source: string): RegExp {
  let body = source.replace(/^\^/, '').replace(/(?<!\\)((?:\\\\)*)\$$/, '$1');
  body = body.replaceAll('(?P<', '(?<');
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[++i]!;
      const allowed = inClass ? '^$\\.*+?()[]{}|/-' : '^$\\.*+?()[]{}|/';
      const refused = /[ -~]/.test(next) && !/[A-Za-z0-9]/.test(next) && !allowed.includes(next);
      out += refused ? `\\x${next.charCodeAt(0).toString(16).padStart(2, '0')}` : c + next;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    out += c;
  }
  return new RegExp(`^(?:${out})$`, 'u');
}

/** Code points a mutation may bring in: ASCII, and the ones where the engines' readings differ. */
const POOL = [
  ...Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)),
  ...'\t\n\r\x1c\x85\xa0\u2028\u3000\ufeff_éж中٣€😀',
];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Three edits of `member` (insert, delete, replace one code point). */
function mutants(member: string, random: () => number): string[] {
  const points = Array.from(member);
  const pick = (): string =>
    points.length > 0 && random() < 0.4
      ? points[Math.floor(random() * points.length)]!
      : POOL[Math.floor(random() * POOL.length)]!;
  const at = (extra: number): number => Math.floor(random() * (points.length + extra));
  const edit = (index: number, remove: number, insert: string[]): string =>
    points.toSpliced(index, remove, ...insert).join('');
  const result = [edit(at(1), 0, [pick()])];
  if (points.length > 0) result.push(edit(at(0), 1, []), edit(at(0), 1, [pick()]));
  return result;
}

/** What `run` throws (undefined when it returns). */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('regexToExpr on realistic patterns', () => {
  let accepted = 0;
  let rejected = 0;
  for (const [index, entry] of CORPUS.entries()) {
    it(`agrees with JavaScript's and Python's readings: ${entry.source || '(empty)'}`, () => {
      const grammar = grammarOf(regexToExpr(entry.source));
      const javascript = wholeMatch(entry.source);
      const python = wholeMatch(entry.python ?? pythonReading(entry.source));
      const judge = (s: string): boolean => javascript.test(s) && python.test(s);
      const random = mulberry32(1000 + index);
      for (let seed = 1; seed <= 30; seed++) {
        const member = randomMember(grammar, { seed: seed * 7919 + index });
        assert.ok(member !== null, `seed ${seed} reached an empty branch`);
        assert.ok(judge(member), `member ${JSON.stringify(member)}`);
        for (const text of mutants(member, random)) {
          const want = judge(text);
          if (want) accepted++;
          else rejected++;
          assert.equal(matchesGrammar(grammar, text), want, `mutant ${JSON.stringify(text)}`);
        }
      }
    });
  }

  it('covers at least 40 patterns, and mutants fall on both sides', () => {
    assert.ok(CORPUS.length >= 40);
    assert.ok(accepted > 1000 && rejected > 2000, `${accepted} accepted, ${rejected} rejected`);
  });
});

describe('regexToExpr readings', () => {
  const member = (source: string, text: string): boolean =>
    matchesGrammar(grammarOf(regexToExpr(source)), text);

  it('builds small expressions: merged literals, anchors dropped, lazy as greedy', () => {
    assert.deepEqual(regexToExpr('abc'), literal('abc'));
    assert.deepEqual(regexToExpr(String.raw`^a\.(?:b)\u{1F600}$`), literal('a.b😀'));
    assert.deepEqual(regexToExpr(''), EMPTY);
    assert.deepEqual(regexToExpr('^$'), EMPTY);
    assert.deepEqual(regexToExpr('a*?b{2,}?'), regexToExpr('a*b{2,}'));
    assert.deepEqual(regexToExpr('(?P<x>a)|(?<y>b)'), regexToExpr('a|b'));
    assert.deepEqual(regexToExpr(String.raw`a\$`), literal('a$'));
  });

  it('reads the shorthands and `.` narrowly where JavaScript and Python differ', () => {
    assert.equal(member(String.raw`\d`, '٣'), false);
    assert.equal(member(String.raw`\D`, '٣'), false);
    assert.equal(member(String.raw`\w`, 'é'), false);
    assert.equal(member(String.raw`\W`, 'é'), false);
    assert.equal(member(String.raw`\W`, '€'), true);
    assert.equal(member(String.raw`\s`, '\ufeff'), false);
    assert.equal(member(String.raw`\s`, '\x85'), false);
    assert.equal(member(String.raw`\s`, '\u3000'), true);
    assert.equal(member(String.raw`\S`, '\ufeff'), false);
    assert.equal(member(String.raw`\S`, '\x1c'), false);
    assert.equal(member(String.raw`\S`, 'é'), true);
    assert.equal(member('.', '\r'), false);
    assert.equal(member('.', '\u2029'), false);
    assert.equal(member('.', '😀'), true);
    assert.equal(member('[^a]', '\n'), true);
    assert.equal(member(String.raw`[\s\S]`, '\n'), true);
    assert.equal(member(String.raw`[^\W]`, 'é'), false);
    assert.equal(member(String.raw`[\b]`, '\b'), true);
  });
});

describe('regexToExpr refusals', () => {
  const refusals: readonly (readonly [source: string, message: string])[] = [
    [String.raw`(a)\1`, 'backreference is not supported (at 3)'],
    [String.raw`(?<n>a)\k<n>`, 'backreference is not supported (at 7)'],
    ['(?P<n>a)(?P=n)', 'backreference is not supported (at 8)'],
    ['abc(?=d)', 'lookahead is not supported (at 3)'],
    ['a(?!b)', 'lookahead is not supported (at 1)'],
    ['(?<=a)b', 'lookbehind is not supported (at 0)'],
    ['(?<!a)b', 'lookbehind is not supported (at 0)'],
    [String.raw`a\b`, String.raw`word boundary \b is not supported (at 1)`],
    [String.raw`\Ba`, String.raw`word boundary \B is not supported (at 0)`],
    [String.raw`\Aa`, String.raw`anchor \A is not supported (at 0)`],
    [String.raw`a\Z`, String.raw`anchor \Z is not supported (at 1)`],
    [String.raw`a\z`, String.raw`anchor \z is not supported (at 1)`],
    [String.raw`\Ga`, String.raw`anchor \G is not supported (at 0)`],
    ['(?i)abc', 'inline flags are not supported (at 0)'],
    ['(?i:a)', 'inline flags are not supported (at 0)'],
    ['a(?-s:.)', 'inline flags are not supported (at 1)'],
    ['a*+', 'possessive quantifier is not supported (at 1)'],
    ['a{2}+', 'possessive quantifier is not supported (at 1)'],
    ['a?+', 'possessive quantifier is not supported (at 1)'],
    [String.raw`\p{L}`, String.raw`Unicode property escape \p is not supported (at 0)`],
    [String.raw`x\P{Lu}`, String.raw`Unicode property escape \P is not supported (at 1)`],
    ['a^b', 'anchor ^ is only supported at the start of the pattern (at 1)'],
    ['(^a)', 'anchor ^ is only supported at the start of the pattern (at 1)'],
    ['a$b', 'anchor $ is only supported at the end of the pattern (at 1)'],
    ['(a$)', 'anchor $ is only supported at the end of the pattern (at 2)'],
    ['(?(1)a|b)', 'conditional group is not supported (at 0)'],
    ['(?>a)', 'atomic group is not supported (at 0)'],
    ['(?#note)a', 'comment group is not supported (at 0)'],
    ['(ab', 'unbalanced parenthesis: missing ) (at 0)'],
    ['a(b(c)', 'unbalanced parenthesis: missing ) (at 1)'],
    ['ab)', 'unbalanced parenthesis: unmatched ) (at 2)'],
    ['[ab', 'unterminated character class (at 0)'],
    ['ab]', 'unbalanced bracket: unescaped ] is not supported (at 2)'],
    ['a}', 'unbalanced bracket: unescaped } is not supported (at 1)'],
    ['a{', 'unescaped { outside a quantifier is not supported (at 1)'],
    ['a{2,x}', 'unescaped { outside a quantifier is not supported (at 1)'],
    ['*a', 'quantifier with nothing to repeat (at 0)'],
    ['^*a', 'quantifier with nothing to repeat (at 1)'],
    ['a|?', 'quantifier with nothing to repeat (at 2)'],
    ['(+)', 'quantifier with nothing to repeat (at 1)'],
    ['{2}', 'quantifier with nothing to repeat (at 0)'],
    ['a**', 'quantifier with nothing to repeat (at 2)'],
    ['a{2}{3}', 'quantifier with nothing to repeat (at 4)'],
    ['a{5,3}', 'quantifier {5,3} has min above max (at 1)'],
    ['a{,3}', 'quantifier {,m} is not supported (at 1)'],
    ['a{100001}', 'repetition count above 100000 is not supported (at 1)'],
    [String.raw`\q`, String.raw`invalid escape \q (at 0)`],
    [String.raw`a\é`, String.raw`invalid escape \é (at 1)`],
    [String.raw`\cA`, String.raw`invalid escape \c (at 0)`],
    [String.raw`\x4`, String.raw`invalid escape \x (at 0)`],
    [String.raw`\u12G4`, String.raw`invalid escape \u (at 0)`],
    [String.raw`\u{}`, String.raw`invalid escape \u{...} (at 0)`],
    [String.raw`\u{110000}`, 'code point above U+10FFFF in escape (at 0)'],
    [String.raw`\uD83D\uDE00`, 'escape of a surrogate code point is not supported (at 0)'],
    [String.raw`\012`, 'octal escape is not supported (at 0)'],
    [String.raw`[\1]`, 'octal escape is not supported (at 1)'],
    ['ab\\', 'pattern ends with a lone backslash (at 2)'],
    ['[z-a]', 'bad character range z-a (at 1)'],
    [String.raw`[\d-z]`, String.raw`bad character range \d-z (at 1)`],
    [String.raw`[a-\w]`, String.raw`bad character range a-\w (at 1)`],
    ['[]a]', 'empty character class is not supported (at 0)'],
    ['[^]', 'empty character class is not supported (at 0)'],
    [String.raw`[\B]`, String.raw`invalid escape \B (at 1)`],
    ['(?<1x>a)', 'invalid group name (at 0)'],
    ['(?P<a>x)(?<a>y)', 'duplicate group name a (at 8)'],
    ['(?P>a)', 'unknown group syntax (?P (at 0)'],
    ['(?', 'unbalanced parenthesis: missing ) (at 0)'],
    ['😀(?=a)', 'lookahead is not supported (at 1)'],
    ['('.repeat(201) + ')'.repeat(201), 'groups nested deeper than 200 are not supported (at 200)'],
  ];

  for (const [source, message] of refusals) {
    it(`refuses ${source}`, () => {
      const error = thrownBy(() => regexToExpr(source));
      assert.ok(error instanceof GrammarError, `no GrammarError: ${String(error)}`);
      assert.equal(error.message, `regex: ${message}`);
    });
  }
});
