/**
 * API-key authentication (vLLM's `--api-key`, one or several keys; any of them is accepted).
 *
 * Owns: which paths need the key (`/v1` and below; health, version, ping and metrics stay open;
 * CORS preflight `OPTIONS` is never checked) and the check itself: `Authorization: Bearer <key>`
 * with the scheme compared case-insensitively and the token compared in constant time (SHA-256
 * digests of equal length, so neither the key's length nor its content leaks through timing).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from './errors.ts';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** True for paths under `/v1` (the query string ignored). */
export function requiresApiKey(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  return path === '/v1' || path.startsWith('/v1/');
}

/**
 * True when the Authorization header carries `Bearer <token>` and the token is one of the keys
 * (given as SHA-256 digests). Every key is compared, so the time does not tell which matched.
 */
export function bearerTokenMatches(
  header: string | undefined,
  keyDigests: readonly Buffer[],
): boolean {
  if (header === undefined) return false;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return false;
  const token = digest(header.slice(space + 1).trim());
  let matched = false;
  for (const keyDigest of keyDigests) matched = timingSafeEqual(token, keyDigest) || matched;
  return matched;
}

/**
 * An onRequest hook that refuses `/v1` requests without one of the keys (401
 * `{"error":"Unauthorized"}`, rendered by the app's error handler).
 */
export function apiKeyHook(apiKeys: readonly string[]): (request: FastifyRequest) => Promise<void> {
  const keyDigests = apiKeys.map(digest);
  return (request) => {
    if (request.method === 'OPTIONS' || !requiresApiKey(request.url)) return Promise.resolve();
    if (bearerTokenMatches(request.headers.authorization, keyDigests)) return Promise.resolve();
    return Promise.reject(new UnauthorizedError());
  };
}
