import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alt,
  chars,
  type Grammar,
  GrammarBuilder,
  GrammarError,
  grammarOf,
  literal,
  optional,
  plus,
  ref,
  repeat,
  seq,
  star,
} from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { compileGrammar } from './byte-nfa.ts';
import { DEAD, PushdownRunner } from './pda.ts';

const encoder = new TextEncoder();

function accepts(runner: PushdownRunner, text: string): boolean {
  const end = runner.nextBytes(runner.initial, encoder.encode(text));
  return end !== DEAD && runner.accepting(end);
}

/** A small JSON-like grammar: nested arrays and objects of letters and numbers. */
function nestedGrammar(): Grammar {
  const builder = new GrammarBuilder();
  const value = builder.reserve('value');
  const ws = repeat(chars([[0x20, 0x20]]), 0, 2);
  const number = seq(optional(literal('-')), plus(chars([[0x30, 0x39]])));
  const string = seq(
    literal('"'),
    star(
      chars([
        [0x61, 0x7a],
        [0x3b1, 0x3c9],
        [0x1f600, 0x1f64f],
      ]),
    ),
    literal('"'),
  );
  const list = (open: string, item: ReturnType<typeof ref>, close: string) =>
    seq(
      literal(open),
      ws,
      optional(seq(item, star(seq(ws, literal(','), ws, item)))),
      ws,
      literal(close),
    );
  const member = builder.define('member', seq(string, ws, literal(':'), ws, ref(value)));
  builder.set(
    value,
    alt(number, string, literal('true'), list('[', ref(value), ']'), list('{', member, '}')),
  );
  return builder.build(ref(value));
}

const grammars: Record<string, Grammar> = {
  nested: nestedGrammar(),
  digits: grammarOf(
    seq(
      repeat(chars([[0x30, 0x39]]), 2, 4),
      optional(seq(literal('.'), plus(chars([[0x30, 0x39]])))),
    ),
  ),
  unicode: grammarOf(
    seq(literal('é'), repeat(chars([[0x80, 0x10ffff]]), 1, 3), alt(literal('ok'), literal(''))),
  ),
  choices: grammarOf(alt(literal('yes'), literal('no'), literal('yesterday'), literal('n/a'))),
};

function mutations(text: string, seed: number): string[] {
  const pool = ['a', '1', '"', ',', ' ', 'é', '😀', '{', ']', '.', '-'];
  const out: string[] = [];
  const cps = Array.from(text);
  for (let i = 0; i < 6; i++) {
    const at = (seed * 31 + i * 17) % (cps.length + 1);
    const c = pool[(seed + i) % pool.length]!;
    out.push([...cps.slice(0, at), c, ...cps.slice(at)].join(''));
    if (cps.length > 0) {
      const del = at % cps.length;
      out.push([...cps.slice(0, del), ...cps.slice(del + 1)].join(''));
      out.push([...cps.slice(0, del), c, ...cps.slice(del + 1)].join(''));
    }
  }
  return out;
}

describe('PushdownRunner', () => {
  for (const [name, grammar] of Object.entries(grammars)) {
    it(`agrees with the reference matcher on members and mutations (${name})`, () => {
      const runner = new PushdownRunner(compileGrammar(grammar));
      for (let seed = 1; seed <= 150; seed++) {
        const member = randomMember(grammar, { seed, maxDepth: 4 });
        assert.ok(member !== null);
        assert.ok(accepts(runner, member), `member ${JSON.stringify(member)}`);
        for (const text of mutations(member, seed)) {
          assert.equal(accepts(runner, text), matchesGrammar(grammar, text), JSON.stringify(text));
        }
      }
    });
  }

  it('rejects prefixes that are not members and dies on impossible bytes', () => {
    const runner = new PushdownRunner(compileGrammar(grammars.choices!));
    const yes = runner.nextBytes(runner.initial, encoder.encode('yes'));
    assert.equal(runner.accepting(yes), true);
    assert.equal(runner.exhausted(yes), false); // "yesterday" may follow
    const ye = runner.nextBytes(runner.initial, encoder.encode('ye'));
    assert.equal(runner.accepting(ye), false);
    assert.equal(runner.nextBytes(runner.initial, encoder.encode('x')), DEAD);
    const done = runner.nextBytes(runner.initial, encoder.encode('yesterday'));
    assert.equal(runner.exhausted(done), true);
  });

  it('keeps right recursion from growing the stack', () => {
    const builder = new GrammarBuilder();
    const items = builder.reserve('items');
    builder.set(items, seq(literal('a'), optional(ref(items))));
    const runner = new PushdownRunner(compileGrammar(builder.build(ref(items))));
    let at = runner.initial;
    for (let i = 0; i < 500; i++) at = runner.next(at, 0x61);
    assert.equal(runner.accepting(at), true);
    assert.ok(runner.size < 10, `${runner.size} configurations`);
  });

  it('refuses left recursion, undefined rules, empty languages and oversized grammars', () => {
    const builder = new GrammarBuilder();
    const expr = builder.reserve('expr');
    builder.set(expr, alt(seq(ref(expr), literal('+'), literal('1')), literal('1')));
    assert.throws(
      () => compileGrammar(builder.build(ref(expr))),
      /left recursion through rule "expr"/,
    );
    assert.throws(() => compileGrammar(grammarOf(ref('missing'))), /undefined rule "missing"/);
    assert.throws(() => new PushdownRunner(compileGrammar(grammarOf(chars([])))), GrammarError);
    assert.throws(
      () => compileGrammar(grammarOf(repeat(repeat(literal('ab'), 0, 1000), 0, 1000))),
      /too large to enforce/,
    );
  });
});
