/**
 * vLLM's HTTP metrics: what prometheus-fastapi-instrumentator's default instrumentation (7.x)
 * exposes on vLLM's `/metrics`, over prom-client on the same registry as the `vllm:*` series.
 *
 * Owns: the five families with the instrumentator's names, types, help texts, label names and
 * default buckets, and the Fastify hook that observes each request once, when its response is
 * over (a stream's duration runs to its last byte, as vLLM measures it), or when the connection
 * closes first:
 * - `http_requests_total{method,status,handler}` (counter; status grouped as "2xx", "4xx", ...),
 * - `http_request_size_bytes{handler}`, `http_response_size_bytes{handler}` (summaries without
 *   quantiles of the Content-Length headers; a response without one, an event stream, counts 0),
 * - `http_request_duration_highr_seconds` (histogram, no labels, many buckets),
 * - `http_request_duration_seconds{method,handler}` (histogram, 0.1, 0.5 and 1 s).
 *
 * `handler` is the route's template in FastAPI's spelling (`/v1/models/{model}`: a route's
 * `config.metricsHandler`, else its URL with `:name` as `{name}`), or "none" for a request that
 * matched no route. vLLM leaves out /metrics, /health, /load, /ping, /version.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Histogram, Summary, type Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's `handler` label where its URL spells no template (a wildcard route). */
    readonly metricsHandler?: string;
  }
}

/** The instrumentator's `latency_highr_buckets` default. */
export const LATENCY_HIGHR_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30,
  60,
];

/** The instrumentator's `latency_lowr_buckets` default. */
export const LATENCY_LOWR_BUCKETS = [0.1, 0.5, 1];

/** The handlers vLLM's Instrumentator excludes (`excluded_handlers`). */
export const EXCLUDED_HANDLERS: ReadonlySet<string> = new Set([
  '/metrics',
  '/health',
  '/load',
  '/ping',
  '/version',
]);

/** The instrumentator's label for a request no route matched (`should_group_untemplated`). */
export const UNTEMPLATED_HANDLER = 'none';

/** One finished request, as the instrumentation sees it. */
export interface HttpObservation {
  /** The route template (FastAPI spelling) or "none". */
  readonly handler: string;
  readonly method: string;
  readonly statusCode: number;
  /** The request's Content-Length header (0 without one). */
  readonly requestBytes: number;
  /** The response's Content-Length header (0 without one). */
  readonly responseBytes: number;
  /** From the request's arrival to the end of its response. */
  readonly seconds: number;
}

/** The five HTTP families on `registry`. */
export class HttpMetrics {
  readonly #requests: Counter<'method' | 'status' | 'handler'>;
  readonly #requestSize: Summary<'handler'>;
  readonly #responseSize: Summary<'handler'>;
  readonly #latencyHighr: Histogram;
  readonly #latencyLowr: Histogram<'method' | 'handler'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#requests = new Counter({
      name: 'http_requests_total',
      help: 'Total number of requests by method, status and handler.',
      labelNames: ['method', 'status', 'handler'],
      registers,
    });
    this.#requestSize = new Summary({
      name: 'http_request_size_bytes',
      help:
        'Content length of incoming requests by handler. Only value of header is respected. ' +
        'Otherwise ignored. No percentile calculated. ',
      labelNames: ['handler'],
      percentiles: [],
      registers,
    });
    this.#responseSize = new Summary({
      name: 'http_response_size_bytes',
      help:
        'Content length of outgoing responses by handler. Only value of header is respected. ' +
        'Otherwise ignored. No percentile calculated. ',
      labelNames: ['handler'],
      percentiles: [],
      registers,
    });
    this.#latencyHighr = new Histogram({
      name: 'http_request_duration_highr_seconds',
      help:
        'Latency with many buckets but no API specific labels. ' +
        'Made for more accurate percentile calculations. ',
      buckets: LATENCY_HIGHR_BUCKETS,
      registers,
    });
    this.#latencyLowr = new Histogram({
      name: 'http_request_duration_seconds',
      help:
        'Latency with only few buckets by handler. ' +
        'Made to be only used if aggregation by handler is important. ',
      labelNames: ['method', 'handler'],
      buckets: LATENCY_LOWR_BUCKETS,
      registers,
    });
  }

  /** Records one request (the instrumentator's `default()` instrumentation). */
  observe(observation: HttpObservation): void {
    const { handler, method, seconds } = observation;
    const status = `${Math.floor(observation.statusCode / 100)}xx`;
    this.#requests.inc({ method, status, handler });
    this.#requestSize.observe({ handler }, observation.requestBytes);
    this.#responseSize.observe({ handler }, observation.responseBytes);
    this.#latencyHighr.observe(seconds);
    this.#latencyLowr.observe({ method, handler }, seconds);
  }
}

/** A Fastify route URL in FastAPI's spelling: `/v1/models/:model` -> `/v1/models/{model}`. */
export function handlerLabel(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** A Content-Length header as the instrumentator reads it: its integer, else 0. */
function contentLength(value: number | string | readonly string[] | undefined): number {
  const text: number | string | undefined = typeof value === 'object' ? value[0] : value;
  const length = Number(text ?? 0);
  return Number.isSafeInteger(length) && length >= 0 ? length : 0;
}

/** The handler label of a request, or null when vLLM does not instrument it. */
function instrumentedHandler(request: FastifyRequest): string | null {
  const url = request.routeOptions.url;
  if (request.is404 || url === undefined || url === '*') return UNTEMPLATED_HANDLER;
  const handler = request.routeOptions.config.metricsHandler ?? handlerLabel(url);
  return EXCLUDED_HANDLERS.has(handler) ? null : handler;
}

/**
 * Observes every instrumented request of `app` when its response closes (after its last byte,
 * or when the client went away). Register it before the other onRequest hooks so a request
 * they answer (CORS preflight, 401) is timed from its arrival.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: HttpMetrics): void {
  app.addHook('onRequest', (request, reply, done) => {
    const handler = instrumentedHandler(request);
    if (handler !== null) {
      const start = performance.now();
      reply.raw.once('close', () => {
        metrics.observe({
          handler,
          method: request.method,
          statusCode: reply.raw.statusCode,
          requestBytes: contentLength(request.headers['content-length']),
          // Fastify passes its headers to writeHead: they are the reply's, not the raw response's.
          responseBytes: contentLength(
            reply.getHeader('content-length') ?? reply.raw.getHeader('content-length'),
          ),
          seconds: (performance.now() - start) / 1000,
        });
      });
    }
    done();
  });
}
