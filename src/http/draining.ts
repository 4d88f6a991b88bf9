/**
 * Graceful shutdown on the HTTP side (vLLM's `--shutdown-timeout`): once the server starts
 * draining, every new request is refused with 503 and `Connection: close` (the health checks,
 * `/health` and `/ping`, with an empty body, as vLLM answers them when it cannot serve; the rest
 * with the API's error body), while the requests already in flight run on.
 *
 * Owns: the draining flag, the count of requests in flight (from `onRequest` to the close of
 * their response, streams included), waiting for that count to reach zero within a timeout,
 * and stopping the listener without touching open connections. When to drain and what to close
 * afterwards is the CLI's business (`src/cli/serve.ts`).
 */
import { Server } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

/** The paths that answer an empty 503 while draining (load balancers' health checks). */
const HEALTH_PATHS: ReadonlySet<string> = new Set(['/health', '/ping']);

/** The body of a request refused while draining: 503 in vLLM's error shape. */
export class ShuttingDownError extends ApiError {
  constructor() {
    super(503, 'ServiceUnavailableError', 'The server is shutting down.');
  }
}

/** Shutdown state shared by the app (which counts and refuses) and the CLI (which drains). */
export class DrainGate {
  #draining = false;
  #inFlight = 0;
  #waiters: (() => void)[] = [];

  /** True once `begin` was called: new requests are refused. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Requests accepted and not yet answered (their response not yet closed). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Refuse every request from now on. Idempotent. */
  begin(): void {
    this.#draining = true;
  }

  /**
   * Resolves with true once no request is in flight, or with false after `timeoutMs` when some
   * still are (they are the caller's to abort).
   */
  whenDrained(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== done);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(done);
    });
  }

  /** Count `reply` in flight until its response closes (finished, or the connection dropped). */
  track(reply: FastifyReply): void {
    this.#inFlight++;
    reply.raw.once('close', () => {
      this.#inFlight--;
      if (this.#inFlight > 0) return;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter();
    });
  }
}

/** An onRequest hook: count the request, or refuse it when the gate is draining. */
export function drainHook(
  gate: DrainGate,
): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  return (request, reply) => {
    if (!gate.draining) {
      gate.track(reply);
      return Promise.resolve(undefined);
    }
    // The client should not send the next request on this connection.
    reply.header('connection', 'close');
    // Returning the reply after sending it tells Fastify the hook answered.
    if (HEALTH_PATHS.has(request.url.split('?', 1)[0]!)) {
      return Promise.resolve(reply.code(503).send());
    }
    return Promise.reject(new ShuttingDownError());
  };
}

/** Registers the gate's hook (before authentication: a draining server refuses everyone). */
export function registerDrainGate(app: FastifyInstance, gate: DrainGate): void {
  app.addHook('onRequest', drainHook(gate));
}

/**
 * Stop accepting connections while the open ones (in-flight requests, idle keep-alive ones that
 * will be answered 503) stay up. Node's `http.Server.close` would also close the idle ones, so
 * the listener is closed at the `net.Server` level. Errors (not listening) are ignored.
 */
export function stopListening(server: Server): void {
  Server.prototype.close.call(server, () => undefined);
}
