/**
 * Sends one streaming request to an OpenAI-compatible server and times it, as vLLM's
 * `endpoint_request_func`: TTFT from send to the first chunk that carries output, one
 * inter-token latency per later output chunk, the usage chunk's completion_tokens as the output
 * length (else the number of output chunks).
 *
 * Owns: the request body, the HTTP exchange (global fetch, one connection per request), reading
 * the SSE stream, and turning any failure into a failed result with its reason; never throws.
 */
import { performance } from 'node:perf_hooks';
import type { BenchRequest } from './dataset.ts';
import { SseParser } from './sse.ts';

/** The two endpoints the benchmark drives. */
export type BenchEndpoint = '/v1/completions' | '/v1/chat/completions';

/** Where and how requests are sent. */
export interface TargetOptions {
  /** e.g. http://127.0.0.1:8000 (no trailing /v1). */
  readonly baseUrl: string;
  readonly endpoint: BenchEndpoint;
  readonly model: string;
  /** Sent as `Authorization: Bearer`; null = no header. */
  readonly apiKey: string | null;
  /** Sampling temperature; 0 = greedy. */
  readonly temperature: number;
  /** Send `ignore_eos: true` so every request produces exactly its output length. */
  readonly ignoreEos: boolean;
  /** Extra JSON fields merged into every request body (vLLM's `--extra-body`); null = none. */
  readonly extraBody: Readonly<Record<string, unknown>> | null;
}

/** One request's outcome; times in milliseconds. */
export interface RequestResult {
  readonly success: boolean;
  /** Failure reason; '' on success. */
  readonly error: string;
  /** Send to first output chunk; 0 when none arrived. */
  readonly ttftMs: number;
  /** Gaps between consecutive output chunks. */
  readonly itlMs: readonly number[];
  /** Send to the last output chunk. */
  readonly latencyMs: number;
  readonly outputTokens: number;
  /** From the usage chunk, else the request's known input length, else null. */
  readonly promptTokens: number | null;
}

/** The JSON body vLLM's bench client would send for this request. */
export function requestBody(target: TargetOptions, request: BenchRequest): Record<string, unknown> {
  const common = {
    model: target.model,
    temperature: target.temperature,
    stream: true,
    stream_options: { include_usage: true },
    ...(target.ignoreEos ? { ignore_eos: true } : {}),
    ...target.extraBody,
  };
  if (target.endpoint === '/v1/completions') {
    return { ...common, prompt: request.prompt, max_tokens: request.outputLen };
  }
  if (typeof request.prompt !== 'string') {
    throw new Error('token-id prompts need /v1/completions; chat takes text prompts');
  }
  return {
    ...common,
    messages: [{ role: 'user', content: request.prompt }],
    max_completion_tokens: request.outputLen,
  };
}

interface StreamChunk {
  choices?: {
    text?: string | null;
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: unknown[];
    };
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
}

/** Whether a chunk carries generated output (not just a role or a finish reason). */
function hasOutput(chunk: StreamChunk): boolean {
  const choice = chunk.choices?.[0];
  if (choice === undefined) return false;
  if (typeof choice.text === 'string') return choice.text !== '';
  const delta = choice.delta;
  if (delta === undefined) return false;
  return Boolean(
    delta.content || delta.reasoning_content || delta.reasoning || delta.tool_calls?.length,
  );
}

/** Send one request and time it; `signal` aborts it (recorded as a failure). */
export async function runRequest(
  target: TargetOptions,
  request: BenchRequest,
  signal?: AbortSignal,
): Promise<RequestResult> {
  const start = performance.now();
  let ttftMs = 0;
  let last = start;
  const itlMs: number[] = [];
  let chunks = 0;
  let usageOutput: number | null = null;
  let promptTokens = request.inputLen;
  const result = (error: string): RequestResult => ({
    success: error === '',
    error,
    ttftMs,
    itlMs,
    latencyMs: chunks > 0 ? last - start : 0,
    outputTokens: usageOutput ?? chunks,
    promptTokens,
  });
  try {
    const body = JSON.stringify(requestBody(target, request));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.apiKey !== null) headers['authorization'] = `Bearer ${target.apiKey}`;
    const response = await fetch(`${target.baseUrl.replace(/\/+$/, '')}${target.endpoint}`, {
      method: 'POST',
      headers,
      body,
      ...(signal !== undefined ? { signal } : {}),
    });
    if (!response.ok) {
      const text = (await response.text()).slice(0, 500);
      return result(`HTTP ${response.status} ${response.statusText}: ${text}`);
    }
    if (response.body === null) return result('response has no body');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    let done = false;
    const handle = (payload: string): string => {
      if (payload === '[DONE]') {
        done = true;
        return '';
      }
      const chunk = JSON.parse(payload) as StreamChunk;
      if (chunk.error !== undefined) {
        return typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? payload);
      }
      if (hasOutput(chunk)) {
        const now = performance.now();
        if (chunks === 0) ttftMs = now - start;
        else itlMs.push(now - last);
        last = now;
        chunks++;
      }
      if (chunk.usage) {
        if (typeof chunk.usage.completion_tokens === 'number') {
          usageOutput = chunk.usage.completion_tokens;
        }
        if (typeof chunk.usage.prompt_tokens === 'number') promptTokens = chunk.usage.prompt_tokens;
      }
      return '';
    };
    while (!done) {
      const read = (await reader.read()) as { done: boolean; value?: Uint8Array };
      const ended = read.done;
      const payloads = ended
        ? parser.end()
        : parser.push(decoder.decode(read.value, { stream: true }));
      for (const payload of payloads) {
        const error = handle(payload);
        if (error !== '') {
          await reader.cancel();
          return result(`stream error: ${error}`);
        }
        if (done) break;
      }
      if (ended) break;
    }
    if (done) await reader.cancel().catch(() => {});
    if (chunks === 0) return result('Never received a valid chunk to calculate TTFT.');
    return result('');
  } catch (error) {
    if (signal?.aborted) return result('aborted (--max-duration reached)');
    return result(error instanceof Error ? error.message : String(error));
  }
}
