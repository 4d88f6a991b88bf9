/**
 * String `format`s: for each format ajv-formats checks, a grammar of a practical subset of the
 * strings it accepts (decoded text, ASCII only, so nothing in it needs a JSON escape).
 *
 * Owns: the format grammars. Each is a subset of ajv-formats' full-mode check:
 * - date `YYYY-MM-DD` with real days per month (29 February only in leap years); time
 *   `hh:mm:ss(.f{1,9})?` with `Z` or `+hh:mm`/`-hh:mm` (no leap second); date-time joins them
 *   with `T`; iso-time and iso-date-time read as time and date-time.
 * - uuid (8-4-4-4-12 hex digits), email (dot-separated atoms of `[A-Za-z0-9_%+-]`, `@`, hyphenated
 *   labels, a top-level label of 2-24 letters), hostname (1-6 labels of 1-40 characters: at most
 *   245 in all), ipv4, ipv6 (eight groups, or `::` standing for at least one), uri, iri and
 *   uri-reference (`scheme://host(:port)?(/path)*(?query)?(#fragment)?`, plus `/path` references),
 *   url (http, https or ftp with a top-level label of letters), uri-template, duration, byte
 *   (base64), json-pointer, relative-json-pointer, json-pointer-uri-fragment, regex (plain
 *   letters, digits, spaces, `_` and `-`), idn-email and idn-hostname (the ASCII forms).
 * - password and binary restrict nothing in ajv-formats; neither do number formats on strings.
 * Any other format is unknown to Ajv (it restricts nothing unless registered) and is ignored.
 */
import {
  alt,
  chars,
  EMPTY,
  literal,
  optional,
  plus,
  repeat,
  seq,
  star,
  type CharRange,
  type Expr,
} from '../grammar-ir.ts';

/** A class from a spec like `a-zA-Z0-9_` (a `-` first or last is itself). */
function cls(spec: string): Expr {
  const points = Array.from(spec, (c) => c.codePointAt(0)!);
  const ranges: CharRange[] = [];
  for (let i = 0; i < points.length; i++) {
    const from = points[i]!;
    if (points[i + 1] === 0x2d && i + 2 < points.length) {
      ranges.push([from, points[i + 2]!]);
      i += 2;
    } else ranges.push([from, from]);
  }
  return chars(ranges);
}

const lit = literal;
const DIGIT = cls('0-9');
const HEX = cls('0-9a-fA-F');
const digits = (min: number, max: number | null): Expr => repeat(DIGIT, min, max);
const hex = (count: number): Expr => repeat(HEX, count, count);

const YEAR = digits(4, 4);
const LEAP_YEAR = alt(
  seq(
    digits(2, 2),
    alt(seq(cls('02468'), cls('48')), seq(cls('13579'), cls('26')), seq(cls('2468'), lit('0'))),
  ),
  seq(alt(seq(cls('02468'), cls('048')), seq(cls('13579'), cls('26'))), lit('00')),
);
const MONTH_DAY = alt(
  seq(
    alt(seq(lit('0'), cls('1-9')), seq(lit('1'), cls('0-2'))),
    lit('-'),
    alt(seq(lit('0'), cls('1-9')), seq(lit('1'), DIGIT), seq(lit('2'), cls('0-8'))),
  ),
  seq(
    alt(seq(lit('0'), cls('13-9')), seq(lit('1'), cls('0-2'))),
    lit('-'),
    alt(lit('29'), lit('30')),
  ),
  seq(alt(seq(lit('0'), cls('13578')), seq(lit('1'), cls('02'))), lit('-31')),
);
const DATE = alt(seq(YEAR, lit('-'), MONTH_DAY), seq(LEAP_YEAR, lit('-02-29')));

const HOUR = alt(seq(cls('01'), DIGIT), seq(lit('2'), cls('0-3')));
const MINUTE = seq(cls('0-5'), DIGIT);
const TIME = seq(
  HOUR,
  lit(':'),
  MINUTE,
  lit(':'),
  MINUTE,
  optional(seq(lit('.'), digits(1, 9))),
  alt(lit('Z'), seq(cls('+-'), HOUR, lit(':'), MINUTE)),
);
const DATE_TIME = seq(DATE, lit('T'), TIME);

const UUID = seq(hex(8), lit('-'), hex(4), lit('-'), hex(4), lit('-'), hex(4), lit('-'), hex(12));

/** A DNS-style label: letters and digits, inner hyphens. */
const LABEL = seq(plus(cls('a-zA-Z0-9')), star(seq(lit('-'), plus(cls('a-zA-Z0-9')))));
const TOP_LABEL = repeat(cls('a-zA-Z'), 2, 24);
const EMAIL_ATOM = plus(cls('a-zA-Z0-9_%+-'));
const EMAIL = seq(
  EMAIL_ATOM,
  star(seq(lit('.'), EMAIL_ATOM)),
  lit('@'),
  plus(seq(LABEL, lit('.'))),
  TOP_LABEL,
);

const HOST_LABEL = seq(
  cls('a-zA-Z0-9'),
  optional(seq(repeat(cls('a-zA-Z0-9-'), 0, 38), cls('a-zA-Z0-9'))),
);
const HOSTNAME = seq(HOST_LABEL, repeat(seq(lit('.'), HOST_LABEL), 0, 5));

const OCTET = alt(
  seq(lit('25'), cls('0-5')),
  seq(lit('2'), cls('0-4'), DIGIT),
  seq(lit('1'), DIGIT, DIGIT),
  seq(cls('1-9'), DIGIT),
  DIGIT,
);
const IPV4 = seq(OCTET, repeat(seq(lit('.'), OCTET), 3, 3));

const GROUP = repeat(HEX, 1, 4);
const groups = (min: number, max: number): Expr =>
  max === 0
    ? EMPTY
    : min === 0
      ? optional(groups(1, max))
      : seq(GROUP, repeat(seq(lit(':'), GROUP), min - 1, max - 1));
const IPV6 = alt(
  groups(8, 8),
  ...Array.from({ length: 8 }, (_, before) =>
    seq(groups(before, before), lit('::'), groups(0, 7 - before)),
  ),
);

const PATH_CHAR = cls("a-zA-Z0-9._~!$&'()*+,;=:@-");
const URI_TAIL = seq(
  star(seq(lit('/'), star(PATH_CHAR))),
  optional(seq(lit('?'), star(alt(PATH_CHAR, cls('/?'))))),
  optional(seq(lit('#'), star(alt(PATH_CHAR, cls('/?'))))),
);
const SCHEME = seq(cls('a-zA-Z'), repeat(cls('a-zA-Z0-9+.-'), 0, 15));
const PORT = optional(seq(lit(':'), digits(1, 5)));
const URI = seq(SCHEME, lit('://'), LABEL, star(seq(lit('.'), LABEL)), PORT, URI_TAIL);
const URI_REFERENCE = alt(
  URI,
  seq(
    plus(seq(lit('/'), plus(cls('a-zA-Z0-9._~-')))),
    optional(seq(lit('?'), star(cls('a-zA-Z0-9._~=&-')))),
  ),
);
const URL = seq(
  alt(lit('http'), lit('https'), lit('ftp')),
  lit('://'),
  star(seq(LABEL, lit('.'))),
  LABEL,
  lit('.'),
  TOP_LABEL,
  optional(seq(lit(':'), digits(2, 5))),
  star(seq(lit('/'), star(cls('a-zA-Z0-9._~-')))),
);
const URI_TEMPLATE = star(
  alt(cls('a-zA-Z0-9:/._~-'), seq(lit('{'), plus(cls('a-z0-9_')), lit('}'))),
);

const amount = (unit: string): Expr => seq(digits(1, 4), lit(unit));
const DURATION = seq(
  lit('P'),
  alt(
    seq(
      alt(
        seq(amount('Y'), optional(amount('M')), optional(amount('D'))),
        seq(amount('M'), optional(amount('D'))),
        amount('D'),
      ),
      optional(
        seq(
          lit('T'),
          alt(
            seq(amount('H'), optional(amount('M')), optional(amount('S'))),
            seq(amount('M'), optional(amount('S'))),
            amount('S'),
          ),
        ),
      ),
    ),
    seq(
      lit('T'),
      alt(
        seq(amount('H'), optional(amount('M')), optional(amount('S'))),
        seq(amount('M'), optional(amount('S'))),
        amount('S'),
      ),
    ),
    amount('W'),
  ),
);

const B64 = cls('A-Za-z0-9+/');
const BYTE = seq(
  star(repeat(B64, 4, 4)),
  optional(alt(seq(repeat(B64, 2, 2), lit('==')), seq(repeat(B64, 3, 3), lit('=')))),
);

const POINTER = star(seq(lit('/'), star(alt(cls('a-zA-Z0-9_.-'), seq(lit('~'), cls('01'))))));
const RELATIVE_POINTER = seq(alt(lit('0'), seq(cls('1-9'), digits(0, 3))), alt(lit('#'), POINTER));
const REGEX = star(cls('a-zA-Z0-9 _-'));

const FORMATS: ReadonlyMap<string, Expr> = new Map([
  ['date', DATE],
  ['time', TIME],
  ['date-time', DATE_TIME],
  ['iso-time', TIME],
  ['iso-date-time', DATE_TIME],
  ['duration', DURATION],
  ['uuid', UUID],
  ['email', EMAIL],
  ['idn-email', EMAIL],
  ['hostname', HOSTNAME],
  ['idn-hostname', HOSTNAME],
  ['ipv4', IPV4],
  ['ipv6', IPV6],
  ['uri', URI],
  ['iri', URI],
  ['uri-reference', URI_REFERENCE],
  ['iri-reference', URI_REFERENCE],
  ['url', URL],
  ['uri-template', URI_TEMPLATE],
  ['byte', BYTE],
  ['json-pointer', POINTER],
  ['relative-json-pointer', RELATIVE_POINTER],
  ['json-pointer-uri-fragment', seq(lit('#'), POINTER)],
  ['regex', REGEX],
]);

/** Formats that restrict numbers, not strings (ajv-formats' int32, int64, float, double). */
export const NUMBER_FORMATS: ReadonlySet<string> = new Set(['int32', 'int64', 'float', 'double']);

/** The decoded texts of string format `format`, or null when it restricts nothing. */
export function stringFormatExpr(format: string): Expr | null {
  return FORMATS.get(format) ?? null;
}

/** The formats with a grammar (for tests). */
export const STRING_FORMATS: readonly string[] = [...FORMATS.keys()];
