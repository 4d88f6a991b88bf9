/**
 * Test support: validators of OpenAI's published response types, built with Ajv (JSON Schema
 * 2020-12, which OpenAPI 3.1 uses) from test/data/openai-response-schemas.json (the component
 * schemas of openai/openai-openapi's openapi.json that servellm answers with, unchanged).
 *
 * Owns: compiling them once (3.0-style `nullable` rewritten the 3.1 way), the alignment of vLLM's
 * known deviations from OpenAI's schema, and one assertion per type that names every violation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** The OpenAI response types checked. */
const OPENAI_TYPES = [
  'CreateCompletionResponse',
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'CreateEmbeddingResponse',
  'ErrorResponse',
  'ListModelsResponse',
  'Model',
] as const;
export type OpenAiType = (typeof OPENAI_TYPES)[number];

const SPEC_ID = 'https://openai.spec/openapi.json';

let validators: Map<OpenAiType, ValidateFunction> | null = null;

/**
 * OpenAPI 3.0's `nullable: true` survives in places of this 3.1 document, meaning what it meant
 * in 3.0: null is allowed too. Ajv knows only 3.1, so write it the 3.1 way: null joins `type`
 * (and `enum`); without a `type` the keyword is dropped (any value is allowed there already).
 */
function withoutNullable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullable);
  if (typeof value !== 'object' || value === null) return value;
  const schema: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) schema[key] = withoutNullable(inner);
  if (schema.nullable === true || schema.nullable === false) {
    const nullable = schema.nullable;
    delete schema.nullable;
    if (nullable && schema.type !== undefined) {
      const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
      schema.type = types.includes('null') ? types : [...types, 'null'];
      if (Array.isArray(schema.enum) && !schema.enum.includes(null)) {
        schema.enum = [...(schema.enum as unknown[]), null];
      }
    }
  }
  return schema;
}

function compile(): Map<OpenAiType, ValidateFunction> {
  const file = new URL('../data/openai-response-schemas.json', import.meta.url);
  const data = JSON.parse(readFileSync(file, 'utf8')) as { components: unknown };
  // The spec's own keywords (x-oaiMeta, ...) and formats (unixtime, ...) are not validation.
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: SPEC_ID, components: withoutNullable(data.components) });
  return new Map(
    OPENAI_TYPES.map((type) => [type, ajv.getSchema(`${SPEC_ID}#/components/schemas/${type}`)!]),
  );
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A copy of `body` with the places where vLLM's wire format knowingly differs from OpenAI's
 * schema put in OpenAI's form, each rule matching only the value vLLM sends there:
 * - `usage.prompt_tokens_details: null` (OpenAI: an object, or absent): dropped;
 * - chat `message.function_call: null` and `message.annotations: null` (vLLM's defaults): dropped;
 * - a chat `message.role` other than assistant (vLLM answers with the last message's role, custom
 *   ones included, when add_generation_prompt is false): assistant;
 * - completions `echo` logprobs: the first prompt token's `token_logprobs` and `top_logprobs`
 *   entries are null (it has no logprob): 0 and {};
 * - completion chunks before a choice ends carry `finish_reason: null` (as OpenAI's API does,
 *   though its schema, shared with the whole answer, says string): "stop";
 * - chat `logprobs` objects carry `content` only (OpenAI requires `refusal`, null without one):
 *   `refusal: null` added.
 * Everything else must validate as it is.
 */
export function withVllmDeviationsAligned(body: unknown): unknown {
  if (!isObject(body)) return body;
  const copy = structuredClone(body);
  const usage = copy.usage;
  if (isObject(usage) && usage.prompt_tokens_details === null) delete usage.prompt_tokens_details;
  for (const choice of Array.isArray(copy.choices) ? copy.choices : []) {
    if (!isObject(choice)) continue;
    for (const key of ['message', 'delta']) {
      const message = choice[key];
      if (!isObject(message)) continue;
      if (message.function_call === null) delete message.function_call;
      if (message.annotations === null) delete message.annotations;
      if (key === 'message' && typeof message.role === 'string') message.role = 'assistant';
    }
    const logprobs = choice.logprobs;
    if (isObject(logprobs) && 'content' in logprobs && !('refusal' in logprobs)) {
      logprobs.refusal = null;
    }
    if (isObject(logprobs) && Array.isArray(logprobs.token_logprobs)) {
      if (logprobs.token_logprobs[0] === null) logprobs.token_logprobs[0] = 0;
      const top = logprobs.top_logprobs;
      if (Array.isArray(top) && top[0] === null) top[0] = {};
    }
    if (copy.object === 'text_completion' && choice.finish_reason === null) {
      choice.finish_reason = 'stop';
    }
  }
  return copy;
}

/**
 * Asserts `body` is a valid OpenAI `type` once vLLM's known deviations are aligned
 * (withVllmDeviationsAligned), listing each violation otherwise.
 */
export function assertOpenAiType(type: OpenAiType, body: unknown, what: string = type): void {
  validators ??= compile();
  const validate = validators.get(type)!;
  if (validate(withVllmDeviationsAligned(body))) return;
  const problems = (validate.errors ?? []).map(
    (error) => `${error.instancePath || '/'} ${error.message ?? ''}`,
  );
  assert.fail(
    `${what} is not a valid ${type}:\n  ${problems.join('\n  ')}\n${JSON.stringify(body)}`,
  );
}
