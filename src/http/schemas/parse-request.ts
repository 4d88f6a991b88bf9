/**
 * Runs a request schema and turns its failures into the API's 400.
 *
 * Owns: the text of schema errors: each issue as `<location>: <message>` (the location
 * dotted, list indices included, as pydantic prints it), all issues joined; `param` is the
 * top-level field of the first issue. Numeric bounds read as pydantic's, with its error type
 * (`Input should be greater than or equal to -1 [type=greater_than_equal]`), which clients of
 * vLLM match on.
 */
import type { z } from 'zod';
import { RequestValidationError } from '../errors.ts';

type Issue = z.core.$ZodIssue;

function location(path: readonly PropertyKey[]): string {
  return path.map((key) => String(key)).join('.');
}

const NUMERIC_ORIGINS = new Set(['number', 'int', 'bigint']);

/** pydantic's text for a numeric bound, or null for any other issue. */
function pydanticBound(issue: Issue): string | null {
  if (issue.code === 'too_small' && NUMERIC_ORIGINS.has(issue.origin)) {
    const bound = String(issue.minimum);
    return issue.inclusive === false
      ? `Input should be greater than ${bound} [type=greater_than]`
      : `Input should be greater than or equal to ${bound} [type=greater_than_equal]`;
  }
  if (issue.code === 'too_big' && NUMERIC_ORIGINS.has(issue.origin)) {
    const bound = String(issue.maximum);
    return issue.inclusive === false
      ? `Input should be less than ${bound} [type=less_than]`
      : `Input should be less than or equal to ${bound} [type=less_than_equal]`;
  }
  return null;
}

/** The most specific issues: for a failed union, the issues of its alternatives. */
function leafIssues(
  issue: Issue,
  prefix: readonly PropertyKey[],
): { path: string; text: string }[] {
  const path = [...prefix, ...issue.path];
  if (
    issue.code === 'invalid_union' &&
    issue.errors.length > 0 &&
    issue.message === 'Invalid input'
  ) {
    const alternatives = issue.errors.flatMap((issues) =>
      issues.flatMap((inner) => leafIssues(inner, path)),
    );
    const unique = new Map(alternatives.map((entry) => [`${entry.path}: ${entry.text}`, entry]));
    return [...unique.values()];
  }
  return [{ path: location(path), text: pydanticBound(issue) ?? issue.message }];
}

/** Validates `body` against `schema`; a failure throws BadRequestError naming the field. */
export function parseRequest<Schema extends z.ZodType>(
  schema: Schema,
  body: unknown,
): z.output<Schema> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const parts = issues.flatMap((issue) => leafIssues(issue, []));
  const message = parts
    .map((part) => (part.path === '' ? part.text : `${part.path}: ${part.text}`))
    .join('; ');
  const first = issues[0]?.path[0];
  throw new RequestValidationError(message, typeof first === 'string' ? first : null);
}
