/**
 * JSON text for fuzzed request bodies, including what JSON.stringify cannot write.
 *
 * Owns: `RawJson` (a literal spliced into the text as it is: `1e999`, `-0`, an int64 beyond 2^53,
 * a 10,000-deep nesting) and `jsonText`, the serializer that honours it. Values are plain JSON
 * data otherwise; strings go through JSON.stringify (lone surrogates come out as `\udXXX`
 * escapes, which JSON.parse turns back into lone surrogates).
 */

/** A piece of JSON text written verbatim where a value goes. */
export class RawJson {
  /** The literal, e.g. `1e999` or `[[[[]]]]`. */
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  /** How fast-check and assertion messages print it (long literals cut). */
  toString(): string {
    return this.text.length > 80 ? `RawJson(${this.text.slice(0, 80)}...)` : this.text;
  }
  toJSON(): string {
    return this.toString();
  }
}

/** A JSON value whose parts may be RawJson literals. */
export type FuzzJson =
  | null
  | boolean
  | number
  | string
  | RawJson
  | readonly FuzzJson[]
  | { readonly [key: string]: FuzzJson | undefined };

/**
 * The JSON text of `value`: RawJson as written, `undefined` members left out (as
 * JSON.stringify does), non-finite numbers as `null`. Nesting comes from RawJson, so plain
 * recursion stays shallow.
 */
export function jsonText(value: FuzzJson | undefined): string {
  if (value === undefined) return 'null';
  if (value instanceof RawJson) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    return `[${(value as readonly FuzzJson[]).map((item) => jsonText(item)).join(',')}]`;
  }
  const members: string[] = [];
  for (const [key, item] of Object.entries(value as Record<string, FuzzJson | undefined>)) {
    if (item !== undefined) members.push(`${JSON.stringify(key)}:${jsonText(item)}`);
  }
  return `{${members.join(',')}}`;
}
