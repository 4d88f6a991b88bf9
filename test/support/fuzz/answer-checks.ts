/**
 * The fuzzing property: what every answer must look like, whatever the request was.
 *
 * Owns: `checkAnswer`: a 4xx carries vLLM's error body (`{"error": {"message", "type", "param",
 * "code"}}`, message a non-empty string, code = status); a 200 parses and has its endpoint's
 * shape (JSON, or SSE frames ending in `[DONE]` whose error events are 4xx too); anything else
 * (a 5xx, a 3xx, an unparsable 200) fails with the reason. The shapes are structural checks,
 * not the contract tests' exact values.
 */
import type { FuzzCase } from './fuzz-case.ts';

/** A response as the fuzzer sees it, whichever transport carried it. */
export interface FuzzAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** A violated property, with the answer that violated it. */
export class FuzzViolation extends Error {
  constructor(reason: string, answer: FuzzAnswer) {
    const body = answer.body.length > 600 ? `${answer.body.slice(0, 600)}...` : answer.body;
    super(`${reason} (status ${answer.status}, ${answer.contentType}): ${body}`);
    this.name = 'FuzzViolation';
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** vLLM's error body; returns why it is not, or null. */
export function errorBodyProblem(body: unknown, status: number): string | null {
  if (!isObject(body) || !isObject(body['error'])) return 'not an {"error": {...}} body';
  const error = body['error'];
  if (typeof error['message'] !== 'string' || error['message'].trim() === '') {
    return 'error.message is not a non-empty string';
  }
  if (typeof error['type'] !== 'string' || error['type'] === '')
    return 'error.type is not a string';
  if (error['param'] !== null && typeof error['param'] !== 'string') {
    return 'error.param is neither a string nor null';
  }
  if (error['code'] !== status) return `error.code ${String(error['code'])} is not ${status}`;
  return null;
}

/** The usage block of a completion or chat answer. */
function usageProblem(usage: unknown): string | null {
  if (!isObject(usage)) return 'usage is not an object';
  const { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total } = usage;
  if (!isCount(prompt) || !isCount(completion) || !isCount(total)) return 'usage counts';
  if ((prompt as number) + (completion as number) !== total) return 'usage does not add up';
  return null;
}

function completionProblem(body: Json): string | null {
  if (body['object'] !== 'text_completion') return 'object is not text_completion';
  const choices = body['choices'];
  if (!Array.isArray(choices) || choices.length === 0) return 'no choices';
  for (const choice of choices) {
    if (!isObject(choice) || !isCount(choice['index']) || typeof choice['text'] !== 'string') {
      return 'a choice without index and text';
    }
    if (!['stop', 'length', 'abort', 'tool_calls'].includes(String(choice['finish_reason']))) {
      return `finish_reason ${String(choice['finish_reason'])}`;
    }
  }
  return usageProblem(body['usage']);
}

function chatProblem(body: Json): string | null {
  if (body['object'] !== 'chat.completion') return 'object is not chat.completion';
  const choices = body['choices'];
  if (!Array.isArray(choices) || choices.length === 0) return 'no choices';
  for (const choice of choices) {
    if (!isObject(choice) || !isCount(choice['index']) || !isObject(choice['message'])) {
      return 'a choice without index and message';
    }
    const message = choice['message'];
    if (typeof message['role'] !== 'string') return 'a message without role';
    if (message['content'] !== null && typeof message['content'] !== 'string') {
      return 'message content is neither text nor null';
    }
    if (!Array.isArray(message['tool_calls'])) return 'message tool_calls is not an array';
  }
  return usageProblem(body['usage']);
}

function embeddingProblem(body: Json): string | null {
  if (body['object'] !== 'list' || !Array.isArray(body['data'])) return 'not an embedding list';
  for (const item of body['data']) {
    if (!isObject(item) || item['object'] !== 'embedding') return 'an item is not an embedding';
    const vector = item['embedding'];
    const ok =
      typeof vector === 'string' ||
      (Array.isArray(vector) && vector.every((x) => typeof x === 'number' && Number.isFinite(x)));
    if (!ok) return 'an embedding is neither floats nor base64';
  }
  return usageProblem(body['usage']);
}

function tokenizeProblem(body: Json): string | null {
  const tokens = body['tokens'];
  if (!Array.isArray(tokens) || !tokens.every(isCount)) return 'tokens is not a list of ids';
  if (body['count'] !== tokens.length) return 'count is not the number of tokens';
  if (!isCount(body['max_model_len'])) return 'max_model_len';
  const texts = body['token_strs'];
  if (texts !== null && !(Array.isArray(texts) && texts.length === tokens.length)) {
    return 'token_strs is neither null nor one text per token';
  }
  return null;
}

/** The JSON shape checks of each POST endpoint (invocations: any endpoint it routes to). */
const JSON_SHAPES: Readonly<Record<string, readonly ((body: Json) => string | null)[]>> = {
  '/v1/completions': [completionProblem],
  '/v1/chat/completions': [chatProblem],
  '/v1/embeddings': [embeddingProblem],
  '/tokenize': [tokenizeProblem],
  '/detokenize': [(body) => (typeof body['prompt'] === 'string' ? null : 'prompt')],
  '/invocations': [chatProblem, completionProblem, embeddingProblem],
};

/** The chunk objects each streaming endpoint sends. */
const CHUNK_OBJECTS: Readonly<Record<string, readonly string[]>> = {
  '/v1/completions': ['text_completion'],
  '/v1/chat/completions': ['chat.completion.chunk'],
  '/invocations': ['text_completion', 'chat.completion.chunk'],
};

/** The first shape the body has, or the problems of each. */
function shapeProblem(checks: readonly ((body: Json) => string | null)[], body: Json) {
  const problems = checks.map((check) => check(body));
  return problems.includes(null) ? null : problems.join(' / ');
}

/** An SSE body: frames of `data: <json>`, the last `[DONE]`; chunks of the endpoint, 4xx errors. */
function streamProblem(path: string, body: string): string | null {
  const objects = CHUNK_OBJECTS[path];
  if (objects === undefined) return 'this endpoint does not stream';
  if (!body.endsWith('data: [DONE]\n\n')) return 'the stream does not end with [DONE]';
  const frames = body.slice(0, -2).split('\n\n');
  for (const frame of frames.slice(0, -1)) {
    if (!frame.startsWith('data: ')) return `not a data frame: ${frame.slice(0, 80)}`;
    let event: unknown;
    try {
      event = JSON.parse(frame.slice(6));
    } catch {
      return `a frame is not JSON: ${frame.slice(0, 80)}`;
    }
    if (!isObject(event)) return 'a frame is not an object';
    if ('error' in event) {
      const error = event['error'];
      const code = isObject(error) ? error['code'] : undefined;
      if (typeof code !== 'number' || code < 400 || code >= 500) {
        return `an in-stream error with code ${String(code)}`;
      }
      const problem = errorBodyProblem(event, code);
      if (problem !== null) return `in-stream error: ${problem}`;
      continue;
    }
    if (!objects.includes(String(event['object'])))
      return `chunk object ${String(event['object'])}`;
    if (!Array.isArray(event['choices'])) return 'a chunk without choices';
  }
  return null;
}

/** The 200 of a GET route. */
function getProblem(path: string, answer: FuzzAnswer): string | null {
  if (path === '/health' || path === '/ping') return answer.body === '' ? null : 'non-empty body';
  if (path === '/metrics' || path === '/docs' || path === '/redoc') return null;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return 'the body is not JSON';
  }
  if (!isObject(body)) return 'the body is not an object';
  if (path === '/v1/models') return body['object'] === 'list' ? null : 'not a model list';
  if (path.startsWith('/v1/models/')) return body['object'] === 'model' ? null : 'not a model';
  if (path === '/version') return typeof body['version'] === 'string' ? null : 'no version';
  if (path === '/load') return isCount(body['server_load']) ? null : 'no server_load';
  if (path === '/openapi.json') return typeof body['openapi'] === 'string' ? null : 'no openapi';
  return `unexpected 200 from ${path}`;
}

/** The 200 of a POST endpoint. */
function postProblem(path: string, answer: FuzzAnswer): string | null {
  if (answer.contentType.startsWith('text/event-stream')) return streamProblem(path, answer.body);
  if (path === '/ping') return answer.body === '' ? null : 'non-empty body';
  const checks = JSON_SHAPES[path];
  if (checks === undefined) return `unexpected 200 from POST ${path}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return 'the body is not JSON';
  }
  return isObject(body) ? shapeProblem(checks, body) : 'the body is not an object';
}

/** Throws FuzzViolation unless `answer` is a correct 200 or a 4xx with vLLM's error body. */
export function checkAnswer(fuzzCase: FuzzCase, answer: FuzzAnswer): void {
  const path = fuzzCase.path;
  if (answer.status === 200) {
    const problem =
      fuzzCase.method === 'GET' ? getProblem(path, answer) : postProblem(path, answer);
    if (problem !== null) throw new FuzzViolation(`a 200 of the wrong shape: ${problem}`, answer);
    return;
  }
  if (answer.status < 400 || answer.status >= 500) {
    throw new FuzzViolation(`status ${answer.status} is neither 200 nor 4xx`, answer);
  }
  if (!answer.contentType.startsWith('application/json')) {
    throw new FuzzViolation('a 4xx that is not JSON', answer);
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    throw new FuzzViolation('a 4xx whose body is not JSON', answer);
  }
  const problem = errorBodyProblem(body, answer.status);
  if (problem !== null) throw new FuzzViolation(`a 4xx without the error body: ${problem}`, answer);
}
