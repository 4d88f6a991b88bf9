/**
 * The server-wide HTTP behaviours vLLM's frontend flags switch: CORS (`--allowed-origins`,
 * `--allowed-methods`, `--allowed-headers`, `--allow-credentials`, as Starlette's CORSMiddleware
 * applies them), `--root-path` (requests under the prefix are served as without it),
 * `--enable-request-id-headers` (every response carries `X-Request-Id`) and
 * `--enable-server-load-tracking` (`GET /load` counts generation requests in flight).
 *
 * Owns: turning those settings into Fastify options, hooks and the /load route. CORS itself is
 * @fastify/cors.
 */
import { randomUUID } from 'node:crypto';
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** vLLM's CORS flags: JSON lists where "*" allows any. */
export interface CorsSettings {
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly allowCredentials: boolean;
}

/** vLLM's defaults: any origin, method and header; no credentials. */
export const DEFAULT_CORS: CorsSettings = {
  allowedOrigins: ['*'],
  allowedMethods: ['*'],
  allowedHeaders: ['*'],
  allowCredentials: false,
};

/** Starlette's ALL_METHODS, what "*" allows. */
const ALL_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];

/** @fastify/cors options with Starlette's meaning of the settings. */
export function corsOptions(settings: CorsSettings): FastifyCorsOptions {
  const anyOrigin = settings.allowedOrigins.includes('*');
  return {
    // "*" with credentials: Starlette echoes the request's Origin (a literal * is not allowed).
    origin: anyOrigin ? (settings.allowCredentials ? true : '*') : [...settings.allowedOrigins],
    methods: settings.allowedMethods.includes('*') ? ALL_METHODS : [...settings.allowedMethods],
    // Absent: the preflight's Access-Control-Request-Headers are allowed back.
    ...(settings.allowedHeaders.includes('*')
      ? {}
      : { allowedHeaders: [...settings.allowedHeaders] }),
    credentials: settings.allowCredentials,
    maxAge: 600,
    strictPreflight: false,
  };
}

/** Registers CORS on the app. */
export function registerCors(app: FastifyInstance, settings: CorsSettings): void {
  void app.register(cors, corsOptions(settings));
}

/**
 * Fastify's `rewriteUrl` for `--root-path`: a request under the prefix is routed as the rest of
 * its path (`/llm/v1/models` as `/v1/models`); others unchanged.
 */
export function rootPathRewrite(rootPath: string): (url: string) => string {
  const prefix = rootPath.replace(/\/+$/, '');
  return (url) => {
    if (prefix === '') return url;
    if (url === prefix) return '/';
    if (url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`)) {
      const rest = url.slice(prefix.length);
      return rest.startsWith('?') ? `/${rest}` : rest;
    }
    return url;
  };
}

/** `--enable-request-id-headers`: echo X-Request-Id, or a fresh uuid4 hex, on every response. */
export function registerRequestIdHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const given = request.headers['x-request-id'];
    const id = typeof given === 'string' && given !== '' ? given : randomUUID().replace(/-/g, '');
    void reply.header('X-Request-Id', id);
    done();
  });
}

/** The routes whose requests `/load` counts (the generation endpoints). */
const TRACKED = ['/v1/completions', '/v1/chat/completions'];

/**
 * `GET /load`: `{"server_load": n}`, n the generation requests in flight when tracking is on
 * (counted from arrival until the response ends or the client goes), else always 0.
 */
export function registerServerLoad(app: FastifyInstance, tracking: boolean): void {
  let load = 0;
  if (tracking) {
    app.addHook('onRequest', (request, reply, done) => {
      const path = request.url.split('?', 1)[0]!;
      if (TRACKED.includes(path)) {
        load++;
        reply.raw.once('close', () => load--);
      }
      done();
    });
  }
  app.get('/load', () => ({ server_load: load }));
}
