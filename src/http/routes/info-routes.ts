/**
 * The small routes: `GET /v1/models` (one vLLM model card per served name), `GET
 * /v1/models/{model}` (one card, OpenAI's retrieve; 404 for a name not served), `GET /health`
 * (200, empty), `GET|POST /ping` (SageMaker's health check, same answer) and `GET /version`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { unixSeconds, type ServedModels } from '../served-models.ts';

/** Registers the model list, health, ping and version routes. */
export function registerInfoRoutes(
  app: FastifyInstance,
  models: ServedModels,
  version: string,
): void {
  app.get('/v1/models', () => models.list(unixSeconds()));
  // A wildcard: served names may hold slashes ("Qwen/Qwen2.5-0.5B", a file path).
  app.get<{ Params: { '*': string } }>(
    '/v1/models/*',
    { config: { metricsHandler: '/v1/models/{model}' } },
    (request) => models.card(request.params['*'], unixSeconds()),
  );
  const healthy = (_request: FastifyRequest, reply: FastifyReply): FastifyReply => reply.send();
  app.get('/health', healthy);
  app.get('/ping', healthy);
  app.post('/ping', healthy);
  app.get('/version', () => ({ version }));
}
