/**
 * vLLM's "Received request" log line (unless --disable-log-requests): each engine request's id,
 * its prompt token ids and sampling parameters, the ids cut to `--max-log-len` (vLLM's
 * max_log_len; null = whole).
 *
 * Owns: what is logged of a request and the truncation; the app's pino logger writes it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { EngineRequest } from '../engine/engine-types.ts';

/** The first `maxLogLen` items (all when null). */
export function truncatedForLog<T>(items: readonly T[], maxLogLen: number | null): readonly T[] {
  return maxLogLen === null ? items : items.slice(0, maxLogLen);
}

/** Logs each engine request of a call at info level. */
export function logReceivedRequests(
  log: FastifyBaseLogger,
  requests: readonly EngineRequest[],
  maxLogLen: number | null,
): void {
  // Fastify's logger levels: skip building the lines when info is not logged.
  if (!['info', 'debug', 'trace'].includes(log.level)) return;
  for (const request of requests) {
    const { params } = request;
    log.info(
      {
        requestId: request.id,
        promptTokenIds: truncatedForLog(request.promptTokens, maxLogLen),
        promptTokens: request.promptTokens.length,
        params: {
          ...params,
          seed: params.seed === null ? null : String(params.seed),
          logitBias: params.logitBias === null ? null : Object.fromEntries(params.logitBias),
        },
      },
      'Received request',
    );
  }
}
