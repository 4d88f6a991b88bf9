/**
 * Numbers and integers of a JSON Schema: `minimum`, `maximum`, `exclusiveMinimum`,
 * `exclusiveMaximum`, the number formats of ajv-formats (`int32`, `int64`, `float`, `double`)
 * and `multipleOf` where it is trivially true.
 *
 * Owns: the bound arithmetic and the choice of number syntax.
 * - Unbounded numbers: `-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?([eE][+-]?[0-9]{1,2})?`; unbounded
 *   integers: the integers of magnitude below 10^15 (every one exact in a double). Both are finite
 *   when parsed, so no text turns into Infinity.
 * - Bounded (a bound on either side): no exponent, at most `FRACTION_DIGITS` (15) digits after
 *   the point; an open side is capped at magnitude 10^15 (or ten times the other bound when that
 *   is larger). The texts are exactly the decimals of that grid inside the bounds.
 * - Soundness with doubles: a bound b is read as the shortest decimal that parses back to b, and
 *   an exclusive bound as the inclusive bound at the next double beyond it. Parsing rounds
 *   monotonically, so a decimal text d >= that decimal parses to a double >= the bound, which is
 *   what Ajv compares.
 */
import { alt, chars, literal, optional, repeat, seq, type Expr } from '../grammar-ir.ts';
import { decimalRangeExpr, DIGIT } from './decimal-range.ts';
import { readNumber, schemaError, type SchemaObject } from './schema-keywords.ts';

/** Digits after the point in a bounded number. */
export const FRACTION_DIGITS = 15;
/** Digits of the integer part where nothing bounds it. */
export const OPEN_INTEGER_DIGITS = 15;

const NONZERO_DIGIT = chars([[0x31, 0x39]]);
const INTEGER_PART = alt(
  literal('0'),
  seq(NONZERO_DIGIT, repeat(DIGIT, 0, OPEN_INTEGER_DIGITS - 1)),
);

/** Any JSON number (see the module header for the digit limits). */
export const ANY_NUMBER: Expr = seq(
  optional(literal('-')),
  INTEGER_PART,
  optional(seq(literal('.'), repeat(DIGIT, 1, FRACTION_DIGITS))),
  optional(
    seq(
      chars([
        [0x45, 0x45],
        [0x65, 0x65],
      ]),
      optional(
        chars([
          [0x2b, 0x2b],
          [0x2d, 0x2d],
        ]),
      ),
      repeat(DIGIT, 1, 2),
    ),
  ),
);

/** One bound as the schema gives it. */
export interface NumberBound {
  readonly value: number;
  readonly exclusive: boolean;
}

/** The bounds of a number schema. */
export interface NumberConstraints {
  readonly integer: boolean;
  readonly lower: readonly NumberBound[];
  readonly upper: readonly NumberBound[];
}

/** The next double above `x` (direction +1) or below it (-1). */
export function nextDouble(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const away = x > 0 === direction > 0;
  view.setBigUint64(0, away ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/** `x * 10^scale` rounded up or down to an integer, computed exactly from x's shortest decimal. */
export function scaledInteger(x: number, scale: number, rounding: 'ceil' | 'floor'): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (match === null) throw new Error(`not a finite number: ${x}`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  const mantissa = BigInt(whole! + fraction);
  const power = Number(exponent) - fraction.length + scale;
  const negative = sign === '-';
  if (power >= 0) {
    const value = mantissa * 10n ** BigInt(power);
    return negative ? -value : value;
  }
  const divisor = 10n ** BigInt(-power);
  const quotient = mantissa / divisor;
  const inexact = mantissa % divisor !== 0n;
  // Round the magnitude toward the requested direction of the signed value.
  if (negative) return -(inexact && rounding === 'floor' ? quotient + 1n : quotient);
  return inexact && rounding === 'ceil' ? quotient + 1n : quotient;
}

/** The grammar of the numbers (or integers) satisfying all of `constraints`. */
export function numberRangeExpr(constraints: NumberConstraints): Expr {
  const scale = constraints.integer ? 0 : FRACTION_DIGITS;
  let lower: bigint | null = null;
  let upper: bigint | null = null;
  for (const bound of constraints.lower) {
    const at = bound.exclusive ? nextDouble(bound.value, 1) : bound.value;
    if (!Number.isFinite(at)) return decimalRangeExpr(1n, 0n, scale);
    const scaled = scaledInteger(at, scale, 'ceil');
    if (lower === null || scaled > lower) lower = scaled;
  }
  for (const bound of constraints.upper) {
    const at = bound.exclusive ? nextDouble(bound.value, -1) : bound.value;
    if (!Number.isFinite(at)) return decimalRangeExpr(1n, 0n, scale);
    const scaled = scaledInteger(at, scale, 'floor');
    if (upper === null || scaled < upper) upper = scaled;
  }
  if (lower === null && upper === null) {
    if (!constraints.integer) return ANY_NUMBER;
    const limit = 10n ** BigInt(OPEN_INTEGER_DIGITS) - 1n;
    return decimalRangeExpr(-limit, limit, 0);
  }
  const unit = 10n ** BigInt(scale);
  const cap = (other: bigint): bigint => {
    const magnitude = (other < 0n ? -other : other) / unit;
    const digits = Math.max(OPEN_INTEGER_DIGITS, magnitude.toString().length + 1);
    return 10n ** BigInt(digits) * unit - 1n;
  };
  lower ??= -cap(upper!);
  upper ??= cap(lower);
  return decimalRangeExpr(lower, upper, scale);
}

/** The number formats of ajv-formats: extra bounds, integrality, or nothing. */
function numberFormat(format: string | undefined): { integer?: boolean; bits?: number } {
  if (format === 'int32') return { integer: true, bits: 32 };
  if (format === 'int64') return { integer: true };
  // float, double and every string or unknown format leave numbers alone.
  return {};
}

/** The grammar of a number (integer: true) or integer schema's values. */
export function numberSchemaExpr(schema: SchemaObject, integer: boolean, path: string): Expr {
  const lower: NumberBound[] = [];
  const upper: NumberBound[] = [];
  const minimum = readNumber(schema, 'minimum', path);
  const maximum = readNumber(schema, 'maximum', path);
  const exclusiveMinimum = readNumber(schema, 'exclusiveMinimum', path);
  const exclusiveMaximum = readNumber(schema, 'exclusiveMaximum', path);
  if (minimum !== undefined) lower.push({ value: minimum, exclusive: false });
  if (maximum !== undefined) upper.push({ value: maximum, exclusive: false });
  if (exclusiveMinimum !== undefined) lower.push({ value: exclusiveMinimum, exclusive: true });
  if (exclusiveMaximum !== undefined) upper.push({ value: exclusiveMaximum, exclusive: true });
  const format = numberFormat(typeof schema.format === 'string' ? schema.format : undefined);
  const isInteger = integer || format.integer === true;
  if (format.bits !== undefined) {
    lower.push({ value: -(2 ** (format.bits - 1)), exclusive: false });
    upper.push({ value: 2 ** (format.bits - 1) - 1, exclusive: false });
  }
  const multipleOf = readNumber(schema, 'multipleOf', path);
  if (multipleOf !== undefined) {
    if (multipleOf <= 0) throw schemaError(path, "'multipleOf' must be greater than 0");
    if (!(isInteger && Number.isInteger(multipleOf) && multipleOf === 1)) {
      throw schemaError(
        path,
        "unsupported keyword 'multipleOf': only multipleOf 1 on integers is supported",
      );
    }
  }
  return numberRangeExpr({ integer: isInteger, lower, upper });
}
