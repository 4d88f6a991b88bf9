/**
 * Arbitraries of hostile JSON values, for any field of any request.
 *
 * Owns: the catalogue of bad inputs issue 9 lists: wrong types, huge and negative numbers,
 * literals JSON.parse turns into Infinity or rounds (`1e999`, 2^63), NaN-like strings, deep
 * nesting, enormous arrays and objects, strings with lone surrogates, control characters and
 * special-token text, empty and whitespace strings. Sizes stay bounded so one case costs
 * milliseconds (enormous means 10^4 - 10^5 elements, deep means up to 20,000 levels).
 */
import fc from 'fast-check';
import { RawJson, type FuzzJson } from './json-text.ts';

/** Integers around every limit the server has (vocabulary 259, contexts 64-512, int32, int64). */
export const edgeInteger: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.constantFrom(-1, 0, 1, 2, 3, 5, 16, 20, 21, 63, 64, 65, 127, 128, 129, 255, 256, 258, 259),
  fc.constantFrom(260, 511, 512, 513, 1000, 16384, 16385, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31)),
  fc.constantFrom(2 ** 32, 2 ** 53 - 1, -(2 ** 53), 1e15, 1e21, -1e21, 1e308, -1e308),
  fc.constantFrom(
    new RawJson('9007199254740993'),
    new RawJson('9223372036854775807'),
    new RawJson('9223372036854775808'),
    new RawJson('-9223372036854775809'),
    new RawJson('18446744073709551616'),
    new RawJson('1' + '0'.repeat(400)),
  ),
  fc.integer({ min: -1000, max: 1000 }),
);

/** Floats at and beyond the sampling ranges, and literals that parse to odd values. */
export const edgeFloat: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.constantFrom(-2.0001, -2, -1, -1e-9, 0, 1e-6, 1e-5, 0.5, 1, 1.0001, 2, 2.0001, 100, 1e30),
  fc.constantFrom(5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308),
  fc.constantFrom(
    new RawJson('1e999'),
    new RawJson('-1e999'),
    new RawJson('-0'),
    new RawJson('-0.0'),
    new RawJson('1e-400'),
    new RawJson('1.0'),
    new RawJson('2.50000000000000000001'),
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Strings that look like numbers or special values to a lenient parser. */
export const numberLikeString: fc.Arbitrary<FuzzJson> = fc.constantFrom(
  'NaN',
  'nan',
  '-NaN',
  'Infinity',
  '-Infinity',
  'inf',
  '1e999',
  '0x10',
  '0b1',
  '1_000',
  ' 1 ',
  '1.5',
  '-1',
  '',
  'null',
  'true',
  '[]',
  '{}',
  '9223372036854775808',
);

/** Single characters that break naive text handling. */
const nastyUnit = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u000b',
  '\u000c',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\ufffe',
  '\uffff',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ud83d\ude00',
  'é',
  '\u0301',
  '"',
  '\\',
  '/',
  '{',
  '}',
  '[',
  ']',
  '<',
  '>',
  '%',
  '{{',
  '}}',
  '{%',
  '%}',
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  'a',
  ' ',
);

/** Strings of nasty characters (lone surrogates, controls, template syntax, special tokens). */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: nastyUnit, maxLength: 12 }),
  fc.constantFrom('', ' ', '  ', '\n', '\t\n \r', '\u00a0\u2028'),
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.string({ unit: 'binary-ascii', maxLength: 16 }),
  fc.string({ maxLength: 8 }),
);

/** Long-string lengths: mostly a few KiB (under the body limits), sometimes 200,000. */
const longLength = fc.oneof(
  { arbitrary: fc.integer({ min: 100, max: 8000 }), weight: 4 },
  { arbitrary: fc.integer({ min: 8000, max: 200_000 }), weight: 1 },
);

/** A long string of repeated text (special tokens, lone surrogates, NULs among them). */
export const longString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('a', 'abc ', '\ud800', '<|im_start|>', '\u0000', 'é'), longLength)
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

/** Nesting depths: mostly under the body limit (1000 levels), some around and beyond it. */
const nestingDepth = fc.oneof(
  { arbitrary: fc.integer({ min: 50, max: 980 }), weight: 3 },
  { arbitrary: fc.integer({ min: 990, max: 1010 }), weight: 1 },
  { arbitrary: fc.integer({ min: 1000, max: 20_000 }), weight: 1 },
);

/** Deeply nested arrays or objects, written as text (JSON.stringify would recurse). */
export const deepNesting: fc.Arbitrary<FuzzJson> = fc
  .tuple(fc.constantFrom('array', 'object', 'mixed'), nestingDepth)
  .map(([kind, depth]) => {
    if (kind === 'array') return new RawJson('['.repeat(depth) + ']'.repeat(depth));
    if (kind === 'object') return new RawJson('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    const half = Math.ceil(depth / 2);
    return new RawJson('[{"a":'.repeat(half) + '0' + '}]'.repeat(half));
  });

/**
 * Arrays and objects with 10^4 - 10^5 members. The string arrays end with a number, so no field
 * takes them as 10^5 prompts to generate for (a valid, but minutes-long, request).
 */
export const enormousCollection: fc.Arbitrary<FuzzJson> = fc
  .tuple(fc.constantFrom('ints', 'strings', 'nulls', 'object'), fc.integer({ min: 1e4, max: 1e5 }))
  .map(([kind, size]) => {
    const indices = Array.from({ length: size }, (_, i) => i);
    if (kind === 'ints') return new RawJson(`[${indices.map((i) => i % 300).join(',')}]`);
    if (kind === 'strings') return new RawJson(`[${indices.map(() => '"ab"').join(',')},5]`);
    if (kind === 'nulls') return new RawJson(`[${indices.map(() => 'null').join(',')}]`);
    return new RawJson(`{${indices.map((i) => `"k${i}":${i}`).join(',')}}`);
  });

/** An array of 10^4 - 10^5 copies of one string (stop strings, bad words, choices). */
export function enormousStrings(text: string): fc.Arbitrary<FuzzJson> {
  return fc
    .integer({ min: 1e4, max: 1e5 })
    .map((size) => new RawJson(`[${Array(size).fill(JSON.stringify(text)).join(',')}]`));
}

/** A small random JSON value (objects, arrays, strings, numbers, booleans, null). */
export const smallJson: fc.Arbitrary<FuzzJson> = fc.jsonValue({ maxDepth: 3 });

/** Any hostile value: what a mutated field is set to when its own edge values are not used. */
export const junkValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  { arbitrary: fc.constantFrom<FuzzJson>(null, true, false, 0, -1, '', [], {}), weight: 4 },
  { arbitrary: edgeInteger, weight: 3 },
  { arbitrary: edgeFloat, weight: 2 },
  { arbitrary: numberLikeString, weight: 2 },
  { arbitrary: nastyString, weight: 3 },
  { arbitrary: smallJson, weight: 3 },
  { arbitrary: longString, weight: 1 },
  { arbitrary: deepNesting, weight: 1 },
  { arbitrary: enormousCollection, weight: 1 },
);
