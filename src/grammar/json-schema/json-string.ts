/**
 * JSON string syntax: the characters of a string body, the canonical encoding of decoded text,
 * and the names a key may take when it must differ from a set of names.
 *
 * Owns: escapes. A body character is an unescaped code point (U+0020 and above, not `"` or
 * `\`), a short escape (`\" \\ \/ \b \f \n \r \t`), `\uXXXX` for a code point outside the
 * surrogates, or a `\uD8xx\uDCxx` surrogate pair; lone surrogate escapes are not generated. Each
 * body character therefore decodes to exactly one code point, which is how Ajv counts
 * `minLength`/`maxLength` (a surrogate pair is one character).
 */
import {
  alt,
  chars,
  complementRanges,
  EMPTY,
  literal,
  MAX_CODE_POINT,
  normalizeRanges,
  NOTHING,
  repeat,
  seq,
  star,
  type CharRange,
  type Expr,
} from '../grammar-ir.ts';

/** Code points a JSON string may hold without an escape. */
export const UNESCAPED: readonly CharRange[] = [
  [0x20, 0x21],
  [0x23, 0x5b],
  [0x5d, MAX_CODE_POINT],
];

const HEX = chars([
  [0x30, 0x39],
  [0x41, 0x46],
  [0x61, 0x66],
]);
const HEX_NOT_D = chars([
  [0x30, 0x39],
  [0x41, 0x43],
  [0x45, 0x46],
  [0x61, 0x63],
  [0x65, 0x66],
]);
const D = chars([
  [0x44, 0x44],
  [0x64, 0x64],
]);

/** One body character of a JSON string (decodes to one code point). */
export const STRING_CHAR: Expr = alt(
  chars(UNESCAPED),
  seq(
    literal('\\'),
    chars([...'"\\/bfnrt'].map((c): CharRange => [c.charCodeAt(0), c.charCodeAt(0)])),
  ),
  seq(literal('\\u'), alt(seq(HEX_NOT_D, HEX, HEX, HEX), seq(D, chars([[0x30, 0x37]]), HEX, HEX))),
  seq(
    literal('\\u'),
    D,
    chars([
      [0x38, 0x39],
      [0x41, 0x42],
      [0x61, 0x62],
    ]),
    HEX,
    HEX,
    literal('\\u'),
    D,
    chars([
      [0x43, 0x46],
      [0x63, 0x66],
    ]),
    HEX,
    HEX,
  ),
);

/** A JSON string whose body matches `body` (body characters, quotes excluded). */
export function quoted(body: Expr): Expr {
  return seq(literal('"'), body, literal('"'));
}

const SHORT_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x22, '\\"'],
  [0x5c, '\\\\'],
  [0x08, '\\b'],
  [0x0c, '\\f'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
]);

/** The canonical JSON encoding of one code point inside a string body. */
export function encodeCodePoint(codePoint: number): string {
  const short = SHORT_ESCAPES.get(codePoint);
  if (short !== undefined) return short;
  if (codePoint < 0x20) return `\\u${codePoint.toString(16).padStart(4, '0')}`;
  return String.fromCodePoint(codePoint);
}

/** The code points in both range lists. */
export function intersectRanges(a: readonly CharRange[], b: readonly CharRange[]): CharRange[] {
  const result: CharRange[] = [];
  for (const [from, to] of normalizeRanges(a)) {
    for (const [bFrom, bTo] of normalizeRanges(b)) {
      const lo = Math.max(from, bFrom);
      const hi = Math.min(to, bTo);
      if (lo <= hi) result.push([lo, hi]);
    }
  }
  return normalizeRanges(result);
}

/** The code points that need an escape (controls, `"`, `\`) among `ranges`. */
function escapedIn(ranges: readonly CharRange[]): number[] {
  const result: number[] = [];
  for (const [from, to] of ranges) {
    for (let c = from; c <= Math.min(to, 0x5c); c++) {
      if (c < 0x20 || c === 0x22 || c === 0x5c) result.push(c);
    }
  }
  return result;
}

/**
 * The JSON string bodies encoding the texts of `decoded` (an expression over decoded code
 * points, without rule references), each text in its canonical encoding: a character stays as it
 * is unless JSON requires an escape, which is then the short one or `\u00XX`. A character class
 * that needs escapes becomes an alternation, which `share` may turn into a rule reference.
 */
export function encodeDecoded(decoded: Expr, share: (alternatives: Expr) => Expr = (e) => e): Expr {
  const encode = (item: Expr): Expr => encodeDecoded(item, share);
  switch (decoded.kind) {
    case 'empty':
    case 'nothing':
      return decoded;
    case 'chars': {
      const escapes = escapedIn(decoded.ranges);
      const plain = chars(intersectRanges(decoded.ranges, UNESCAPED));
      if (escapes.length === 0) return plain;
      return share(alt(plain, ...escapes.map((c) => literal(encodeCodePoint(c)))));
    }
    case 'literal':
      return literal(Array.from(decoded.text, (c) => encodeCodePoint(c.codePointAt(0)!)).join(''));
    case 'seq':
      return seq(...decoded.items.map(encode));
    case 'alt':
      return alt(...decoded.items.map(encode));
    case 'repeat':
      return repeat(encode(decoded.item), decoded.min, decoded.max);
    case 'ref':
      throw new Error('encodeDecoded: rule references are not expected in string content');
  }
}

interface TrieNode {
  terminal: boolean;
  readonly children: Map<number, TrieNode>;
}

/**
 * Decoded texts of unescaped characters only (so their encoding is themselves) that differ from
 * every name in `names`: the keys an object may add beside its declared properties.
 */
export function textNotIn(names: readonly string[]): Expr {
  const root: TrieNode = { terminal: false, children: new Map() };
  for (const name of names) {
    let node = root;
    for (const c of name) {
      const code = c.codePointAt(0)!;
      let child = node.children.get(code);
      if (child === undefined) {
        child = { terminal: false, children: new Map() };
        node.children.set(code, child);
      }
      node = child;
    }
    node.terminal = true;
  }
  const anyTail = star(chars(UNESCAPED));
  const build = (node: TrieNode): Expr => {
    const taken: CharRange[] = [...node.children.keys()].map((c): CharRange => [c, c]);
    const others = intersectRanges(UNESCAPED, complementRanges(taken));
    return alt(
      node.terminal ? NOTHING : EMPTY,
      seq(chars(others), anyTail),
      ...[...node.children].map(([c, child]) =>
        intersectRanges([[c, c]], UNESCAPED).length === 0
          ? NOTHING
          : seq(literal(String.fromCodePoint(c)), build(child)),
      ),
    );
  };
  return build(root);
}
