/**
 * The HTTP layer's error types and the one place that turns any failure into an HTTP status and
 * a body.
 *
 * Owns: `ApiError` and its subclasses (one per status the API answers), the mapping of engine
 * and framework errors onto them (`toApiError`), and the wire bodies: vLLM's
 * `{"error": {"message", "type", "param", "code"}}` and the bare `{"error": "Unauthorized"}` of a
 * failed API-key check, and the `Retry-After` of an overload 503. Mid-stream errors use the
 * same body as an SSE event.
 */
import { STATUS_CODES } from 'node:http';
import { EngineOverloadedError, EngineRequestError } from '../engine/engine-types.ts';

/** vLLM's error body (HTTP status = `code`). */
export interface ErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: number;
  };
}

/** A failure the API reports with `status` and vLLM's error body. */
export class ApiError extends Error {
  /** HTTP status, also the body's `code`. */
  readonly status: number;
  /** The body's `type`, e.g. "BadRequestError". */
  readonly type: string;
  /** The request parameter at fault, as the API names it, or null. */
  readonly param: string | null;

  constructor(status: number, type: string, message: string, param: string | null = null) {
    super(message);
    this.name = type;
    this.status = status;
    this.type = type;
    this.param = param;
  }
}

/** 400: the request is invalid (schema, ranges, context length, unsupported values). */
export class BadRequestError extends ApiError {
  constructor(message: string, param: string | null = null) {
    super(400, 'BadRequestError', message, param);
  }
}

/**
 * 400 for a body that fails schema validation, is not JSON or has the wrong content type: vLLM
 * answers these from its request-validation handler with the HTTP reason phrase as `type`.
 */
export class RequestValidationError extends ApiError {
  constructor(message: string, param: string | null = null) {
    super(400, 'Bad Request', message, param);
  }
}

/**
 * 400 from one of the request model's own validators (vLLM's pydantic `model_validator`s, such as
 * "stream_options needs stream"): vLLM answers them from the same request-validation handler, so
 * `type` is the reason phrase and the text carries pydantic's `Value error, ` prefix.
 */
export function requestModelError(message: string, param: string | null = null): ApiError {
  return new RequestValidationError(`Value error, ${message}`, param);
}

/** 404: the requested model is not served. */
export class NotFoundError extends ApiError {
  constructor(message: string, param: string | null = null) {
    super(404, 'NotFoundError', message, param);
  }
}

/**
 * 413: the body is larger than `--max-request-body`; the message names the limit. vLLM has no
 * such limit (uvicorn reads any body), so the body follows its HTTPException rendering: the
 * reason phrase as `type`.
 */
export class PayloadTooLargeError extends ApiError {
  constructor(limitBytes: number) {
    super(
      413,
      'Payload Too Large',
      `Request body is too large: the limit is ${limitBytes} bytes (--max-request-body)`,
    );
  }
}

/** 500: a failure that is not the client's fault. */
export class InternalServerError extends ApiError {
  constructor(message: string) {
    super(500, 'InternalServerError', message, null);
  }
}

/**
 * The `Retry-After` of an overload 503, in seconds: about how long a burst of short requests
 * takes to leave the queue; clients that honour it spread their retries instead of hammering.
 */
export const OVERLOAD_RETRY_AFTER_S = 1;

/**
 * 503 with `Retry-After`: the engine holds all the requests it may (`--max-waiting-requests`).
 * Answered before any byte of a response, streams included.
 */
export class ServiceUnavailableError extends ApiError {
  /** Seconds a client should wait before retrying (the `Retry-After` header). */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number = OVERLOAD_RETRY_AFTER_S) {
    super(503, 'ServiceUnavailableError', message, null);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 401: missing or wrong API key. Its body is vLLM's bare `{"error": "Unauthorized"}`. */
export class UnauthorizedError extends Error {
  constructor() {
    super('Unauthorized');
    this.name = 'UnauthorizedError';
  }
}

/** Fastify's own client errors (body too large, bad content length, ...) carry a statusCode. */
function frameworkStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return null;
  const status = error.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}

/**
 * Any failure as an ApiError: ApiErrors as they are, the engine's refusals as 400s (its overload
 * as a 503), Fastify's client errors with their status, everything else as a 500.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof EngineRequestError)
    return new BadRequestError(error.message, error.parameter);
  if (error instanceof EngineOverloadedError) return new ServiceUnavailableError(error.message);
  const message = error instanceof Error ? error.message : String(error);
  const status = frameworkStatus(error);
  if (status !== null) {
    return status === 400
      ? new BadRequestError(message)
      : new ApiError(status, STATUS_CODES[status] ?? 'Error', message);
  }
  return new InternalServerError(message);
}

/** vLLM's error body for an ApiError. */
export function errorBody(error: ApiError): ErrorBody {
  return {
    error: { message: error.message, type: error.type, param: error.param, code: error.status },
  };
}

/** No extra response headers. */
const NO_HEADERS: Readonly<Record<string, string>> = {};

/**
 * The status, body and extra headers (`Retry-After` of a 503) the API answers for any failure;
 * the only such mapping.
 */
export function errorResponse(error: unknown): {
  readonly status: number;
  readonly body: ErrorBody | { readonly error: 'Unauthorized' };
  readonly headers: Readonly<Record<string, string>>;
} {
  if (error instanceof UnauthorizedError) {
    return { status: 401, body: { error: 'Unauthorized' }, headers: NO_HEADERS };
  }
  const apiError = toApiError(error);
  const headers =
    apiError instanceof ServiceUnavailableError
      ? { 'retry-after': String(apiError.retryAfterSeconds) }
      : NO_HEADERS;
  return { status: apiError.status, body: errorBody(apiError), headers };
}
