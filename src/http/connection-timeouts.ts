/**
 * The HTTP server's connection timeouts, against clients that hold connections without using
 * them (slowloris: headers or a body sent a byte at a time, idle keep-alive connections).
 *
 * Owns: the three limits (`--timeout-request-headers`, `--timeout-request-body`, vLLM's
 * `--timeout-keep-alive`), their defaults, and the Node/Fastify server options that enforce
 * them. None of them limits a response: a stream may run, and stay silent while its request
 * waits or prefills, for as long as it needs.
 */

/** Seconds; all positive. */
export interface ConnectionTimeouts {
  /**
   * A request's headers must arrive within this many seconds of its first byte (or of the
   * connection, for its first request); else 408 and the connection closes.
   */
  readonly headersS: number;
  /**
   * The whole request, headers and body, must arrive within this many seconds; else 408 and
   * the connection closes. At least `headersS`.
   */
  readonly requestS: number;
  /**
   * An idle keep-alive connection (its last response sent, no new request) is closed after this
   * many seconds (uvicorn's `--timeout-keep-alive`, vLLM's default 5). Node advertises it in
   * `Keep-Alive: timeout=N` and closes about one second later, so a client that honours the
   * header never sends into a closing connection.
   */
  readonly keepAliveS: number;
}

/**
 * Defaults: vLLM's keep-alive (5 s); 10 s for the headers (a client sends them in one packet);
 * 60 s for a whole request (32 MiB, the default largest body, at about 0.5 MB/s).
 */
export const DEFAULT_CONNECTION_TIMEOUTS: ConnectionTimeouts = {
  headersS: 10,
  requestS: 60,
  keepAliveS: 5,
};

/** The options of Node's `http(s).createServer` that enforce `timeouts`. */
export interface NodeTimeoutOptions {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly connectionsCheckingInterval: number;
}

/**
 * Node's server options for `timeouts` (milliseconds). Node checks the header and request
 * timeouts every `connectionsCheckingInterval` (30 s by default, which would let a slowloris
 * client hold a connection up to 30 s past its limit): a quarter of the shorter limit, at most
 * 1 s. Throws a RangeError for a limit that is not positive, or headers longer than the request.
 */
export function nodeTimeoutOptions(timeouts: ConnectionTimeouts): NodeTimeoutOptions {
  for (const [name, value] of Object.entries(timeouts)) {
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      throw new RangeError(`the ${name} timeout must be a positive number of seconds`);
    }
  }
  if (timeouts.headersS > timeouts.requestS) {
    throw new RangeError('the headers timeout must not exceed the request timeout');
  }
  const headersTimeout = Math.ceil(timeouts.headersS * 1000);
  return {
    headersTimeout,
    requestTimeout: Math.max(headersTimeout, Math.ceil(timeouts.requestS * 1000)),
    keepAliveTimeout: Math.ceil(timeouts.keepAliveS * 1000),
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}
