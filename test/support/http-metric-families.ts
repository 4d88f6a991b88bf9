/**
 * The HTTP metric families vLLM exposes through prometheus-fastapi-instrumentator, with their
 * Prometheus types, as the tests expect them (written from the instrumentator's defaults, not
 * read from src/http/metrics).
 */
export const HTTP_METRIC_FAMILIES = {
  http_requests_total: 'counter',
  http_request_size_bytes: 'summary',
  http_response_size_bytes: 'summary',
  http_request_duration_highr_seconds: 'histogram',
  http_request_duration_seconds: 'histogram',
} as const;
