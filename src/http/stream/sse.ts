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

/** Resolves when `response` can take more data, or has closed. */
function writable(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** Write every frame as it comes; stop pulling (which aborts the generation) once the client is gone. */
async function pumpFrames(response: ServerResponse, frames: AsyncIterable<string>): Promise<void> {
  try {
    // Leaving the loop early (return, throw) closes the frame generator.
    for await (const frame of frames) {
      if (response.destroyed) return;
      if (!response.write(frame)) await writable(response);
    }
    response.end();
  } catch {
    response.destroy();
  }
}
