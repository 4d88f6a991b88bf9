/**
 * Canonical JSON text of parsed values: object keys sorted, no whitespace. Equal JSON values
 * (as Ajv's deep equality sees them) have equal canonical texts.
 *
 * Owns: that serialization, used for enum/const intersection and as the memo key of merged
 * schemas.
 */

/** The canonical text of a JSON value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** True when two JSON values are equal. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
