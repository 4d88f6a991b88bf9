import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grammarOf } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { decimalRangeExpr } from './decimal-range.ts';
import { nextDouble, numberRangeExpr, scaledInteger } from './number-schema.ts';

/** The scaled value of a text the construction may produce, or null when its syntax is off. */
function scaledValue(text: string, fractionDigits: number): bigint | null {
  const match = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(text);
  if (match === null) return null;
  const [, sign, whole, fraction] = match;
  if (fraction !== undefined && (fraction.length > fractionDigits || fractionDigits === 0)) {
    return null;
  }
  const value =
    BigInt(whole!) * 10n ** BigInt(fractionDigits) +
    BigInt((fraction ?? '').padEnd(fractionDigits, '0') || '0');
  if (sign === '-' && value === 0n) return null; // no -0
  return sign === '-' ? -value : value;
}

/** Texts of every value in [-limit, limit] (scaled), with fraction forms, plus malformed ones. */
function universe(limit: number, fractionDigits: number): string[] {
  const texts = new Set(['-0', '01', '-01', '1.', '.5', '00', '1e1', '+1', '-', '0.0.0', '']);
  const unit = 10 ** fractionDigits;
  for (let n = -limit; n <= limit; n++) {
    const sign = n < 0 ? '-' : '';
    const magnitude = Math.abs(n);
    const whole = Math.floor(magnitude / unit);
    const fraction = (magnitude % unit).toString().padStart(fractionDigits, '0');
    texts.add(`${sign}${whole}`);
    for (let keep = 1; keep <= fractionDigits; keep++) {
      texts.add(`${sign}${whole}.${fraction.slice(0, keep)}`);
    }
    texts.add(`${sign}${whole}.${fraction}0`);
    texts.add(`${sign}0${whole}`);
  }
  return [...texts];
}

function checkExhaustive(lo: number, hi: number, fractionDigits: number, texts: string[]): void {
  const grammar = grammarOf(decimalRangeExpr(BigInt(lo), BigInt(hi), fractionDigits));
  for (const text of texts) {
    const value = scaledValue(text, fractionDigits);
    const want = value !== null && value >= BigInt(lo) && value <= BigInt(hi);
    assert.equal(
      matchesGrammar(grammar, text),
      want,
      `[${lo}, ${hi}]/10^${fractionDigits}: ${text}`,
    );
  }
}

/** A seeded generator (xorshift) for the randomized cases. */
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

function randomBig(random: () => number, digits: number): bigint {
  let text = '';
  for (let i = 0; i < digits; i++) text += Math.floor(random() * 10).toString();
  const value = BigInt(text || '0');
  return random() < 0.5 ? -value : value;
}

function format(value: bigint, fractionDigits: number): string {
  const sign = value < 0n ? '-' : '';
  const magnitude = (value < 0n ? -value : value).toString().padStart(fractionDigits + 1, '0');
  if (fractionDigits === 0) return sign + magnitude;
  const whole = magnitude.slice(0, magnitude.length - fractionDigits);
  const fraction = magnitude.slice(magnitude.length - fractionDigits).replace(/0+$/, '');
  return sign + whole + (fraction === '' ? '' : `.${fraction}`);
}

describe('decimalRangeExpr', () => {
  it('integers: every range within [-25, 25] against arithmetic over -120..120', () => {
    const texts = universe(120, 0);
    for (let lo = -25; lo <= 25; lo += 3) {
      for (let hi = lo - 1; hi <= 25; hi += 4) checkExhaustive(lo, hi, 0, texts);
    }
    for (const [lo, hi] of [
      [0, 0],
      [0, 9],
      [10, 99],
      [0, 100],
      [1, 1000],
      [-1000, -1],
      [99, 101],
      [-9, 9],
    ] as const) {
      checkExhaustive(
        lo,
        hi,
        0,
        universe(1100, 0).filter((_, i) => i % 3 === 0 || i < 12),
      );
    }
  });

  it('decimals with 2 fraction digits: ranges within [-2.5, 2.5] against arithmetic', () => {
    const texts = universe(320, 2);
    const bounds = [-250, -199, -100, -37, -1, 0, 1, 5, 10, 99, 100, 101, 150, 250];
    for (const lo of bounds)
      for (const hi of bounds) if (hi >= lo - 1) checkExhaustive(lo, hi, 2, texts);
  });

  it('randomized large ranges: members lie inside, texts next to the bounds are judged right', () => {
    const random = rng(7);
    for (let round = 0; round < 60; round++) {
      const fractionDigits = [0, 1, 3, 15][round % 4]!;
      let lo = randomBig(random, 1 + Math.floor(random() * 25));
      let hi = randomBig(random, 1 + Math.floor(random() * 25));
      if (lo > hi) [lo, hi] = [hi, lo];
      const grammar = grammarOf(decimalRangeExpr(lo, hi, fractionDigits));
      for (let seed = 1; seed <= 15; seed++) {
        const member = randomMember(grammar, { seed: seed * 101 + round });
        assert.ok(member !== null);
        const value = scaledValue(member, fractionDigits);
        assert.ok(value !== null && value >= lo && value <= hi, `${member} in [${lo}, ${hi}]`);
      }
      for (const value of [lo - 1n, lo, lo + 1n, hi - 1n, hi, hi + 1n, 0n, (lo + hi) / 2n]) {
        const text = format(value, fractionDigits);
        const want = value >= lo && value <= hi && text !== '-0';
        assert.equal(
          matchesGrammar(grammar, text),
          want,
          `${text} in [${lo}, ${hi}]/${fractionDigits}`,
        );
      }
    }
  });
});

describe('numberRangeExpr', () => {
  it('reads double bounds exactly, exclusive bounds as the next double', () => {
    assert.equal(scaledInteger(0.1, 15, 'ceil'), 100000000000000n);
    assert.equal(scaledInteger(-1.5, 0, 'ceil'), -1n);
    assert.equal(scaledInteger(-1.5, 0, 'floor'), -2n);
    assert.equal(scaledInteger(1e21, 0, 'floor'), 10n ** 21n);
    assert.equal(scaledInteger(5e-324, 15, 'ceil'), 1n);
    assert.ok(nextDouble(0.1, 1) > 0.1 && nextDouble(0.1, -1) < 0.1);
    assert.ok(nextDouble(-2, 1) > -2 && nextDouble(-2, -1) < -2);
    const between = grammarOf(
      numberRangeExpr({
        integer: false,
        lower: [{ value: 0, exclusive: true }],
        upper: [{ value: 1, exclusive: true }],
      }),
    );
    for (const [text, want] of [
      ['0', false],
      ['0.000000000000001', true],
      ['0.5', true],
      ['0.999999999999999', true],
      ['1', false],
      ['1.0', false],
      ['-0.1', false],
    ] as const) {
      assert.equal(matchesGrammar(between, text), want, text);
    }
    const integers = grammarOf(
      numberRangeExpr({
        integer: true,
        lower: [{ value: 1.5, exclusive: false }],
        upper: [{ value: 3, exclusive: true }],
      }),
    );
    assert.deepEqual(
      ['1', '2', '3', '2.0'].map((text) => matchesGrammar(integers, text)),
      [false, true, false, false],
    );
  });

  it('caps an open side and keeps parsed members finite', () => {
    const open = grammarOf(numberRangeExpr({ integer: false, lower: [], upper: [] }));
    const above = grammarOf(
      numberRangeExpr({ integer: true, lower: [{ value: 1e20, exclusive: false }], upper: [] }),
    );
    for (let seed = 1; seed <= 200; seed++) {
      const a = randomMember(open, { seed, maxExtraRepeats: 20 })!;
      assert.ok(Number.isFinite(JSON.parse(a)), a);
      const b = randomMember(above, { seed, maxExtraRepeats: 30 })!;
      assert.ok(Number.isInteger(JSON.parse(b)) && BigInt(b) >= 10n ** 20n, b);
    }
  });
});
