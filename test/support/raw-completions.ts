/**
 * Test support: `POST /v1/completions` (or `/v1/chat/completions`) over a raw `node:http`
 * request, one fresh connection per call, timed and cancellable at any point.
 *
 * Owns: sending one completion request, reading its answer (an SSE stream or a JSON body) into
 * the assembled text, the finish reasons and the timings (connect, response headers, first
 * token, end), and cancelling it by destroying the connection from a hook. The load tests
 * (overload, disconnects) drive many of these at once; nothing here asserts.
 */
import { request } from 'node:http';

/** How one call went. Times are `performance.now()` milliseconds. */
export interface CompletionResult {
  /** The HTTP status, or 0 when no response came (connection error or cancelled first). */
  readonly status: number;
  readonly contentType: string | undefined;
  readonly retryAfter: string | undefined;
  /** The choices' text, concatenated in arrival order (one choice per call here). */
  readonly text: string;
  readonly finishReasons: readonly string[];
  /** A stream ended with `data: [DONE]`. */
  readonly done: boolean;
  /** A JSON body (an answer or an error), or null for a stream. */
  readonly json: unknown;
  /** The hook cancelled it (the test closed the connection). */
  readonly cancelled: boolean;
  /** The connection failed or closed before the answer was complete, and not by a cancel. */
  readonly failure: string | null;
  readonly startMs: number;
  readonly connectMs: number | null;
  /** The connection's local port (the server sees it as the remote port), or null. */
  readonly localPort: number | null;
  readonly headersMs: number | null;
  /** First chunk with text (a stream), or the end (a JSON answer). */
  readonly firstTokenMs: number | null;
  readonly endMs: number;
}

/** What a hook may do: close the connection now. */
export type Cancel = () => void;

/** Where and how to send a call. */
export interface CallOptions {
  /** Default `/v1/completions`. */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Hooks into one call; each may cancel it. */
export interface CompletionHooks {
  /** The response headers arrived. */
  readonly onHeaders?: (cancel: Cancel) => void;
  /** One SSE event: its parsed JSON, or the string `[DONE]`. */
  readonly onEvent?: (payload: unknown, cancel: Cancel) => void;
}

interface ChoiceDelta {
  readonly text?: string;
  /** A chat chunk's delta, or a chat answer's message. */
  readonly delta?: { readonly content?: string | null };
  readonly message?: { readonly content?: string | null };
  readonly finish_reason?: string | null;
}

/** The text and finish reasons of a completion chunk or answer. */
function choicesOf(payload: unknown): readonly ChoiceDelta[] {
  if (typeof payload !== 'object' || payload === null || !('choices' in payload)) return [];
  const choices = payload.choices;
  return Array.isArray(choices) ? (choices as ChoiceDelta[]) : [];
}

/** Sends `body` to `baseUrl` + `options.path` on a fresh connection and reads the whole answer. */
export function postCompletion(
  baseUrl: string,
  body: Readonly<Record<string, unknown>>,
  hooks: CompletionHooks = {},
  options: CallOptions = {},
): Promise<CompletionResult> {
  const url = new URL(options.path ?? '/v1/completions', baseUrl);
  const payload = JSON.stringify(body);
  const startMs = performance.now();
  let connectMs: number | null = null;
  let localPort: number | null = null;
  let headersMs: number | null = null;
  let firstTokenMs: number | null = null;
  let status = 0;
  let contentType: string | undefined;
  let retryAfter: string | undefined;
  let text = '';
  const finishReasons: string[] = [];
  let done = false;
  let json: unknown = null;
  let cancelled = false;
  let failure: string | null = null;

  return new Promise((resolve) => {
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      resolve({
        status,
        contentType,
        retryAfter,
        text,
        finishReasons,
        done,
        json,
        cancelled,
        failure: cancelled ? null : failure,
        startMs,
        connectMs,
        localPort,
        headersMs,
        firstTokenMs,
        endMs: performance.now(),
      });
    };
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: {
        ...options.headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      },
    });
    const cancel: Cancel = () => {
      if (settled || cancelled) return;
      cancelled = true;
      req.destroy();
      finish();
    };
    const take = (event: unknown): void => {
      for (const choice of choicesOf(event)) {
        const piece = choice.text ?? choice.delta?.content ?? choice.message?.content ?? '';
        if (piece !== '') {
          firstTokenMs ??= performance.now();
          text += piece;
        }
        if (choice.finish_reason != null) finishReasons.push(choice.finish_reason);
      }
    };
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        connectMs = performance.now();
        localPort = socket.localPort ?? null;
      });
    });
    req.on('error', (error) => {
      failure ??= error.message;
      finish();
    });
    req.on('response', (response) => {
      headersMs = performance.now();
      status = response.statusCode ?? 0;
      contentType = response.headers['content-type'];
      const retry = response.headers['retry-after'];
      retryAfter = typeof retry === 'string' ? retry : undefined;
      const streaming = contentType?.startsWith('text/event-stream') === true;
      hooks.onHeaders?.(cancel);
      response.setEncoding('utf8');
      let buffered = '';
      response.on('data', (data: string) => {
        if (settled) return;
        buffered += data;
        if (!streaming) return;
        let end: number;
        while (!settled && (end = buffered.indexOf('\n\n')) >= 0) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (!frame.startsWith('data: ')) continue;
          const data = frame.slice('data: '.length);
          const event: unknown = data === '[DONE]' ? data : JSON.parse(data);
          if (event === '[DONE]') done = true;
          else take(event);
          hooks.onEvent?.(event, cancel);
        }
      });
      response.on('end', () => {
        if (!streaming && buffered !== '') {
          try {
            json = JSON.parse(buffered);
            take(json);
            firstTokenMs ??= performance.now();
          } catch {
            failure = `not JSON: ${buffered.slice(0, 200)}`;
          }
        }
        finish();
      });
      response.on('error', (error) => {
        failure ??= error.message;
        finish();
      });
      response.on('close', () => {
        if (!response.complete) failure ??= 'the connection closed before the answer was complete';
        finish();
      });
    });
    req.end(payload);
  });
}

/** The greedy successor text of `prompt`'s last letter: the next `count` letters, a..z cycling. */
export function lettersAfter(prompt: string, count: number): string {
  const start = prompt.charCodeAt(prompt.length - 1) - 97;
  return Array.from({ length: count }, (_, i) =>
    String.fromCharCode(97 + ((start + 1 + i) % 26)),
  ).join('');
}

/** The `q`-quantile (0..1) of `values` (nearest rank), or NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
