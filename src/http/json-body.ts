/**
 * Request bodies: the JSON parser the app installs and the media-type rule of the API routes.
 *
 * Owns: parsing JSON with Fastify's prototype-poisoning guard, answering malformed JSON and
 * bodies that are not UTF-8 with a 400 (as FastAPI does: `JSON decode error: ...`, `There was
 * an error parsing the body`), also when nested deeper than Python's parser goes, the 413 of a
 * body over `--max-request-body`, and keeping an integer `seed` exact: JSON.parse rounds
 * integers beyond 2^53, so the top-level `seed` literal is re-read from the text and handed on
 * as a bigint (vLLM's int64 bounds are then checked on the exact value). Other media types are accepted by the parser
 * (so routes that take no body do not fail) and refused by `assertJsonMediaType` where a JSON
 * body is required, with vLLM's message.
 */
import type { FastifyInstance } from 'fastify';
import { PayloadTooLargeError, RequestValidationError } from './errors.ts';

/** Strict UTF-8: a malformed sequence throws instead of becoming U+FFFD. A BOM is dropped. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The body's text, or vLLM's 400 when its bytes are not UTF-8 (Python's json.loads refuses them). */
function utf8Text(body: string | Buffer): string {
  if (typeof body === 'string') return body;
  try {
    return UTF8.decode(body);
  } catch {
    throw new RequestValidationError('There was an error parsing the body');
  }
}

/**
 * Deepest nesting of arrays and objects a body may have. Python's json module (vLLM's parser)
 * stops at its recursion limit, about 1000 levels, with FastAPI's "There was an error parsing
 * the body"; here the code that walks request values (schemas, templates, messages) recurses
 * too, so deeper bodies are refused the same way before they are parsed.
 */
export const MAX_JSON_DEPTH = 1000;

/** Whether the JSON text nests arrays and objects deeper than `limit` (strings skipped). */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: to its closing quote, past escaped characters.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Registers the JSON parser and a catch-all parser that drops other bodies. */
export function installBodyParsers(app: FastifyInstance): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8Text(body);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    if (nestingExceeds(text, MAX_JSON_DEPTH)) {
      done(
        new RequestValidationError(
          `There was an error parsing the body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
        ),
        undefined,
      );
      return;
    }
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

/**
 * Fastify's body errors as the API's: "body too large" as the 413 naming `limitBytes`; a
 * content type it cannot parse (`;;;`, `json`) as vLLM's media-type 400 rather than a 415. Any
 * other error unchanged. Fastify raises them before a parser runs.
 */
export function fromBodyParser(error: unknown, limitBytes: number): unknown {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : null;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PayloadTooLargeError(limitBytes);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return unsupportedMediaType();
  return error;
}

/** vLLM's answer to a body that is not JSON-typed. */
function unsupportedMediaType(): RequestValidationError {
  return new RequestValidationError(
    "Unsupported Media Type: Only 'application/json' is allowed",
    'Content-Type',
  );
}

/** Throws vLLM's 400 unless the content type's media type is application/json. */
export function assertJsonMediaType(contentType: string | undefined): void {
  const mediaType = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') throw unsupportedMediaType();
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
