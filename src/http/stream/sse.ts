/**
 * Server-sent events exactly as vLLM frames them.
 *
 * Owns: `data: <json>\n\n` per chunk, cumulative usage on every chunk with
 * continuous_usage_stats, the `choices: []` usage chunk with include_usage, an error that
 * happens after the 200 as one `data: {"error": {...}}` event (the same body a 4xx/5xx would
 * carry), and the closing `data: [DONE]\n\n` in every case. Sending: `text/event-stream` written
 * straight to the socket, one write per frame, pulling no more frames once the client is gone,
 * and the per-connection bound on unsent bytes: the frames are written as the engine produces
 * them (the engine never waits for a client); a client that does not read them as fast has its
 * request aborted and its connection closed once more than the bound waits in the socket.
 */
import type { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { StreamMode } from '../params/request-checks.ts';
import { errorResponse } from '../errors.ts';
import type { Usage, UsageChunk } from '../wire-types.ts';
import type { StreamEvent } from './stream-events.ts';

/**
 * Default most unsent bytes a stream's connection may hold (`--max-stream-buffer`) beyond what
 * the kernel's socket buffers take (a few MB on Linux): far above what a client that reads
 * keeps behind (a frame is 0.1-10 kB, a few hundred come per second), small enough that a
 * thousand stalled clients cannot exhaust the memory.
 */
export const DEFAULT_MAX_STREAM_BUFFER = 4 * 1024 * 1024;

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
 * onSend hooks do not run for this response. When more than `maxBufferBytes` wait unsent, the
 * client is not reading: the stream stops (its requests are aborted) and the connection closes.
 */
export function sendSse(
  reply: FastifyReply,
  frames: AsyncIterable<string>,
  maxBufferBytes: number = DEFAULT_MAX_STREAM_BUFFER,
): FastifyReply {
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
  const dropped = (unsentBytes: number): void =>
    reply.log.warn(
      { unsentBytes, maxBufferBytes },
      'the client is not reading its stream: request aborted, connection closed',
    );
  void pumpFrames(response, frames, maxBufferBytes, dropped);
  return reply;
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

/**
 * Write every frame as it comes, never waiting for the client; stop pulling (which aborts the
 * generation) once the client is gone, or once more than `maxBufferBytes` wait unsent (then
 * `dropped` is told and the connection is destroyed).
 */
async function pumpFrames(
  response: ServerResponse,
  frames: AsyncIterable<string>,
  maxBufferBytes: number,
  dropped: (unsentBytes: number) => void,
): Promise<void> {
  try {
    const socket = directSocket(response);
    // Leaving the loop early (return, throw) closes the frame generator.
    for await (const frame of frames) {
      if (response.destroyed || socket?.destroyed === true) return;
      let unsent: number;
      if (socket !== null) {
        socket.write(httpChunk(frame));
        unsent = socket.writableLength;
      } else {
        response.write(frame);
        unsent = response.writableLength;
      }
      if (unsent > maxBufferBytes) {
        dropped(unsent);
        response.destroy();
        return;
      }
    }
    // Node writes the last chunk (0 CRLF CRLF) and finishes the response.
    response.end();
  } catch {
    response.destroy();
  }
}
