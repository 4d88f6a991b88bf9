/**
 * Request bodies: the JSON parser the app installs and the media-type rule of the API routes.
 *
 * Owns: parsing JSON with Fastify's prototype-poisoning guard, answering malformed JSON with a
 * 400, and keeping an integer `seed` exact: JSON.parse rounds integers beyond 2^53, so the
 * top-level `seed` literal is re-read from the text and handed on as a bigint (vLLM's int64
 * bounds are then checked on the exact value). Other media types are accepted by the parser
 * (so routes that take no body do not fail) and refused by `assertJsonMediaType` where a JSON
 * body is required, with vLLM's message.
 */
import type { FastifyInstance } from 'fastify';
import { RequestValidationError } from './errors.ts';

/** Registers the JSON parser and a catch-all parser that drops other bodies. */
export function installBodyParsers(app: FastifyInstance): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    void secureParse(request, text, (error, value) => {
      if (error) {
        done(new RequestValidationError(`JSON decode error: ${error.message}`), undefined);
        return;
      }
      done(null, withExactSeed(value, text));
    });
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => {
    done(null, undefined);
  });
}

/** Throws vLLM's 400 unless the content type's media type is application/json. */
export function assertJsonMediaType(contentType: string | undefined): void {
  const mediaType = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new RequestValidationError(
      "Unsupported Media Type: Only 'application/json' is allowed",
      'Content-Type',
    );
  }
}

const INTEGER_LITERAL = /^-?\d+$/;

/** Replaces a top-level integer `seed` with the bigint its literal spells. */
function withExactSeed(value: unknown, text: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (typeof record['seed'] !== 'number') return value;
  const literal = topLevelNumberLiteral(text, 'seed');
  if (literal !== null && INTEGER_LITERAL.test(literal)) record['seed'] = BigInt(literal);
  return value;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

function skipWhitespace(text: string, from: number): number {
  WHITESPACE.lastIndex = from;
  WHITESPACE.exec(text);
  return WHITESPACE.lastIndex;
}

/** Index just past the string literal that opens at `start` (a '"'). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i += 1;
  }
  return text.length;
}

/**
 * The raw text of the number held by top-level key `key` of the valid JSON object `text` (the
 * last occurrence, as JSON.parse keeps), or null when that key holds no number.
 */
export function topLevelNumberLiteral(text: string, key: string): string | null {
  let depth = 0;
  let found: string | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = endOfString(text, i);
      if (depth === 1) {
        const colon = skipWhitespace(text, end);
        if (text[colon] === ':' && JSON.parse(text.slice(i, end)) === key) {
          NUMBER.lastIndex = skipWhitespace(text, colon + 1);
          found = NUMBER.exec(text)?.[0] ?? null;
        }
      }
      i = end;
      continue;
    }
    if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') depth -= 1;
    i += 1;
  }
  return found;
}
