/**
 * `POST /v1/embeddings` (vLLM's embedding endpoint), and vLLM's refusals where the model does
 * not fit the endpoint: a generation model answers the embeddings route, an embedding model the
 * completions and chat routes, with "The model does not support <API>".
 *
 * Owns: the inputs' tokens: the completion form's `input` (`add_special_tokens` default true),
 * or the chat form's `messages` rendered by the chat completions' `renderChatPrompt` into one
 * input (`add_generation_prompt` and `add_special_tokens` default false, template controls
 * checked as /tokenize checks them); `truncate_prompt_tokens` (k tokens of each input, -1 = the
 * context; `truncation_side` left, the default, keeps the last k) and the context-length check,
 * with vLLM's messages;
 * `dimensions` (GGUF models declare no Matryoshka dimensions: refused as vLLM refuses a
 * non-Matryoshka model); and the answer: normalized vectors as floats or as base64 of
 * little-endian float32, usage counting the input tokens.
 */
import type { FastifyInstance } from 'fastify';
import type { EmbeddingRunner } from '../../engine/embedding-runner.ts';
import { BadRequestError } from '../errors.ts';
import { assertJsonMediaType } from '../json-body.ts';
import { checkTemplateControls } from '../params/chat-checks.ts';
import { renderChatPrompt } from '../params/chat-params.ts';
import { checkTokenIds } from '../params/context-limit.ts';
import { keepTokens } from '../params/prompt-truncation.ts';
import { parseRequest } from '../schemas/parse-request.ts';
import {
  embeddingChatSchema,
  embeddingCompletionSchema,
  isEmbeddingChat,
  type EmbeddingChatRequest,
  type EmbeddingCompletionRequest,
  type EmbeddingRequest,
} from '../schemas/embedding-request.ts';
import { randomHex, requestIdHeader, unixSeconds } from '../served-models.ts';
import type { ServingBasics } from '../serving-context.ts';

/** The token ids of each input of the completion form. */
function inputTokens(request: EmbeddingCompletionRequest, context: ServingBasics): number[][] {
  const { input } = request;
  const options = { addSpecial: request.add_special_tokens ?? true, parseSpecial: true };
  const texts = typeof input === 'string' ? [input] : input;
  if (texts.length === 0) throw new BadRequestError('Input cannot be empty', 'input');
  if (texts.every((item) => typeof item === 'number')) return [texts];
  return (texts as (string | number[])[]).map((item) =>
    typeof item === 'string' ? context.plan.tokenizer.tokenize(item, options) : [...item],
  );
}

/** The one input of the chat form: the conversation rendered through the chat template. */
function chatTokens(request: EmbeddingChatRequest, context: ServingBasics): number[][] {
  const addGenerationPrompt = request.add_generation_prompt ?? false;
  checkTemplateControls({ ...request, add_generation_prompt: addGenerationPrompt });
  return [renderChatPrompt(request, context.plan, addGenerationPrompt)];
}

/**
 * Each input cut to `truncate_prompt_tokens` as vLLM's pooling endpoints cut it: -1 means the
 * whole context, more than the context is a 400, `left` (the default) keeps the last tokens.
 */
function truncateInputs(inputs: number[][], request: EmbeddingRequest, limit: number): number[][] {
  const requested = request.truncate_prompt_tokens ?? null;
  if (requested === null) return inputs;
  const size = requested === -1 ? limit : requested;
  if (size > limit) {
    throw new BadRequestError(
      `truncate_prompt_tokens value (${requested}) is greater than max_model_len (${limit}). Please, select a smaller truncation size.`,
      'truncate_prompt_tokens',
    );
  }
  return inputs.map((tokens) => keepTokens(tokens, size, request.truncation_side));
}

/** The request in its form: chat when it has `messages` and no `input`. */
function parseEmbeddingRequest(body: unknown): EmbeddingRequest {
  return isEmbeddingChat(body)
    ? parseRequest(embeddingChatSchema, body)
    : parseRequest(embeddingCompletionSchema, body);
}

/** Little-endian float32 bytes, base64: what vLLM's `encoding_format: "base64"` sends. */
function base64Floats(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

/** Registers `POST /v1/embeddings` over `runner`. */
export function registerEmbeddingsRoute(
  app: FastifyInstance,
  context: ServingBasics,
  runner: EmbeddingRunner,
): void {
  app.post('/v1/embeddings', async (request) => {
    assertJsonMediaType(request.headers['content-type']);
    const body = parseEmbeddingRequest(request.body);
    const model = context.models.resolve(body.model);
    if (body.dimensions !== null && body.dimensions !== undefined) {
      throw new BadRequestError(
        `Model "${model}" does not support matryoshka representation, changing output dimensions will lead to poor results.`,
        'dimensions',
      );
    }
    const limit = Math.min(context.plan.maxModelLen, runner.maxInputTokens);
    const inputs = truncateInputs(
      'messages' in body ? chatTokens(body, context) : inputTokens(body, context),
      body,
      limit,
    );
    for (const tokens of inputs) {
      if (tokens.length === 0) throw new BadRequestError('Input cannot be empty', 'input');
      checkTokenIds(tokens, context.plan.vocabSize, 'input');
      if (tokens.length > limit) {
        throw new BadRequestError(
          `This model's maximum context length is ${limit} tokens. However, you requested ${tokens.length} tokens in the input for embedding generation. Please reduce the length of the input.`,
          'input',
        );
      }
    }
    const vectors = await runner.embed(inputs);
    const promptTokens = inputs.reduce((sum, tokens) => sum + tokens.length, 0);
    const base64 = body.encoding_format === 'base64';
    const base = requestIdHeader(request.headers) ?? body.request_id ?? randomHex();
    return {
      id: `embd-${base}`,
      object: 'list',
      created: unixSeconds(),
      model,
      data: vectors.map((vector, index) => ({
        index,
        object: 'embedding',
        embedding: base64 ? base64Floats(vector) : Array.from(vector),
      })),
      usage: {
        prompt_tokens: promptTokens,
        total_tokens: promptTokens,
        completion_tokens: 0,
        prompt_tokens_details: null,
      },
    };
  });
}

/** vLLM's answer where the model does not serve an endpoint's task. */
export function registerUnsupportedRoutes(
  app: FastifyInstance,
  routes: readonly { readonly url: string; readonly api: string }[],
): void {
  for (const { url, api } of routes) {
    app.post(url, () => {
      throw new BadRequestError(`The model does not support ${api} API`);
    });
  }
}
