/**
 * The OpenAPI 3.1 document of the server (`GET /openapi.json`), generated from the same zod
 * schemas that validate requests, so the two cannot drift apart.
 *
 * Owns: the list of documented operations and their request bodies (each schema's input shape as
 * JSON Schema 2020-12, which OpenAPI 3.1 uses), the error response shape, and the document's
 * info. Response bodies other than errors are described by their media type only.
 */
import { z } from 'zod';
import { chatRequestSchema } from '../schemas/chat-request.ts';
import { completionRequestSchema } from '../schemas/completion-request.ts';
import { embeddingRequestSchema } from '../schemas/embedding-request.ts';
import {
  detokenizeSchema,
  tokenizeChatSchema,
  tokenizeCompletionSchema,
} from '../schemas/tokenize-request.ts';

type JsonObject = Record<string, unknown>;

/** A request body's JSON Schema: what a client may send (fields before defaults and parsing). */
function bodySchema(schema: z.ZodType): JsonObject {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  delete json['$schema'];
  return json;
}

const ERROR_RESPONSE: JsonObject = {
  description: 'An error in the OpenAI shape',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['message', 'type', 'code'],
            properties: {
              message: { type: 'string' },
              type: { type: 'string' },
              param: { type: ['string', 'null'] },
              code: { type: 'integer' },
            },
          },
        },
      },
    },
  },
};

function errors(...codes: number[]): JsonObject {
  return Object.fromEntries(
    codes.map((code) => [String(code), { $ref: '#/components/responses/Error' }]),
  );
}

function post(summary: string, schema: JsonObject, answer: string): JsonObject {
  return {
    post: {
      summary,
      requestBody: { required: true, content: { 'application/json': { schema } } },
      responses: {
        '200': {
          description: answer,
          content: { 'application/json': {}, 'text/event-stream': {} },
        },
        ...errors(400, 401, 404, 500),
      },
    },
  };
}

function get(summary: string, media: string, extra: JsonObject = {}): JsonObject {
  return {
    get: {
      summary,
      responses: { '200': { description: summary, content: { [media]: {} } }, ...extra },
    },
  };
}

/** The whole document, for `version` (the server's); `metrics` when /metrics is served. */
export function openApiDocument(version: string, metrics: boolean): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'servellm',
      version,
      description: "vLLM's OpenAI-compatible server, in TypeScript over llama.cpp's kernels.",
    },
    paths: {
      '/v1/completions': post(
        'Create a completion',
        bodySchema(completionRequestSchema),
        'A completion, or its chunks as server-sent events when streaming',
      ),
      '/v1/chat/completions': post(
        'Create a chat completion',
        bodySchema(chatRequestSchema),
        'A chat completion, or its chunks as server-sent events when streaming',
      ),
      '/v1/embeddings': post(
        'Create embeddings (embedding models)',
        bodySchema(embeddingRequestSchema),
        'The normalized pooled embedding of each input',
      ),
      '/invocations': post(
        "SageMaker: a chat completion, completion or embeddings request (the model's types)",
        {
          anyOf: [
            bodySchema(chatRequestSchema),
            bodySchema(completionRequestSchema),
            bodySchema(embeddingRequestSchema),
          ],
        },
        'The answer of the endpoint whose request type the body validates as',
      ),
      '/tokenize': post(
        'Tokenize a prompt or chat messages',
        { anyOf: [bodySchema(tokenizeCompletionSchema), bodySchema(tokenizeChatSchema)] },
        '{count, max_model_len, tokens, token_strs}',
      ),
      '/detokenize': post('Detokenize token ids', bodySchema(detokenizeSchema), '{prompt}'),
      '/v1/models': get('List the served model names', 'application/json'),
      '/v1/models/{model}': {
        get: {
          summary: 'Retrieve one served model name',
          parameters: [{ name: 'model', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'A model card', content: { 'application/json': {} } },
            ...errors(404),
          },
        },
      },
      '/health': get('200 while the server runs', 'text/plain'),
      '/ping': get('As /health (SageMaker)', 'text/plain'),
      '/version': get('The server version', 'application/json'),
      '/load': get('Generation requests in flight', 'application/json'),
      ...(metrics ? { '/metrics': get('Prometheus metrics', 'text/plain') } : {}),
    },
    components: { responses: { Error: ERROR_RESPONSE } },
  };
}
