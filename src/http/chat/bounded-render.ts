/**
 * Bounds on rendering a chat template the server does not trust (a request's own template,
 * with --trust-request-chat-template). @huggingface/jinja runs synchronously on the event loop,
 * so a template that loops for ever (`{% for a in range(10**9) %}`) would stall every request;
 * its output is unbounded too.
 *
 * Owns: running a synchronous function under a wall-clock limit (it is called from a script run
 * in a `node:vm` context with vm's `timeout`, whose watchdog stops whatever JavaScript runs on
 * this thread when the time is up, the template engine's own frames included) and the limits'
 * defaults. The vm context holds nothing but the call: it is a watchdog, not a sandbox (the
 * template engine is the sandbox: no file, process or module access).
 */
import { createContext, Script } from 'node:vm';

/** Bounds on one rendering. */
export interface RenderLimits {
  /** Wall-clock milliseconds one rendering may run before it is stopped. */
  readonly timeoutMs: number;
  /** Most characters the rendered prompt may have. */
  readonly maxLength: number;
}

/** A request's template: 1 s (chat templates render in well under a millisecond), 32 Mi chars. */
export const REQUEST_TEMPLATE_LIMITS: RenderLimits = {
  timeoutMs: 1000,
  maxLength: 32 * 1024 * 1024,
};

/** Thrown when the function ran past its time. */
export class RenderTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the chat template took longer than ${timeoutMs} ms to render`);
    this.name = 'RenderTimeoutError';
  }
}

const watchdogContext = createContext({ call: null as (() => unknown) | null });
const callScript = new Script('call()', { filename: 'bounded-render' });

function isTimeout(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    error.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT'
  );
}

/** `fn()`, or RenderTimeoutError once it has run `timeoutMs` milliseconds. Other errors pass. */
export function runWithTimeout<T>(fn: () => T, timeoutMs: number): T {
  (watchdogContext as { call: (() => unknown) | null }).call = fn;
  try {
    return callScript.runInContext(watchdogContext, { timeout: timeoutMs }) as T;
  } catch (error) {
    if (isTimeout(error)) throw new RenderTimeoutError(timeoutMs);
    throw error;
  } finally {
    (watchdogContext as { call: (() => unknown) | null }).call = null;
  }
}
