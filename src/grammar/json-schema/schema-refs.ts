/**
 * `$ref` resolution inside the one schema document: `#` and JSON Pointers `#/...` (so
 * `#/$defs/x` and `#/definitions/x`), always from the root document (`$id` is an annotation
 * here, not a new base URI). References to other documents and to `$anchor`s are refused.
 *
 * Owns: pointer parsing and lookup.
 */
import { schemaError, type Schema } from './schema-keywords.ts';

/** A resolved reference: the target and its location (the normalized pointer). */
export interface ResolvedRef {
  readonly schema: Schema;
  readonly path: string;
}

/** Looks `ref` (found at `path`) up in `root`. Throws a GrammarError when it cannot. */
export function resolveRef(root: unknown, ref: string, path: string): ResolvedRef {
  if (!ref.startsWith('#')) {
    throw schemaError(
      path,
      `'$ref' '${ref}' points outside the schema; only local references ('#', '#/$defs/...') are supported`,
    );
  }
  const fragment = decodeFragment(ref.slice(1), path);
  if (fragment !== '' && !fragment.startsWith('/')) {
    throw schemaError(
      path,
      `'$ref' '${ref}' names an anchor; only JSON Pointer references are supported`,
    );
  }
  let target: unknown = root;
  const tokens = fragment === '' ? [] : fragment.slice(1).split('/');
  for (const raw of tokens) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(target) && /^(0|[1-9][0-9]*)$/.test(token)) target = target[Number(token)];
    else if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
      target = Object.hasOwn(target, token)
        ? (target as Record<string, unknown>)[token]
        : undefined;
    } else target = undefined;
    if (target === undefined) break;
  }
  if (
    typeof target !== 'boolean' &&
    (typeof target !== 'object' || target === null || Array.isArray(target))
  ) {
    throw schemaError(path, `'$ref' '${ref}' does not resolve to a schema in this document`);
  }
  return { schema: target as Schema, path: `#${tokens.map((t) => `/${t}`).join('')}` };
}

function decodeFragment(fragment: string, path: string): string {
  try {
    return decodeURIComponent(fragment);
  } catch {
    throw schemaError(path, `'$ref' '#${fragment}' is not a valid URI fragment`);
  }
}
