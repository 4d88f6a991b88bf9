/**
 * Server-sent events exactly as vLLM frames them.
 *
 * Owns: `data: <json>\n\n` per chunk, cumulative usage on every chunk with
 * continuous_usage_stats, the `choices: []` usage chunk with include_usage, an error that
 * happens after the 200 as one `data: {"error": {...}}` event (the same body a 4xx/5xx would
 * carry), and the closing `data: [DONE]\n\n` in every case. Sending: `text/event-stream` written
 * straight to the socket, one write per frame, pulling no more frames once the client is gone.
 */
import type { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { StreamMode } from '../params/request-checks.ts';
import { errorResponse } from '../errors.ts';
import type { Usage, UsageChunk } from '../wire-types.ts';
import type { StreamEvent } from './stream-events.ts';

/** The frame that ends every stream. */
export const DONE_FRAME = 'data: [DONE]\n\n';

/** One SSE event carrying `payload` as JSON. */
export function sseFrame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** How an event stream becomes SSE frames. */
export interface SseOptions {
  readonly mode: StreamMode;
  /** Builds the final usage chunk (sent only with include_usage). */
  readonly usageChunk: (usage: Usage) => UsageChunk;
  /** Told about an error that is sent in-stream (for logging). */
  readonly onError: (error: unknown) => void;
}

/** The SSE frames of an event stream, ending with [DONE] whatever happens. */
export async function* sseFrames<Chunk extends object>(
  events: AsyncIterable<StreamEvent<Chunk>>,
  options: SseOptions,
): AsyncGenerator<string> {
  try {
    for await (const event of events) {
      if (event.type === 'usage') {
        if (options.mode.includeUsage) yield sseFrame(options.usageChunk(event.usage));
      } else {
        const chunk = options.mode.continuousUsage
          ? { ...event.chunk, usage: event.usage }
          : event.chunk;
        yield sseFrame(chunk);
      }
    }
  } catch (error) {
    options.onError(error);
    yield sseFrame(errorResponse(error).body);
  }
  yield DONE_FRAME;
}

/**
 * Answers 200 with `frames` as an event stream, written straight to the socket: one write per
 * frame as it is produced, no stream pipeline in between (the frames are pulled by `pumpFrames`).
 * The headers go out at once (as vLLM's do), not with the first event, so a client sees its
 * stream open while the request is still queued. Fastify's reply is hijacked: its send path and
 * onSend hooks do not run for this response.
 */
export function sendSse(reply: FastifyReply, frames: AsyncIterable<string>): FastifyReply {
  const response = reply.raw;
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) response.setHeader(name, value);
  }
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  response.flushHeaders();
  void pumpFrames(response, frames);
  return reply;
}

/** Resolves when `target` can take more data, or has closed. */
function writable(target: ServerResponse | Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      target.off('drain', done);
      target.off('close', done);
      resolve();
    };
    target.on('drain', done);
    target.on('close', done);
  });
}

/**
 * The socket to write this response's chunks to ourselves, or null when Node must frame them.
 * Direct writes need a chunked response (HTTP/1.1) whose headers are out and that owns a real
 * connection (a pipelined response waiting for its turn has no socket yet; an injected test
 * request has a stand-in that is no net.Socket and captures `response.write`). `response.write` costs about
 * twice the JavaScript of one `socket.write`: it corks the socket, frames the chunk in four
 * writes and uncorks on the next tick (a writev); at one running request that is a tenth of the
 * host time per token.
 */
function directSocket(response: ServerResponse): Socket | null {
  const socket = response.socket;
  if (!(socket instanceof Socket) || !response.chunkedEncoding || !response.headersSent) {
    return null;
  }
  return socket;
}

/** `frame` as one HTTP/1.1 chunk: its UTF-8 length in hex, CRLF, the data, CRLF. */
export function httpChunk(frame: string): string {
  return `${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`;
}

/** Write every frame as it comes; stop pulling (which aborts the generation) once the client is gone. */
async function pumpFrames(response: ServerResponse, frames: AsyncIterable<string>): Promise<void> {
  try {
    const socket = directSocket(response);
    // Leaving the loop early (return, throw) closes the frame generator.
    for await (const frame of frames) {
      if (response.destroyed || socket?.destroyed === true) return;
      if (socket !== null) {
        if (!socket.write(httpChunk(frame))) await writable(socket);
      } else if (!response.write(frame)) {
        await writable(response);
      }
    }
    // Node writes the last chunk (0 CRLF CRLF) and finishes the response.
    response.end();
  } catch {
    response.destroy();
  }
}
