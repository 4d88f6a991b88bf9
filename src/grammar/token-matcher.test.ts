import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGrammar } from './automaton/byte-nfa.ts';
import { alt, chars, grammarOf, literal, plus, repeat, seq } from './grammar-ir.ts';
import { FINISHED, maxCachedMasks, TokenMatcher } from './token-matcher.ts';
import { TokenVocabulary } from './token-vocabulary.ts';

const encoder = new TextEncoder();

/** Tokens 0-255: single bytes; then multi-byte pieces; then an end token and a control token. */
const PIECES = [
  'yes',
  'ye',
  'ter',
  'day',
  'no',
  'n/',
  '/a',
  'caf',
  'é',
  'ça',
  'esterday',
  '12',
  '3.',
  '.5',
];
const SINGLE_BYTES = 256;
const END = SINGLE_BYTES + PIECES.length;
const CONTROL = END + 1;

function vocabulary(): TokenVocabulary {
  return new TokenVocabulary({
    size: CONTROL + 1,
    tokenBytes: (token) => {
      if (token < SINGLE_BYTES) return Uint8Array.of(token);
      if (token < END) return encoder.encode(PIECES[token - SINGLE_BYTES]);
      return null;
    },
    endTokens: [END],
  });
}

function tokenBytes(token: number): number[] {
  if (token < SINGLE_BYTES) return [token];
  return [...encoder.encode(PIECES[token - SINGLE_BYTES])];
}

function startsWith(bytes: readonly number[], prefix: readonly number[]): boolean {
  return prefix.length <= bytes.length && prefix.every((b, i) => bytes[i] === b);
}

function allowed(mask: Uint32Array): number[] {
  const tokens: number[] = [];
  for (let t = 0; t <= CONTROL; t++) if ((mask[t >>> 5]! >>> (t & 31)) & 1) tokens.push(t);
  return tokens;
}

describe('TokenMatcher', () => {
  it('allows exactly the tokens that keep the output a prefix of a member (finite language)', () => {
    const members = ['yes', 'no', 'yesterday', 'n/a', 'café', 'ça', '12.5', '3.5'];
    const grammar = grammarOf(alt(...members.map(literal)));
    const matcher = new TokenMatcher(compileGrammar(grammar), vocabulary());
    const memberBytes = members.map((m) => [...encoder.encode(m)]);
    const prefixes = new Set<string>();
    for (const bytes of memberBytes)
      for (let i = 0; i <= bytes.length; i++) prefixes.add(bytes.slice(0, i).join(','));
    for (const key of prefixes) {
      const prefix = key === '' ? [] : key.split(',').map(Number);
      let state = matcher.initial;
      for (const byte of prefix) state = matcher.advance(state, byte)!;
      assert.notEqual(state, null);
      const want: number[] = [];
      for (let t = 0; t < END; t++) {
        const next = [...prefix, ...tokenBytes(t)];
        if (memberBytes.some((m) => startsWith(m, next))) want.push(t);
      }
      if (memberBytes.some((m) => m.join(',') === key)) want.push(END);
      assert.deepEqual(allowed(matcher.mask(state)), want, `after [${key}]`);
      assert.equal(matcher.isComplete(state), want.includes(END));
    }
  });

  it('advances on multi-byte tokens, ends on the end token only when complete, refuses the rest', () => {
    const grammar = grammarOf(
      seq(plus(chars([[0x30, 0x39]])), literal('.'), plus(chars([[0x30, 0x39]]))),
    );
    const matcher = new TokenMatcher(compileGrammar(grammar), vocabulary());
    const twelve = matcher.advance(matcher.initial, SINGLE_BYTES + PIECES.indexOf('12'))!;
    assert.equal(matcher.advance(twelve, END), null);
    const point = matcher.advance(twelve, SINGLE_BYTES + PIECES.indexOf('3.'))!;
    assert.notEqual(point, null);
    assert.equal(matcher.advance(point, SINGLE_BYTES + PIECES.indexOf('.5')), null);
    const done = matcher.advance(point, 0x37)!;
    assert.equal(matcher.isComplete(done), true);
    assert.equal(matcher.advance(done, END), FINISHED);
    assert.equal(matcher.advance(done, CONTROL), null);
    // Digits, '12', '3.' (more digits then a point? no: "1273." is fine) and the end token.
    assert.deepEqual(allowed(matcher.mask(done)), [
      ...Array.from({ length: 10 }, (_, i) => 0x30 + i),
      SINGLE_BYTES + PIECES.indexOf('12'),
      END,
    ]);
    assert.deepEqual(allowed(matcher.mask(FINISHED)), [END]);
    assert.equal(matcher.advance(FINISHED, END), FINISHED);
    assert.equal(matcher.advance(FINISHED, 0x30), null);
  });

  it('caches masks per configuration', () => {
    const grammar = grammarOf(plus(alt(literal('yes'), literal('no'))));
    const matcher = new TokenMatcher(compileGrammar(grammar), vocabulary());
    let state = matcher.initial;
    for (let i = 0; i < 50; i++) {
      matcher.mask(state);
      state = matcher.advance(state, SINGLE_BYTES + PIECES.indexOf(i % 2 === 0 ? 'yes' : 'no'))!;
    }
    assert.ok(matcher.cacheSizes.masks <= 3, JSON.stringify(matcher.cacheSizes));
  });
});

describe('TokenMatcher mask cache', () => {
  const MAX_CACHED_MASKS = maxCachedMasks(CONTROL + 1);

  it('keeps at most 4 MiB of masks (at least 64), then starts over with the same answers', () => {
    assert.equal(maxCachedMasks(32000), 1048);
    assert.equal(maxCachedMasks(152064), 220);
    assert.equal(maxCachedMasks(10_000_000), 64);
    // Every count of 'a's up to the limit and beyond is its own configuration.
    const grammar = grammarOf(repeat(literal('a'), 0, MAX_CACHED_MASKS + 10));
    const matcher = new TokenMatcher(compileGrammar(grammar), vocabulary());
    let state = matcher.initial;
    const first = allowed(matcher.mask(state));
    for (let i = 0; i < MAX_CACHED_MASKS + 5; i++) {
      matcher.mask(state);
      state = matcher.advance(state, 0x61)!;
    }
    assert.ok(matcher.cacheSizes.masks <= MAX_CACHED_MASKS);
    assert.deepEqual(allowed(matcher.mask(matcher.initial)), first);
  });
});
