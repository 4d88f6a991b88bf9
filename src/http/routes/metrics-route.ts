/**
 * `GET /metrics`: the Prometheus text exposition of vLLM's metrics (see metrics/vllm-metrics.ts),
 * open without an API key as in vLLM.
 */
import type { FastifyInstance } from 'fastify';
import type { VllmMetrics } from '../metrics/vllm-metrics.ts';

/** Registers the metrics route. */
export function registerMetricsRoute(app: FastifyInstance, metrics: VllmMetrics): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
}
